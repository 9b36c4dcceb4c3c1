/**
 * The KServe InferenceService (serving.kserve.io/v1beta1) of one version of a model. One builder for
 * both deployment modes; the differences (autoscaler, probes, canary) are decided here explicitly.
 */
import type { Input } from "@pulumi/pulumi";
import type { K8sObject } from "../k8s";
import { PART_OF } from "../k8s";
import { LABELS, GPU_TAINT } from "../cluster/nodePools";
import type { ModelVersion } from "../schema";
import { autoscalerClass, componentScaling, kpaAnnotations } from "./autoscaling";
import type { ResolvedModel } from "./resolve";
import { modelArgs, runtimeSpec } from "./runtimes";
import { hfTokenEnv } from "./namespace";

export type Track = "stable" | "candidate";

export interface IsvcOptions {
  /** Name of the InferenceService (the model name, or `<model>-canary` for a Standard-mode candidate). */
  readonly name: string;
  readonly track: Track;
  /** A multi-model server has no storageUri: its TrainedModels are loaded by KServe's model agent. */
  readonly version: Omit<ModelVersion, "storageUri"> & { storageUri?: string };
  readonly serviceAccountName: string;
  /** Kubernetes Secret holding the Hugging Face token (key `token`), for hf:// models. */
  readonly hfTokenSecretName?: string;
  /** Knative mode during a rollout: share of traffic to the latest revision. */
  readonly canaryTrafficPercent?: number;
  readonly replicas: { min: number; max: number };
}

const PROBE_PERIOD_SECONDS = 10;

function probes(model: ResolvedModel, health: { live: string; ready: string }, port: number) {
  const http = (path: string) => ({ httpGet: { path, port } });
  // Saturated LLM servers answer health checks slowly: a 1 s timeout would mark them unready.
  const readinessProbe = {
    ...http(health.ready),
    periodSeconds: PROBE_PERIOD_SECONDS,
    timeoutSeconds: 5,
    failureThreshold: 3,
  };
  if (model.deploymentMode === "Knative") return { readinessProbe };
  return {
    // The startup probe holds liveness off until the weights are loaded, however long that takes.
    startupProbe: {
      ...http(health.ready),
      periodSeconds: PROBE_PERIOD_SECONDS,
      timeoutSeconds: 5,
      failureThreshold: Math.ceil(model.startupSeconds / PROBE_PERIOD_SECONDS),
    },
    readinessProbe,
    livenessProbe: { ...http(health.live), periodSeconds: 15, timeoutSeconds: 10, failureThreshold: 6 },
  };
}

function resources(model: ResolvedModel): Record<string, Record<string, string>> {
  const gpu: Record<string, string> = model.resolvedGpu
    ? { "nvidia.com/gpu": String(model.resolvedGpu.count) }
    : {};
  // Memory limit = request (no overcommit of a node whose RAM holds the weights); CPU limit = request.
  return {
    requests: { cpu: model.cpu, memory: model.memory, ...gpu },
    limits: { cpu: model.cpu, memory: model.memory, ...gpu },
  };
}

/** The engine settings the capacity planner chose for this track (its own plan when the candidate differs). */
function plannedEngine(model: ResolvedModel, track: string) {
  const plan = (track === "candidate" ? model.candidateCapacity : undefined) ?? model.capacity;
  return plan?.llm?.engine ?? {};
}

export const ARCHITECTURE_ANNOTATION = "inference-platform/architecture";

