/**
 * No single replica on prod's serving, scaling or alerting path. What "highly available" means for a
 * platform workload, which workloads are on that path (the e2e checks each on the real API server),
 * and the partial objects that set replicas where a chart has no value for them.
 *
 * Every workload listed leader-elects or is stateless, so a second replica is safe (chart sources at
 * the pinned versions): KServe's manager runs `--leader-elect` and serves its webhooks from every
 * replica (kserve-resources v0.20.0 files/kserve/deployment-patch.yaml 69); KEDA's operator
 * `--leader-elect` (keda 2.20.2 templates/manager/deployment.yaml 81), its metrics server and webhooks are
 * stateless (a second metrics server only shortens failover: values.yaml 162-165); cert-manager's
 * controller and cainjector leader-elect (values.yaml 118-119, 1037-1038); Alertmanager replicas gossip
 * and deduplicate notifications; Prometheus replicas scrape independently (external label
 * `__replica__` lets AMP deduplicate the remote write).
 */
import type { K8sObject } from "../k8s";
import { coreObject, PART_OF } from "../k8s";
import type { AddonContext } from "./types";

/** Replicas of each platform workload on the path, in prod. */
export const HA_REPLICAS = 2;
/** Disruption budget: one pod at a time (maxUnavailable, so a budget never blocks a drain outright). */
export const ONE_AT_A_TIME = { maxUnavailable: 1 } as const;

/**
 * The priority of the path's pods in prod: when system nodes run short, the scheduler preempts anything
 * else first. A built-in class (scheduling.k8s.io, usable outside kube-system since Kubernetes 1.17).
 */
export const PLATFORM_PRIORITY_CLASS = "system-cluster-critical";

/**
 * Replicas of one workload on distinct nodes: two replicas on one node are one node loss away from
 * none. DoNotSchedule, so a second replica waits for a node rather than doubling up.
 */
export function spreadOverNodes(matchLabels: Record<string, string>) {
  return [
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels },
    },
  ];
}

export const highlyAvailable = (ctx: Pick<AddonContext, "environment">): boolean =>
  ctx.environment === "prod";

export interface PathWorkload {
  readonly namespace: string;
  readonly kind: "Deployment" | "StatefulSet";
  readonly name: string;
  /** What stops while it is down. */
  readonly why: string;
}

/**
 * The workloads on prod's serving, scaling and alerting path, by the names the pinned charts and
 * operators give them. Those of add-ons a stack does not install are skipped.
 */
export const PROD_PATH_WORKLOADS: readonly PathWorkload[] = [
  {
    namespace: "kserve",
    kind: "Deployment",
    name: "kserve-controller-manager",
    why: "its pod-mutator webhook fails closed: no predictor pod can be created (kserve-resources v0.20.0 files/kserve/resources.yaml 583-610)",
  },
  {
    namespace: "istio-system",
    kind: "Deployment",
    name: "istiod",
    why: "its sidecar injector fails closed on every model pod",
  },
  {
    namespace: "istio-system",
    kind: "Deployment",
    name: "istio-ingressgateway",
    why: "all model traffic enters through it",
  },
  {
    namespace: "keda",
    kind: "Deployment",
    name: "keda-operator",
    why: "the metrics server reads every scaler value from the leader",
  },
  {
    namespace: "keda",
    kind: "Deployment",
    name: "keda-operator-metrics-apiserver",
    why: "the HPAs of every ScaledObject read external metrics from it",
  },
  {
    namespace: "lws-system",
    kind: "Deployment",
    name: "lws-controller-manager",
    why: "its pod webhook fails closed: no pod of a multi-node model's group can be created (lws v0.8.0 charts/lws templates/webhook/webhook.yaml)",
  },
  {
    namespace: "cert-manager",
    kind: "Deployment",
    name: "cert-manager-webhook",
    why: "KServe's webhook certificate cannot be renewed",
  },
  {
    namespace: "monitoring",
    kind: "StatefulSet",
    name: "prometheus-kps-prometheus",
    why: "KEDA's Prometheus triggers and every alert read it",
  },
  {
    namespace: "monitoring",
    kind: "StatefulSet",
    name: "alertmanager-kps-alertmanager",
    why: "alerts are not delivered",
  },
];

/** KServe's controller Deployment: its chart has no replicas value (kserve-resources v0.20.0 values.yaml). */
export const KSERVE_CONTROLLER = {
  name: "kserve-controller-manager",
  selector: { "control-plane": "kserve-controller-manager" },
} as const;

/**
 * A chart controller's availability in prod where its chart has no value for it: a partial Deployment
 * applied server-side onto the chart's — its pods at the platform's priority, spread over nodes, and
 * the replicas too when the chart has no value for them (KServe's manifest has none, so a Helm upgrade
 * leaves the field alone) — and a PodDisruptionBudget the chart does not ship.
 */
export function controllerAvailability(
  ctx: Pick<AddonContext, "environment">,
  controller: { readonly name: string; readonly selector: Readonly<Record<string, string>> },
  namespace: string,
  opts: { readonly setReplicas: boolean },
): { patches: K8sObject[]; objects: K8sObject[] } {
  if (!highlyAvailable(ctx)) return { patches: [], objects: [] };
  return {
    patches: [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: {
          name: controller.name,
          namespace,
          // Take the fields over even if another manager claims them (Pulumi's Patch resources refuse a
          // conflicting field otherwise: @pulumi/kubernetes "Server-Side Apply", patchForce).
          annotations: { "pulumi.com/patchForce": "true" },
        },
        spec: {
          ...(opts.setReplicas ? { replicas: HA_REPLICAS } : {}),
          template: {
            spec: {
              priorityClassName: PLATFORM_PRIORITY_CLASS,
              topologySpreadConstraints: spreadOverNodes({ ...controller.selector }),
            },
          },
        },
      },
    ],
    objects: [
      coreObject("policy/v1/PodDisruptionBudget", {
        metadata: { name: controller.name, namespace, labels: { ...PART_OF } },
        spec: { ...ONE_AT_A_TIME, selector: { matchLabels: { ...controller.selector } } },
      }),
    ],
  };
}

/**
 * The chart values that set the replicas of the path's workloads, per release (what CrossGuard checks
 * on a plan; the e2e checks the rendered objects). KServe's has no value: its patch is checked instead.
 */
export const HA_VALUE_PATHS: Readonly<Record<string, readonly string[]>> = {
  istiod: ["autoscaleMin"],
  "istio-ingressgateway": ["autoscaling.minReplicas"],
  keda: ["operator.replicaCount", "metricsServer.replicaCount"],
  "cert-manager": ["replicaCount", "webhook.replicaCount", "cainjector.replicaCount"],
  "kube-prometheus-stack": ["prometheus.prometheusSpec.replicas", "alertmanager.alertmanagerSpec.replicas"],
  lws: ["replicaCount"],
};
