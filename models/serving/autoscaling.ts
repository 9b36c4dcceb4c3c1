/**
 * Autoscaling per model: KEDA ScaledObjects (Standard mode, platform-owned, autoscalerClass external),
 * Knative KPA annotations (Knative mode) and KServe's HPA settings (CPU models in Standard mode).
 * Every Prometheus query returns exactly one series: sums over the model's own pods, selected by the
 * labels the series carry after scraping (vLLM's model_name; pod/namespace from the PodMonitor).
 */
import type { Input } from "@pulumi/pulumi";
import type { AutoscalingTrigger, Runtime } from "../schema";
import type { K8sObject } from "../k8s";
import { customObject, PART_OF, type DeepInput } from "../k8s";
import type * as crds from "../crds";
import { llmdDeploymentName, predictorDeploymentName } from "../names";
import { entryComponent, serviceHost } from "./traffic";
import type { ResolvedModel } from "./resolve";
import { isMultiNode } from "./multiNode";

export interface PrometheusTarget {
  /** Query endpoint (in-cluster Prometheus, or an AMP workspace URL). */
  readonly serverAddress: Input<string>;
  /** AMP: SigV4 through KEDA's AWS pod identity in this region. */
  readonly awsRegion?: string;
}

export interface QueryScope {
  readonly namespace: string;
  /** PromQL regex of the scaled workload's pod names (a predictor's `<isvc>-predictor-…`). */
  readonly pods: string;
  /** PromQL regex of pod names the first one also matches that are not the workload's. */
  readonly otherPods?: string;
  /** Name the model is served as (vLLM's model_name label). */
  readonly servedName: string;
  readonly runtime: Runtime;
}

function podSelector(scope: QueryScope): string {
  const others = scope.otherPods ? `,pod!~"${scope.otherPods}"` : "";
  return `namespace="${scope.namespace}",pod=~"${scope.pods}"${others}`;
}

/** The scaled Deployment, its pods, and the entry Service a wake-from-zero trigger watches. */
interface ScaleTarget {
  /** The ScaledObject's name (KEDA's HPA is `keda-hpa-<name>`). */
  readonly name: string;
  readonly deployment: string;
  readonly pods: string;
  readonly otherPods?: string;
  /** Absent: the target never scales to zero. */
  readonly entryServiceHost?: string;
}

export interface TriggerQuery {
  readonly name: string;
  readonly query: string;
  readonly threshold: number;
  readonly activationThreshold?: number;
  /** AverageValue: desired = ceil(query / threshold) — queries are sums over replicas. Value: for averages. */
  readonly metricType: "AverageValue" | "Value";
  /**
   * An empty result is an error (KEDA then applies its fallback) rather than 0 — for series that exist
   * whenever a replica runs, so that a broken scrape never reads as "no load" (KEDA's default
   * ignoreNullValues: true turns it into 0, pkg/scalers/prometheus_scaler.go 267-272, v2.20.2).
   */
  readonly emptyIsError?: boolean;
}

/**
 * vLLM gauges and counters summed over the model's replicas: with AverageValue, KEDA's HPA computes
 * desired = ceil(sum / target), i.e. `target` per replica.
 */
const VLLM_SUM_TRIGGERS = {
  queueDepth: { name: "queue-depth", series: (sel: string) => `vllm:num_requests_waiting{${sel}}` },
  runningRequests: { name: "running-requests", series: (sel: string) => `vllm:num_requests_running{${sel}}` },
  kvCacheUsage: { name: "kv-cache-usage", series: (sel: string) => `vllm:kv_cache_usage_perc{${sel}}` },
  tokenThroughput: {
    name: "token-throughput",
    series: (sel: string) => `rate(vllm:generation_tokens_total{${sel}}[2m])`,
  },
} as const;

/** KEDA triggers that read one runtime's own metrics: the runtime that exports them. */
export const TRIGGER_RUNTIME: Readonly<Partial<Record<AutoscalingTrigger["type"], string>>> = {
  ...Object.fromEntries(Object.keys(VLLM_SUM_TRIGGERS).map((k) => [k, "vllm"])),
  tritonQueueTime: "triton",
};

