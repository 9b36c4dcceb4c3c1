/**
 * Prod's serving, scaling and alerting path has no single replica, read off the real API server after
 * the deploy: the objects the charts rendered, the KServe Deployment patched server-side, the
 * StatefulSets the real prometheus-operator created. Each workload in PROD_PATH_WORKLOADS (whose
 * namespace the stack deploys) runs at least two replicas, counting an HPA's minimum, and a
 * PodDisruptionBudget selecting its pods lets one go at a time without letting all go, and its pods run
 * at the platform priority class.
 */
import { waitFor, type Kube, type KubeObject } from "./kube";
import {
  PLATFORM_PRIORITY_CLASS,
  PROD_PATH_WORKLOADS,
  type PathWorkload,
} from "../models/addons/highAvailability";

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
type Budget = { selector?: Selector; maxUnavailable?: number | string; minAvailable?: number | string };

const matches = (selector: Selector | undefined, labels: Record<string, string>): boolean =>
  !!selector &&
  (selector.matchExpressions ?? []).length === 0 &&
  Object.keys(selector.matchLabels ?? {}).length > 0 &&
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/** Pods a budget lets go at once out of `replicas` (percentages as the disruption controller rounds them). */
export function allowedDisruptions(budget: Budget, replicas: number): number {
  const count = (v: number | string, roundUp: boolean) =>
    typeof v === "number" ? v : (roundUp ? Math.ceil : Math.floor)((parseFloat(v) / 100) * replicas);
  if (budget.maxUnavailable !== undefined) return count(budget.maxUnavailable, true);
  if (budget.minAvailable !== undefined) return replicas - count(budget.minAvailable, true);
  return 0;
}

async function replicasOf(kube: Kube, w: PathWorkload, obj: KubeObject): Promise<number> {
  const declared = (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const hpas = await kube.list("autoscaling/v2", "HorizontalPodAutoscaler", { namespace: w.namespace });
  const hpa = hpas.find((h) => {
    const ref = (h.spec as { scaleTargetRef?: { kind: string; name: string } }).scaleTargetRef;
    return ref?.kind === w.kind && ref.name === w.name;
  });
  const min = (hpa?.spec as { minReplicas?: number } | undefined)?.minReplicas;
  return Math.max(declared, min ?? 0);
}

/**
 * The node the scheduler chose for a pod: its nodeName, or, for a pod waiting on a volume the
 * StorageClass binds where the pod lands (WaitForFirstConsumer), the node the scheduler wrote on its
 * claims (volume.kubernetes.io/selected-node) — here no EBS driver provisions them, so such a pod stays
 * Pending after the decision.
 */
async function placement(kube: Kube, pod: KubeObject): Promise<string | undefined> {
  const spec = pod.spec as {
    nodeName?: string;
    volumes?: Array<{ persistentVolumeClaim?: { claimName: string } }>;
  };
  if (spec.nodeName) return spec.nodeName;
  for (const v of spec.volumes ?? []) {
    if (!v.persistentVolumeClaim) continue;
    const claim = await kube.get(
      "v1",
      "PersistentVolumeClaim",
      v.persistentVolumeClaim.claimName,
      pod.metadata.namespace,
    );
    const node = claim?.metadata.annotations?.["volume.kubernetes.io/selected-node"];
    if (typeof node === "string") return node;
  }
  return undefined;
}

export async function assertHighlyAvailable(
  kube: Kube,
  deployedNamespaces: ReadonlySet<string>,
): Promise<{ errors: string[]; checked: number }> {
  const errors: string[] = [];
  let checked = 0;
  for (const w of PROD_PATH_WORKLOADS.filter((x) => deployedNamespaces.has(x.namespace))) {
    const what = `${w.kind} ${w.namespace}/${w.name}`;
    checked++;
    let obj: KubeObject;
    try {
      // Operators create some of them (the StatefulSets) a moment after their custom resource.
      obj = await waitFor(what, () => kube.get("apps/v1", w.kind, w.name, w.namespace), {
        timeoutMs: 60_000,
        intervalMs: 1000,
      });
    } catch {
      errors.push(`${what}: does not exist (${w.why})`);
      continue;
    }
    const replicas = await replicasOf(kube, w, obj);
    if (replicas < 2) errors.push(`${what}: ${replicas} replica — a single point of failure: ${w.why}`);
    const template = (
      obj.spec as {
        template?: { metadata?: { labels?: Record<string, string> }; spec?: { priorityClassName?: string } };
      }
    ).template;
    const labels = template?.metadata?.labels ?? {};
    if (template?.spec?.priorityClassName !== PLATFORM_PRIORITY_CLASS)
      errors.push(
        `${what}: its pods run at ${template?.spec?.priorityClassName ?? "the default priority"}, not ${PLATFORM_PRIORITY_CLASS}`,
      );
    const budgets = (await kube.list("policy/v1", "PodDisruptionBudget", { namespace: w.namespace }))
      .map((b) => b.spec as Budget)
      .filter((b) => matches(b.selector, labels));
    if (budgets.length === 0) errors.push(`${what}: no PodDisruptionBudget selects its pods`);
    // Replicas on distinct nodes: the real scheduler places the pods (kwok nodes), under the spread.
    const selector = (obj.spec as { selector?: { matchLabels?: Record<string, string> } }).selector
      ?.matchLabels;
    if (selector && replicas >= 2) {
      const labelSelector = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      const nodes = await waitFor(
        `${what}: ${replicas} pods scheduled`,
        async () => {
          const pods = await kube.list("v1", "Pod", { namespace: w.namespace, labelSelector });
          const placed = (await Promise.all(pods.map((p) => placement(kube, p)))).filter(
            (n): n is string => !!n,
          );
          return placed.length >= replicas ? new Set(placed) : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      ).catch(() => undefined);
      if (!nodes) errors.push(`${what}: its ${replicas} pods were not all scheduled`);
      else if (nodes.size < 2) errors.push(`${what}: every replica runs on node ${[...nodes][0]}`);
    }
    for (const b of budgets) {
      const allowed = allowedDisruptions(b, replicas);
      if (allowed < 1)
        errors.push(`${what}: its PodDisruptionBudget lets no pod go (a node drain would block)`);
      else if (allowed >= replicas) errors.push(`${what}: its PodDisruptionBudget lets every pod go at once`);
    }
  }
  return { errors, checked };
}
