/**
 * Puts a plan on a cluster the way `pulumi up` would, in the plan's dependency order: each Helm release
 * rendered by real Helm and its objects applied in Helm's install order (CRDs first, then hooks and
 * objects), waiting for its workloads like `helm install --wait`; then every planned object. Everything
 * goes through server-side apply with strict field validation, and every planned field must come back
 * as sent. Failures name the object, the field and the server's message; the run goes on so one pass
 * reports every problem.
 */
import type { Plan } from "../tools/planRunner";
import type { RecordedResource } from "../tools/mockRuntime";
import { fieldDifferences } from "./compare";
import { renderRelease, RenderError, type ReleaseToRender } from "./helm";
import { ApiError, Kube, waitFor, type KubeObject } from "./kube";
import { deployOrder, MANIFEST_TYPE, RELEASE_TYPE } from "./order";
import { localManifest } from "./manifests";

/** Kinds in the order Helm installs them (helm pkg/releaseutil/kind_sorter.go InstallOrder). */
const HELM_INSTALL_ORDER = [
  "PriorityClass",
  "Namespace",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodSecurityPolicy",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "SecretList",
  "ConfigMap",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleList",
  "ClusterRoleBinding",
  "ClusterRoleBindingList",
  "Role",
  "RoleList",
  "RoleBinding",
  "RoleBindingList",
  "Service",
  "DaemonSet",
  "Pod",
  "ReplicationController",
  "ReplicaSet",
  "Deployment",
  "HorizontalPodAutoscaler",
  "StatefulSet",
  "Job",
  "CronJob",
  "IngressClass",
  "Ingress",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
];

const WEBHOOK_KINDS = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

/**
 * Who serves a chart's webhooks and aggregated APIs. The charts point them at in-cluster Services whose
 * pods are fake here; a backend rewires one to the real server running as a local process, or says
 * why nothing serves it (then it is left out and reported, never silently dropped).
 */
export interface Backends {
  /** After a release's own objects are applied: start the real controllers it runs (its webhooks' servers). */
  startFor?(release: string, chart: string, rendered: readonly KubeObject[], kube: Kube): Promise<void>;
  rewire(release: string, obj: KubeObject): { object: KubeObject } | { skipped: string };
  /** After the rewired webhooks and APIServices are applied: route their Services to the local servers. */
  routeServices?(kube: Kube, rendered: readonly KubeObject[]): Promise<void>;
  /** After that: the release's local servers are reachable, so its pods may report Ready. */
  markStartedReady?(release: string, kube: Kube): Promise<void>;
  /** After a planned object is applied: start what it makes an operator install; returns errors. */
  afterApply?(obj: KubeObject, kube: Kube): Promise<string[]>;
}

/** A real cluster (E2E_KUBECONFIG): the charts' own pods serve their webhooks; apply them as rendered. */
export const IN_CLUSTER_BACKENDS: Backends = { rewire: (_release, obj) => ({ object: obj }) };

export const NO_BACKENDS: Backends = {
  rewire: (_release, obj) => ({ skipped: `no server for ${obj.kind} ${obj.metadata.name} runs in this e2e` }),
};

export interface DeployReport {
  readonly errors: string[];
  readonly notes: string[];
  readonly applied: { chartObjects: number; plannedObjects: number; releases: number };
  /** Planned objects as the server stored them, by plan resource name. */
  readonly stored: Map<string, KubeObject>;
}

export interface DeployOptions {
  readonly helm: string;
  readonly kubeVersion: string;
  readonly backends?: Backends;
  /** Cap on each release's wait (the plan's Helm timeouts are sized for real image pulls). */
  readonly maxWaitSeconds?: number;
  readonly log?: (line: string) => void;
}

function kindRank(kind: string): number {
  const i = HELM_INSTALL_ORDER.indexOf(kind);
  return i === -1 ? HELM_INSTALL_ORDER.length : i;
}

export function describeObject(o: Pick<KubeObject, "apiVersion" | "kind" | "metadata">): string {
  return `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name ?? "?"}`;
}