/** The Prometheus query and target of one KEDA trigger. */
export function triggerQuery(
  trigger: AutoscalingTrigger,
  scope: QueryScope,
  gpusPerReplica: number,
): TriggerQuery | undefined {
  const vllm = `${podSelector(scope)},model_name="${scope.servedName}"`;
  switch (trigger.type) {
    case "queueDepth":
    case "runningRequests":
    case "kvCacheUsage":
    case "tokenThroughput": {
      const t = VLLM_SUM_TRIGGERS[trigger.type];
      return {
        name: t.name,
        query: `sum(${t.series(vllm)})`,
        threshold: trigger.target,
        activationThreshold: trigger.activation,
        metricType: "AverageValue",
        emptyIsError: true,
      };
    }
    case "tritonQueueTime":
      // Mean queue time per request over the model's pods; an average, so metricType Value.
      return {
        name: "triton-queue-time",
        query: `sum(rate(nv_inference_queue_duration_us{${podSelector(scope)}}[1m])) / clamp_min(sum(rate(nv_inference_request_success{${podSelector(scope)}}[1m])), 1)`,
        threshold: trigger.targetMicroseconds,
        metricType: "Value",
      };
    case "p99Latency":
      // vLLM's own end-to-end histogram; other runtimes: the Istio sidecar's (every predictor is in the
      // mesh), as the destination reports it, in milliseconds.
      return {
        name: "p99-latency",
        query:
          scope.runtime === "vllm"
            ? `histogram_quantile(0.99, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{${vllm}}[5m])))`
            : `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${podSelector(scope)},reporter="destination"}[5m]))) / 1000`,
        threshold: trigger.targetSeconds,
        metricType: "Value",
      };
    case "gpuUtilization":
      // dcgm-exporter reports per GPU; the sum over the model's GPUs divided by (target × GPUs per
      // replica) is the replica count that keeps each GPU at the target.
      return {
        name: "gpu-utilization",
        query: `sum(DCGM_FI_DEV_GPU_UTIL{${podSelector(scope)}})`,
        threshold: trigger.targetPercent * gpusPerReplica,
        metricType: "AverageValue",
      };
    default:
      return undefined;
  }
}

/**
 * Requests reaching the ingress gateway for a model: the signal that exists while the model has no
 * pods (its own series vanish at zero replicas). Istio's gateway reports them (reporter="source") with
 * the destination Service even when that Service has no endpoints yet.
 */
export function gatewayRequestsQuery(entryServiceHost: string): string {
  return `sum(rate(istio_requests_total{reporter="source",source_workload="${INGRESS_GATEWAY_WORKLOAD}",source_workload_namespace="istio-system",destination_service="${entryServiceHost}"}[2m]))`;
}

/** The ingress gateway Deployment (the gateway chart's release name). */
export const INGRESS_GATEWAY_WORKLOAD = "istio-ingressgateway";
/**
 * Wake-up trigger's target: so high a request rate per replica that it never adds replicas on its own;
 * the model's own triggers do that. Its only job is activation (0 → 1) on the first request.
 */
const WAKE_TARGET_RPS = 1000;

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}

export function triggerAuthName(namespace: string): string {
  return `${namespace}-amp`;
}

/** KEDA ScaledObject for a Standard-mode InferenceService's predictor Deployment. */
export function scaledObject(
  model: ResolvedModel,
  isvc: string,
  prometheus: PrometheusTarget,
  replicas: { min: number; max: number },
): K8sObject | undefined {
  return workloadScaledObject(
    model,
    {
      name: isvc,
      deployment: predictorDeploymentName(isvc),
      pods: `${predictorDeploymentName(isvc)}-.*`,
      entryServiceHost: serviceHost(isvc, model.namespace, entryComponent(model)),
    },
    prometheus,
    replicas,
  );
}