export function inferenceService(model: ResolvedModel, opts: IsvcOptions): K8sObject {
  const spec = runtimeSpec(model.runtime, model.format);
  const engine = { ...model.engine, ...(opts.version.engine ?? {}) };
  const tp = model.resolvedGpu?.count ?? 1;
  const args = modelArgs(
    model.runtime,
    opts.version,
    model.llm
      ? { servedName: model.name, engine, derived: plannedEngine(model, opts.track), tensorParallelSize: tp }
      : undefined,
  );
  const image =
    opts.version.image ??
    model.image ??
    (model.runtime === "vllm" || model.runtime === "triton" ? spec.image : undefined);

  const env: Array<Record<string, unknown>> = [];
  if (opts.hfTokenSecretName) env.push(hfTokenEnv(opts.hfTokenSecretName));

  const volumes: Array<Record<string, unknown>> = [];
  const volumeMounts: Array<Record<string, unknown>> = [];
  if (model.shmSize) {
    // Same name as the runtime's volume: KServe merges pod specs by volume name, so this sets the size.
    volumes.push({ name: "devshm", emptyDir: { medium: "Memory", sizeLimit: model.shmSize } });
    volumeMounts.push({ name: "devshm", mountPath: "/dev/shm" });
  }

  const gpu = model.resolvedGpu;
  const selectorLabels = { "serving.kserve.io/inferenceservice": opts.name };
  const scheduling = gpu
    ? {
        nodeSelector: { [LABELS.pool]: gpu.pool.name },
        tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
      }
    : {};
  const spread = [
    {
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: selectorLabels },
    },
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: selectorLabels },
    },
  ];

  const annotations: Record<string, Input<string>> = {
    "serving.kserve.io/deploymentMode": model.deploymentMode,
    "serving.kserve.io/enable-prometheus-scraping": "true",
  };
  const scalerClass = autoscalerClass(model);
  if (scalerClass) annotations["serving.kserve.io/autoscalerClass"] = scalerClass;
  // What the model is, for checks that see only this object (the policy pack's GPU-fit rule).
  const architecture = model.capacity?.llm?.architecture;
  if (architecture)
    annotations[ARCHITECTURE_ANNOTATION] =
      architecture === "custom" ? JSON.stringify(model.architecture) : architecture;
  if (model.deploymentMode === "Knative") {
    Object.assign(annotations, kpaAnnotations(model));
    if (opts.canaryTrafficPercent !== undefined) annotations["serving.kserve.io/enable-tag-routing"] = "true";
  }

  const container: Record<string, unknown> = {
    modelFormat: { name: spec.modelFormat },
    runtime: spec.runtime,
    protocolVersion: model.protocol ?? spec.protocol,
    ...(opts.version.storageUri ? { storageUri: opts.version.storageUri } : {}),
    ...(image ? { image } : {}),
    ...(args.length > 0 ? { args } : {}),
    ...(env.length > 0 ? { env } : {}),
    resources: resources(model),
    ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
    ...probes(model, spec.health, spec.port),
  };

  const component = (image: string, extraArgs: string[]) => ({
    containers: [
      {
        name: "kserve-container",
        image,
        args: extraArgs,
        resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
      },
    ],
  });

  const predictor: Record<string, unknown> = {
    serviceAccountName: opts.serviceAccountName,
    minReplicas: opts.replicas.min,
    maxReplicas: opts.replicas.max,
    ...componentScaling(model),
    ...scheduling,
    topologySpreadConstraints: spread,
    // Let in-flight requests (long generations) finish when a pod is stopped.
    terminationGracePeriodSeconds: model.llm ? 120 : 30,
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(model.batcher
      ? { batcher: { maxBatchSize: model.batcher.maxBatchSize, maxLatency: model.batcher.maxLatencyMs } }
      : {}),
    ...(opts.canaryTrafficPercent !== undefined ? { canaryTrafficPercent: opts.canaryTrafficPercent } : {}),
    model: container,
  };

  return {
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: {
      name: opts.name,
      namespace: model.namespace,
      labels: {
        ...PART_OF,
        "inference-platform/model": model.name,
        "inference-platform/track": opts.track,
        "inference-platform/runtime": model.runtime,
      },
      annotations,
    },
    spec: {
      predictor,
      ...(model.transformer
        ? { transformer: component(model.transformer.image, model.transformer.args) }
        : {}),
      ...(model.explainer ? { explainer: component(model.explainer.image, model.explainer.args) } : {}),
    },
  };
}