/** The cluster's API versions as `helm install` sees them (group/version and group/version/Kind). */
export async function apiVersions(kube: Kube): Promise<string[]> {
  const out = new Set<string>();
  const core = await kube.request<{ versions: string[] }>("GET", "/api");
  const groups = await kube.request<{ groups: Array<{ versions: Array<{ groupVersion: string }> }> }>(
    "GET",
    "/apis",
  );
  const gvs = [...core.versions, ...groups.groups.flatMap((g) => g.versions.map((v) => v.groupVersion))];
  for (const gv of gvs) {
    out.add(gv);
    const base = gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`;
    const list = await kube
      .request<{ resources: Array<{ name: string; kind: string }> }>("GET", base)
      .catch(() => ({ resources: [] }));
    for (const r of list.resources) if (!r.name.includes("/")) out.add(`${gv}/${r.kind}`);
  }
  return [...out].sort();
}

async function ensureNamespace(kube: Kube, name: string): Promise<void> {
  if (!(await kube.get("v1", "Namespace", name)))
    await kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

function errorText(err: unknown): string {
  return err instanceof ApiError
    ? `${err.reason ? `${err.reason}: ` : ""}${err.message}`
    : err instanceof Error
      ? err.message
      : String(err);
}

type Conditions = Array<{ type: string; status: string }>;

/** Whether a workload is ready by Helm's --wait rules (helm pkg/kube/ready.go). */
export function workloadReady(o: KubeObject): boolean {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const status = (o.status ?? {}) as Record<string, number | undefined> & { conditions?: Conditions };
  const generationSeen =
    (status.observedGeneration ?? 0) >= ((o.metadata as { generation?: number }).generation ?? 0);
  switch (o.kind) {
    case "Deployment": {
      const replicas = (spec.replicas as number | undefined) ?? 1;
      return (
        generationSeen &&
        (status.updatedReplicas ?? 0) >= replicas &&
        (status.availableReplicas ?? 0) >= replicas
      );
    }
    case "StatefulSet": {
      const replicas = (spec.replicas as number | undefined) ?? 1;
      return generationSeen && (status.readyReplicas ?? 0) >= replicas;
    }
    case "DaemonSet":
      return (
        generationSeen &&
        (status.numberReady ?? 0) >= (status.desiredNumberScheduled ?? 0) &&
        status.desiredNumberScheduled !== undefined
      );
    default:
      return true;
  }
}

/**
 * Who would give a LoadBalancer Service its address. `helm install --wait` (and so a Pulumi Release)
 * waits for one (helm pkg/kube/ready.go), so a Service nothing acts on keeps the release pending until
 * it times out. Returns the error, or a note when the acting controller is the cloud's (not run here).
 */
export function loadBalancerVerdict(
  service: KubeObject,
  installedCharts: ReadonlySet<string>,
): { error: string } | { note: string } | undefined {
  const spec = (service.spec ?? {}) as { type?: string; externalIPs?: string[] };
  if (spec.type !== "LoadBalancer" || (spec.externalIPs ?? []).length > 0) return undefined;
  const lbType = service.metadata.annotations?.["service.beta.kubernetes.io/aws-load-balancer-type"];
  if (lbType === "external" || lbType === "nlb-ip") {
    if (!installedCharts.has("aws-load-balancer-controller"))
      return {
        error: `${describeObject(service)} asks for aws-load-balancer-type ${lbType}, which only the AWS Load Balancer Controller acts on, and it is not installed before this release: the Service never gets an address and the release waits until it times out`,
      };
    return {
      note: `${describeObject(service)}: its NLB comes from the AWS Load Balancer Controller calling AWS (not reachable here); not waited for`,
    };
  }
  return {
    error: `${describeObject(service)} is a LoadBalancer Service without the AWS Load Balancer Controller's annotations: on EKS only the legacy in-tree provider would act on it (a Classic ELB), and the release would wait for its address`,
  };
}

async function waitForWorkloads(
  kube: Kube,
  release: string,
  workloads: KubeObject[],
  timeoutMs: number,
): Promise<string[]> {
  const errors: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (const w of workloads) {
    try {
      await waitFor(
        `${describeObject(w)} to be ready`,
        async () => {
          const got = await kube.get(w.apiVersion, w.kind, w.metadata.name, w.metadata.namespace);
          return got && workloadReady({ ...got, kind: w.kind }) ? true : undefined;
        },
        {
          timeoutMs: Math.max(1000, deadline - Date.now()),
          intervalMs: 1000,
          describe: async () => describePods(kube, w),
        },
      );
    } catch (err) {
      errors.push(`release ${release}: ${errorText(err)}`);
    }
  }
  return errors;
}