/**
 * KEDA ScaledObject for an llm-d model's decode Deployment `<name>-kserve`, on the same triggers as an
 * InferenceService: the llmisvc controller leaves that Deployment's replicas to the HPA when the
 * LLMInferenceService sets none (PreserveDeploymentReplicas, kserve v0.20.0
 * pkg/controller/v1alpha2/llmisvc/workload.go 215-225). Its queries select the decode pods only: the
 * prefill and endpoint-picker pods share the `<name>-kserve-` prefix, and a long model name's prefill pod
 * loses the dash before its random suffix (the API server cuts generateName prefixes at 58 characters,
 * apiserver storage/names/generate.go 49-53), so they are excluded by name rather than by shape. vLLM
 * labels the series with the served name the preset passes. Named `<name>`:
 * the controller deletes a `<name>-kserve-keda` ScaledObject or `<name>-kserve-hpa` HPA when the
 * LLMInferenceService has no spec.scaling, and fails its reconcile on one it does not own (scaling.go
 * 348-373, 602-624; lifecycle_crud.go 59-85).
 */
export function llmdDecodeScaledObject(
  model: ResolvedModel,
  prometheus: PrometheusTarget,
): K8sObject | undefined {
  const deployment = llmdDeploymentName(model.name, "decode");
  return workloadScaledObject(
    model,
    {
      name: model.name,
      deployment,
      pods: `${deployment}-.*`,
      otherPods: `(${llmdDeploymentName(model.name, "prefill")}|${llmdDeploymentName(model.name, "scheduler")})-.*`,
    },
    prometheus,
    { min: model.autoscaling.minReplicas, max: model.autoscaling.maxReplicas },
  );
}

function workloadScaledObject(
  model: ResolvedModel,
  target: ScaleTarget,
  prometheus: PrometheusTarget,
  replicas: { min: number; max: number },
): K8sObject | undefined {
  const scope: QueryScope = {
    namespace: model.namespace,
    pods: target.pods,
    otherPods: target.otherPods,
    servedName: model.name,
    runtime: model.runtime,
  };
  const gpus = model.resolvedGpu?.count ?? 1;
  const queries = model.triggers
    .map((t) => triggerQuery(t, scope, gpus))
    .filter((q): q is TriggerQuery => q !== undefined);
  if (queries.length === 0) return undefined;
  if (replicas.min === 0 && target.entryServiceHost)
    queries.push({
      name: "gateway-requests",
      query: gatewayRequestsQuery(target.entryServiceHost),
      threshold: WAKE_TARGET_RPS,
      activationThreshold: 0,
      metricType: "AverageValue",
    });
  const scaling = model.autoscaling;
  return customObject("keda.sh/v1alpha1/ScaledObject", {
    metadata: {
      name: target.name,
      namespace: model.namespace,
      labels: { ...PART_OF, "inference-platform/model": model.name },
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target.deployment },
      minReplicaCount: replicas.min,
      maxReplicaCount: replicas.max,
      pollingInterval: scaling.pollingIntervalSeconds,
      // Applies only to scaling to zero (KEDA pkg/scaling/executor/scale_scaledobjects.go 189-238).
      cooldownPeriod: scaling.cooldownPeriodSeconds,
      // When Prometheus cannot answer (or a scrape broke: emptyIsError), keep what runs, never fewer
      // than the minimum: fallback.behavior currentReplicasIfHigher (KEDA v2.20.2 fallback.go 243-271).
      fallback: {
        failureThreshold: 3,
        replicas: Math.max(replicas.min, 1),
        behavior: "currentReplicasIfHigher",
      },
      advanced: {
        horizontalPodAutoscalerConfig: { behavior: hpaBehavior(scaling.scaleDownStabilizationSeconds) },
      },
      triggers: queries.map((q) => prometheusTrigger(q, prometheus, model.namespace)),
    },
  });
}

