/**
 * Alert rules the platform ships as a PrometheusRule (kube-prometheus-stack's operator loads it):
 * GPU faults, GPU memory pressure, LLM queues backing up, model pods crash-looping or never ready,
 * and a rollout candidate failing more than stable. Tested with `promtool test rules`.
 */
import type { K8sObject } from "../k8s";
import { customObject, PART_OF } from "../k8s";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { severity: "critical" | "warning" };
  readonly annotations: { summary: string; description: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: AlertRule[];
}

/** Requests per candidate or stable predictor, by namespace and model (the workload name minus its suffix). */
function byModel(track: "candidate" | "stable", errorsOnly: boolean, window: string): string {
  const workload =
    track === "candidate"
      ? `destination_workload=~".+-canary-predictor"`
      : `destination_workload=~".+-predictor",destination_workload!~".+-canary-predictor"`;
  const suffix = track === "candidate" ? "-canary-predictor" : "-predictor";
  const codes = errorsOnly ? `,response_code=~"5.."` : "";
  return `sum by (destination_workload_namespace, model) (label_replace(rate(istio_requests_total{reporter="destination",${workload}${codes}}[${window}]), "model", "$1", "destination_workload", "(.+)${suffix}"))`;
}

/** Faults on the GPUs themselves (dcgm-exporter's series). */
function gpuRules(): RuleGroup {
  return {
    name: "inference-platform.gpu",
    rules: [
      {
        alert: "GpuXidError",
        expr: "max by (Hostname, gpu, UUID) (DCGM_FI_DEV_XID_ERRORS) > 0",
        for: "1m",
        labels: { severity: "critical" },
        annotations: {
          summary: "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} reported XID {{ $value }}",
          description:
            "An NVIDIA XID error means a driver or hardware fault (e.g. 79: fell off the bus, 48: double-bit ECC). Drain the node; the models on it may return errors.",
        },
      },
      {
        alert: "GpuMemoryNearlyFull",
        expr: "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0.97",
        for: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary:
            "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is {{ $value | humanizePercentage }} full",
          description:
            "vLLM reserves gpuMemoryUtilization (0.9) of the GPU up front; above 97% another process shares the GPU or the budget is set too high, and the next allocation fails.",
        },
      },
    ],
  };
}

/** The models' own trouble: queues, crash loops, pods that never get ready, a failing canary. */
function modelRules(ns: string, errorRatio: (track: "candidate" | "stable") => string): RuleGroup {
  return {
    name: "inference-platform.models",
    rules: [
      {
        alert: "LlmQueueBackingUp",
        expr: "sum by (namespace, model_name) (vllm:num_requests_waiting) > 10 * clamp_min(count by (namespace, model_name) (vllm:num_requests_running), 1)",
        for: "10m",
        labels: { severity: "warning" },
        annotations: {
          summary: "{{ $labels.namespace }}/{{ $labels.model_name }}: {{ $value }} requests waiting",
          description:
            "More than 10 requests per replica have waited for 10 minutes: the autoscaler is at maxReplicas or the pool cannot add GPU nodes.",
        },
      },
      {
        alert: "ModelPodCrashLooping",
        expr: `max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff",${ns}}) == 1`,
        for: "5m",
        labels: { severity: "critical" },
        annotations: {
          summary: "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash-looping",
          description:
            "Check the container log: out-of-memory at load, a bad engine flag or an unreachable model URI.",
        },
      },
      {
        alert: "ModelPodNotReady",
        expr: `max by (namespace, pod) (kube_pod_status_ready{condition="false",${ns}}) == 1`,
        // Longer than the stock models' startup windows (at most 30 min): slow loads are not alerts.
        for: "45m",
        labels: { severity: "warning" },
        annotations: {
          summary: "{{ $labels.namespace }}/{{ $labels.pod }} has not been ready for 45 minutes",
          description:
            "Pending on GPU capacity, still downloading weights, or failing its readiness probe: see the pod's events.",
        },
      },
      {
        alert: "CanaryErrorRateAboveStable",
        expr: `${errorRatio("candidate")} > ${errorRatio("stable")} + 0.01`,
        for: "5m",
        labels: { severity: "critical" },
        annotations: {
          summary:
            "{{ $labels.destination_workload_namespace }}/{{ $labels.model }}: the candidate fails more than stable",
          description:
            "The rollout candidate's 5xx ratio exceeds stable's by over 1 point: `npm run rollout -- abort {{ $labels.model }}` and pulumi up.",
        },
      },
    ],
  };
}

export function alertGroups(modelNamespaces: readonly string[]): RuleGroup[] {
  const ns = `namespace=~"${[...new Set(modelNamespaces)].sort().join("|") || "models"}"`;
  const errorRatio = (track: "candidate" | "stable") =>
    // No 5xx series means a ratio of 0, not no data: fall back to the total times zero.
    `((${byModel(track, true, "10m")}) or (${byModel(track, false, "10m")} * 0)) / ${byModel(track, false, "10m")}`;
  return [gpuRules(), modelRules(ns, errorRatio)];
}

/** `release`: the kube-prometheus-stack release whose Prometheus loads the rule. */
export function prometheusRule(
  namespace: string,
  modelNamespaces: readonly string[],
  release: string,
): K8sObject {
  return customObject("monitoring.coreos.com/v1/PrometheusRule", {
    metadata: {
      name: "inference-platform-alerts",
      namespace,
      labels: { ...PART_OF, release },
    },
    spec: { groups: alertGroups(modelNamespaces) },
  });
}
