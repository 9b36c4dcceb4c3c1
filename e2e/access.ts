/**
 * What the deployed RBAC really grants, asked of the real API server's authorizer with
 * SubjectAccessReviews (authorization.k8s.io/v1): the charts' rendered Roles and bindings and the
 * platform's own objects, not what their values claim.
 *
 * - Grafana's service account reads ConfigMaps (its dashboards) in its own namespace and no Secret
 *   anywhere else (the mesh's root key lives in istio-system).
 * - A model's service account has no Kubernetes API rights of its own: it exists for the IAM role and
 *   the credentials KServe's storage initializer reads from it, not to call the API.
 */
import type { Plan } from "../tools/planRunner";
import type { Kube, KubeObject } from "./kube";
import { MONITORING_NAMESPACE } from "../models/addons/monitoring";
import { NAMESPACES } from "../models/serving/namespace";

export interface AccessCheck {
  readonly serviceAccount: { namespace: string; name: string };
  readonly verb: string;
  readonly resource: string;
  /** Omitted: cluster-wide (all namespaces). */
  readonly namespace?: string;
  readonly allowed: boolean;
  readonly why: string;
}

/** The checks for what is deployed: Grafana's when its service account exists, each planned model's. */
export function accessChecks(plan: Plan, grafanaAccounts: readonly KubeObject[]): AccessCheck[] {
  const account = (sa: KubeObject) => ({ namespace: sa.metadata.namespace!, name: sa.metadata.name });
  // [verb, resource, namespace (undefined: cluster-wide), allowed, why]
  type Row = [string, string, string | undefined, boolean, string];
  const checksOf = (sa: KubeObject, rows: Row[]): AccessCheck[] =>
    rows.map(([verb, resource, namespace, allowed, why]) => ({
      serviceAccount: account(sa),
      verb,
      resource,
      ...(namespace ? { namespace } : {}),
      allowed,
      why,
    }));
  const grafana = grafanaAccounts.flatMap((sa) =>
    checksOf(sa, [
      ["list", "configmaps", MONITORING_NAMESPACE, true, "its dashboards"],
      ["get", "secrets", NAMESPACES.istio, false, "the mesh's root key"],
      ["get", "secrets", MONITORING_NAMESPACE, false, "Alertmanager's receiver credential"],
      ["list", "secrets", undefined, false, "every Secret in the cluster"],
    ]),
  );
  const models = plan.objects
    .map((o) => o.object as unknown as KubeObject)
    .filter((o) => o.kind === "ServiceAccount" && o.metadata.namespace)
    .flatMap((sa) =>
      checksOf(sa, [
        ["get", "secrets", sa.metadata.namespace, false, "its namespace's Secrets (other models' tokens)"],
        ["list", "pods", sa.metadata.namespace, false, "nothing in a model pod calls the API"],
      ]),
    );
  return [...grafana, ...models];
}

/** Asks the API server about each check; returns one error per check whose answer differs. */
export async function assertAccess(kube: Kube, plan: Plan): Promise<{ errors: string[]; checked: number }> {
  const grafana = await kube
    .list("v1", "ServiceAccount", {
      namespace: MONITORING_NAMESPACE,
      labelSelector: "app.kubernetes.io/name=grafana",
    })
    .catch(() => []);
  const checks = accessChecks(plan, grafana);
  const errors: string[] = [];
  for (const c of checks) {
    const { namespace, name } = c.serviceAccount;
    const review = (await kube.create({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      metadata: { name: "" },
      spec: {
        user: `system:serviceaccount:${namespace}:${name}`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
        resourceAttributes: { verb: c.verb, resource: c.resource, namespace: c.namespace ?? "" },
      },
    } as unknown as KubeObject)) as unknown as { status?: { allowed?: boolean; reason?: string } };
    const allowed = review.status?.allowed === true;
    if (allowed !== c.allowed)
      errors.push(
        `service account ${namespace}/${name} ${allowed ? "may" : "may not"} ${c.verb} ${c.resource} ${c.namespace ? `in ${c.namespace}` : "cluster-wide"} (${c.why})${review.status?.reason ? `: ${review.status.reason}` : ""}`,
      );
  }
  return { errors, checked: checks.length };
}