/** The HPA's pace: up at once (2 pods a minute), down after the calm, one pod per 2 minutes. */
function hpaBehavior(scaleDownStabilizationSeconds: number) {
  return {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 2, periodSeconds: 60 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: scaleDownStabilizationSeconds,
      selectPolicy: "Min",
      policies: [{ type: "Pods", value: 1, periodSeconds: 120 }],
    },
  };
}

/** One KEDA Prometheus trigger, signed with KEDA's own role when it queries AMP. */
function prometheusTrigger(q: TriggerQuery, prometheus: PrometheusTarget, namespace: string) {
  return {
    type: "prometheus",
    name: q.name,
    metricType: q.metricType,
    metadata: {
      serverAddress: prometheus.serverAddress,
      query: q.query,
      threshold: formatNumber(q.threshold),
      ...(q.activationThreshold !== undefined
        ? { activationThreshold: formatNumber(q.activationThreshold) }
        : {}),
      ...(q.emptyIsError ? { ignoreNullValues: "false" } : {}),
      ...(prometheus.awsRegion ? { awsRegion: prometheus.awsRegion, identityOwner: "operator" } : {}),
    },
    ...(prometheus.awsRegion
      ? { authenticationRef: { name: triggerAuthName(namespace), kind: "TriggerAuthentication" as const } }
      : {}),
  };
}

/** TriggerAuthentication that lets KEDA sign AMP queries with its own Pod Identity role. */
export function ampTriggerAuthentication(namespace: string): K8sObject {
  return customObject("keda.sh/v1alpha1/TriggerAuthentication", {
    metadata: { name: triggerAuthName(namespace), namespace, labels: { ...PART_OF } },
    spec: { podIdentity: { provider: "aws", identityOwner: "keda" } },
  });
}

/** Knative KPA annotations for a Knative-mode InferenceService. */
export function kpaAnnotations(model: ResolvedModel): Record<string, string> {
  const kpa = model.triggers.find((t) => t.type === "concurrency" || t.type === "rps");
  const scaling = model.autoscaling;
  const annotations: Record<string, string> = {
    "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
    "autoscaling.knative.dev/panic-window-percentage": formatNumber(scaling.panicWindowPercentage),
    "autoscaling.knative.dev/scale-down-delay": `${Math.min(scaling.scaleDownStabilizationSeconds, 3600)}s`,
    "autoscaling.knative.dev/scale-to-zero-pod-retention-period": scaling.scaleToZeroRetention,
  };
  if (kpa?.type === "concurrency")
    annotations["autoscaling.knative.dev/target-utilization-percentage"] = formatNumber(
      kpa.targetUtilizationPercent,
    );
  if (scaling.initialScale !== undefined)
    annotations["autoscaling.knative.dev/initial-scale"] = String(scaling.initialScale);
  return annotations;
}

/** KServe component fields that drive its autoscaler (KPA metric/target, or KServe's HPA for CPU). */
export function componentScaling(
  model: ResolvedModel,
): Partial<DeepInput<NonNullable<crds.InferenceService["spec"]>["predictor"]>> {
  const kpa = model.triggers.find((t) => t.type === "concurrency" || t.type === "rps");
  if (model.deploymentMode === "Knative" && kpa && (kpa.type === "concurrency" || kpa.type === "rps")) {
    return { scaleMetric: kpa.type, scaleTarget: Math.max(1, Math.round(kpa.target)) };
  }
  const hpa = model.triggers.find((t) => t.type === "cpu" || t.type === "memory");
  if (hpa && (hpa.type === "cpu" || hpa.type === "memory")) {
    return { scaleMetric: hpa.type, scaleMetricType: "Utilization", scaleTarget: hpa.targetPercent };
  }
  return {};
}

/** Which autoscaler KServe should run for this model. */
export function autoscalerClass(model: ResolvedModel): "external" | "hpa" | "none" | undefined {
  if (model.deploymentMode === "Knative") return undefined;
  // KServe's multi-node serving runs without an autoscaler (inference_service_validation.go 414-416).
  if (isMultiNode(model)) return "none";
  return model.triggers.some((t) => t.type === "cpu" || t.type === "memory") ? "hpa" : "external";
}
