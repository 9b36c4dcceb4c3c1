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
  const checks: AccessCheck[] = [];
  for (const sa of grafanaAccounts) {
    const serviceAccount = { namespace: sa.metadata.namespace!, name: sa.metadata.name };
    checks.push(
      {
        serviceAccount,
        verb: "list",
        resource: "configmaps",
        namespace: MONITORING_NAMESPACE,
        allowed: true,
        why: "its dashboards",
      },
      {
        serviceAccount,
        verb: "get",
        resource: "secrets",
        namespace: NAMESPACES.istio,
        allowed: false,
        why: "the mesh's root key",
      },
      {
        serviceAccount,
        verb: "get",
        resource: "secrets",
        namespace: MONITORING_NAMESPACE,
        allowed: false,
        why: "Alertmanager's receiver credential",
      },
      {
        serviceAccount,
        verb: "list",
        resource: "secrets",
        allowed: false,
        why: "every Secret in the cluster",
      },
    );
  }
  const modelAccounts = plan.objects
    .map((o) => o.object as unknown as KubeObject)
    .filter((o) => o.kind === "ServiceAccount" && o.metadata.namespace);
  for (const sa of modelAccounts) {
    const serviceAccount = { namespace: sa.metadata.namespace!, name: sa.metadata.name };
    checks.push(
      {
        serviceAccount,
        verb: "get",
        resource: "secrets",
        namespace: serviceAccount.namespace,
        allowed: false,
        why: "its namespace's Secrets (other models' tokens)",
      },
      {
        serviceAccount,
        verb: "list",
        resource: "pods",
        namespace: serviceAccount.namespace,
        allowed: false,
        why: "nothing in a model pod calls the API",
      },
    );
  }
  return checks;
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