/** Why a workload's pods are not ready: scheduling failures and their events, for error messages. */
async function describePods(kube: Kube, w: KubeObject): Promise<string> {
  const selector =
    (w.spec as { selector?: { matchLabels?: Record<string, string> } })?.selector?.matchLabels ?? {};
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  if (!labelSelector) return "";
  const pods = await kube.list("v1", "Pod", { namespace: w.metadata.namespace, labelSelector });
  if (pods.length === 0) {
    const events = await kube.list("v1", "Event", { namespace: w.metadata.namespace });
    const mine = events.filter((e) =>
      String((e.involvedObject as { name?: string })?.name ?? "").startsWith(w.metadata.name),
    );
    return `no pods; events: ${
      mine
        .slice(-3)
        .map((e) => String(e.message))
        .join(" | ") || "none"
    }`;
  }
  return pods
    .slice(0, 3)
    .map((p) => {
      const conds = (
        (p.status as { conditions?: Array<{ type: string; status: string; message?: string }> })
          ?.conditions ?? []
      )
        .filter((c) => c.status !== "True")
        .map((c) => `${c.type}: ${c.message ?? c.status}`);
      return `${p.metadata.name} ${(p.status as { phase?: string })?.phase ?? "?"}${conds.length ? ` (${conds.join("; ")})` : ""}`;
    })
    .join(", ");
}

