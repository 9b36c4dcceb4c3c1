/**
 * Core Kubernetes kinds are validated with kubernetes-models (generated from the Kubernetes OpenAPI
 * schema): required fields, types and enums. It lets unknown fields through, so builders of core kinds
 * are typed with @pulumi/kubernetes input types and the compiler rejects unknown fields.
 */
type Validator = new (data: unknown) => { validate(): void };

const MODULES: Record<string, string> = {
  v1: "kubernetes-models/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "storage.k8s.io/v1": "kubernetes-models/storage.k8s.io/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
};

const loaded = new Map<string, Record<string, unknown>>();

export function isCoreKind(apiVersion: string): boolean {
  return apiVersion in MODULES;
}

/** Problems with one core object; throws for a core apiVersion the table doesn't know. */
export async function validateCoreObject(
  object: { apiVersion: string; kind: string },
  opts: { partial?: boolean } = {},
): Promise<string[]> {
  const moduleName = MODULES[object.apiVersion];
  if (!moduleName) throw new Error(`no core schema module for ${object.apiVersion}`);
  if (!loaded.has(moduleName)) loaded.set(moduleName, (await import(moduleName)) as Record<string, unknown>);
  const ctor = loaded.get(moduleName)![object.kind] as Validator | undefined;
  if (!ctor) return [`${object.apiVersion}/${object.kind}: unknown kind`];
  // Secret payloads are masked in the recording ("[secret]"); their shape is fixed by the builder.
  const data = object as Record<string, unknown>;
  const unmasked = {
    ...data,
    ...(data.stringData === "[secret]" ? { stringData: {} } : {}),
    ...(data.data === "[secret]" ? { data: {} } : {}),
  };
  try {
    new ctor(unmasked).validate();
    return [];
  } catch (err) {
    // A partial object (server-side apply patch) omits what the object it patches already has.
    const problems = String((err as Error).message)
      .split(", ")
      .filter((p) => !(opts.partial && /must have required property/.test(p)));
    return problems.length > 0 ? [problems.join(", ")] : [];
  }
}