async function waitForCrds(kube: Kube, names: string[]): Promise<void> {
  for (const name of names)
    await waitFor(
      `CRD ${name} to be established`,
      async () => {
        const crd = await kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name);
        const conds = (crd?.status as { conditions?: Conditions })?.conditions ?? [];
        return conds.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
  kube.refreshDiscovery();
}

function releaseOf(r: RecordedResource): ReleaseToRender {
  const i = r.inputs as {
    name: string;
    namespace: string;
    chart: string;
    version: string;
    values?: Record<string, unknown>;
    skipCrds?: boolean;
  };
  return {
    resource: r.name,
    name: i.name,
    namespace: i.namespace,
    chart: i.chart,
    version: i.version,
    values: i.values ?? {},
    skipCrds: i.skipCrds ?? false,
  };
}

/** Helm hook phases an install runs; other hooks (upgrade, delete, rollback, test) are not applied. */
const INSTALL_HOOKS = ["pre-install", "post-install"];

/** The field manager of partial objects (Pulumi `*Patch` resources), distinct from the charts'. */
const PATCH_FIELD_MANAGER = "inference-platform-patch";

export async function deployPlan(kube: Kube, plan: Plan, opts: DeployOptions): Promise<DeployReport> {
  const log = opts.log ?? (() => undefined);
  const backends = opts.backends ?? NO_BACKENDS;
  const errors: string[] = [];
  const notes: string[] = [];
  const stored = new Map<string, KubeObject>();
  const applied = { chartObjects: 0, plannedObjects: 0, releases: 0 };
  const installedCharts = new Set<string>();

  const applyOne = async (
    obj: KubeObject,
    what: string,
    fieldManager?: string,
  ): Promise<KubeObject | undefined> => {
    try {
      return await kube.apply(obj, { fieldManager });
    } catch (err) {
      errors.push(`${what}: ${describeObject(obj)}: ${errorText(err)}`);
      return undefined;
    }
  };

  for (const r of deployOrder(plan.resources)) {
    if (r.type === RELEASE_TYPE) {
      const release = releaseOf(r);
      log(
        `release ${release.name} (${release.chart.split("/").pop()}@${release.version}) → ${release.namespace}`,
      );
      let rendered;
      try {
        rendered = renderRelease(opts.helm, release, await apiVersions(kube), opts.kubeVersion);
      } catch (err) {
        errors.push(err instanceof RenderError ? err.message : `${r.name}: ${errorText(err)}`);
        continue;
      }
      applied.releases++;
      await ensureNamespace(kube, release.namespace);
      const objects: KubeObject[] = [];
      const wired: KubeObject[] = [];
      for (const { object, hook } of rendered) {
        if (hook && !hook.split(",").some((h) => INSTALL_HOOKS.includes(h.trim()))) {
          notes.push(
            `release ${release.name}: hook ${describeObject(object)} (${hook}) is not part of an install`,
          );
          continue;
        }
        const obj = { ...object, metadata: { ...object.metadata } };
        if (!obj.metadata.namespace && obj.kind !== "CustomResourceDefinition") {
          // Helm applies namespaced objects without a namespace to the release namespace.
          try {
            if (await kube.isNamespaced(obj.apiVersion, obj.kind)) obj.metadata.namespace = release.namespace;
          } catch {
            // kind not served yet (its CRD comes later in this release): keep it as rendered
          }
        }
        (WEBHOOK_KINDS.includes(obj.kind) || obj.kind === "APIService" ? wired : objects).push(obj);
      }
      const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
      for (const crd of crds) if (await applyOne(crd, `release ${release.name}`)) applied.chartObjects++;
      if (crds.length > 0)
        await waitForCrds(
          kube,
          crds.map((c) => c.metadata.name),
        ).catch((e) => errors.push(`release ${release.name}: ${errorText(e)}`));
      const hookPhase = (o: KubeObject) => {
        const h = o.metadata.annotations?.["helm.sh/hook"] ?? "";
        return h.includes("pre-install") ? 0 : h.includes("post-install") ? 2 : 1;
      };
      const rest = objects
        .filter((o) => o.kind !== "CustomResourceDefinition")
        .sort((a, b) => hookPhase(a) - hookPhase(b) || kindRank(a.kind) - kindRank(b.kind));
      for (const o of rest) {
        const ns = o.metadata.namespace;
        if (ns && ns !== release.namespace) await ensureNamespace(kube, ns).catch(() => undefined);
        if (await applyOne(o, `release ${release.name}`)) applied.chartObjects++;
      }
      // The release's controllers (real ones, where the e2e runs them) come up before its webhooks are
      // registered, as their Deployments would be ready before anything calls them.
      const chartName = release.chart.split("/").pop()!;
      try {
        await backends.startFor?.(
          release.name,
          chartName,
          rendered.map((r) => r.object),
          kube,
        );
      } catch (err) {
        errors.push(`release ${release.name}: its controller did not start: ${errorText(err)}`);
      }
      for (const obj of wired) {
        const w = backends.rewire(release.name, obj);
        if ("skipped" in w)
          notes.push(`release ${release.name}: ${describeObject(obj)} not applied: ${w.skipped}`);
        else if (await applyOne(w.object, `release ${release.name}`)) applied.chartObjects++;
      }
      await backends
        .routeServices?.(kube, wired)
        .catch((err) => errors.push(`release ${release.name}: ${errorText(err)}`));
      await backends
        .markStartedReady?.(release.name, kube)
        .catch((err) => errors.push(`release ${release.name}: ${errorText(err)}`));
      kube.refreshDiscovery();
      for (const svc of rest.filter((o) => o.kind === "Service")) {
        const verdict = loadBalancerVerdict(svc, installedCharts);
        if (verdict && "error" in verdict) errors.push(`release ${release.name}: ${verdict.error}`);
        else if (verdict) notes.push(`release ${release.name}: ${verdict.note}`);
      }
      installedCharts.add(release.chart.split("/").pop()!);
      const workloads = rest.filter((o) => ["Deployment", "DaemonSet", "StatefulSet"].includes(o.kind));
      const timeout = Math.min((r.inputs as { timeout?: number }).timeout ?? 300, opts.maxWaitSeconds ?? 300);
      errors.push(...(await waitForWorkloads(kube, release.name, workloads, timeout * 1000)));
      continue;
    }
    if (r.type === MANIFEST_TYPE) {
      const url = (r.inputs as { file?: string }).file ?? "";
      let docs: KubeObject[];
      try {
        docs = localManifest(url);
      } catch (err) {
        errors.push(`${r.name}: ${errorText(err)}`);
        continue;
      }
      log(`manifest ${url} → ${docs.length} object(s) from ../shared/crds-extra`);
      const crds = docs.filter((o) => o.kind === "CustomResourceDefinition");
      for (const o of [...crds, ...docs.filter((o) => o.kind !== "CustomResourceDefinition")])
        if (await applyOne(o, r.name)) applied.plannedObjects++;
      await waitForCrds(
        kube,
        crds.map((c) => c.metadata.name),
      ).catch((e) => errors.push(`${r.name}: ${errorText(e)}`));
      kube.refreshDiscovery();
      continue;
    }
    const obj = r.inputs as unknown as KubeObject;
    if (!obj.apiVersion || !obj.kind) {
      errors.push(`${r.name}: planned resource ${r.type} has no apiVersion/kind`);
      continue;
    }
    // A Pulumi *Patch resource applies a partial object under its own field manager, onto an object
    // another manager (Helm) created; under the manager that applied the whole object it would drop
    // every field the patch leaves out.
    const got = await applyOne(obj, r.name, r.type.endsWith("Patch") ? PATCH_FIELD_MANAGER : undefined);
    if (!got) continue;
    applied.plannedObjects++;
    stored.set(r.name, got);
    try {
      errors.push(...((await backends.afterApply?.(got, kube)) ?? []).map((e) => `${r.name}: ${e}`));
    } catch (err) {
      errors.push(`${r.name}: ${errorText(err)}`);
    }
    for (const d of fieldDifferences(obj, got))
      errors.push(
        `${r.name}: ${describeObject(obj)}: field ${d.path} ${d.got === undefined ? "was dropped by the API server" : `came back as ${JSON.stringify(d.got)}`} (sent ${JSON.stringify(d.sent)})`,
      );
  }
  return { errors, notes, applied, stored };
}
