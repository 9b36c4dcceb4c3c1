/**
 * The KServe InferenceService (serving.kserve.io/v1beta1) of one version of a model. One builder for
 * both deployment modes; the differences (autoscaler, probes, canary) are decided here explicitly.
 */
import type { Input } from "@pulumi/pulumi";
import type { K8sObject } from "../k8s";
import { coreObject, customObject, ENVIRONMENT_LABEL, PART_OF, type DeepInput } from "../k8s";
import type * as crds from "../crds";
import { LABELS, GPU_TAINT } from "../cluster/nodePools";
import type { AuxiliaryComponentConfig, ModelVersion } from "../schema";
import { autoscalerClass, componentScaling, kpaAnnotations } from "./autoscaling";
import type { ResolvedModel } from "./resolve";
import { ADAPTER_DIR, modelArgs, runtimeSpec } from "./runtimes";
import { hfTokenEnv } from "./namespace";
import { doubleCpu } from "./quantity";
import { nodeCachePredictor, readsFromNodeCache } from "./weightCache";
import {
  efaAnnotations,
  efaSettings,
  isMultiNode,
  MULTI_NODE_RUNTIME,
  devShm,
  multiNodeStartupProbe,
  workerSpec,
} from "./multiNode";

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

/** A startup probe's period and failures, together as long as the model's predicted load. */
export function startupBudget(model: Pick<ResolvedModel, "startupSeconds">) {
  return {
    periodSeconds: PROBE_PERIOD_SECONDS,
    failureThreshold: Math.ceil(model.startupSeconds / PROBE_PERIOD_SECONDS),
  };
}

function probes(model: ResolvedModel, health: { live: string; ready: string }, port: number) {
  const http = (path: string) => ({ httpGet: { path, port } });
  // Saturated LLM servers answer health checks slowly: a 1 s timeout would mark them unready.
  const readinessProbe = {
    ...http(health.ready),
    periodSeconds: PROBE_PERIOD_SECONDS,
    timeoutSeconds: 5,
    failureThreshold: 3,
  };
  // Knative allows startup and liveness probes on the user container too (knative.dev/serving v0.50.0
  // pkg/apis/serving/k8s_validation.go ValidateUserContainer); its queue-proxy runs the readiness probe.
  return {
    // The startup probe holds liveness off until the weights are loaded, however long that takes.
    startupProbe: { ...http(health.ready), ...startupBudget(model), timeoutSeconds: 5 },
    readinessProbe,
    livenessProbe: { ...http(health.live), periodSeconds: 15, timeoutSeconds: 10, failureThreshold: 6 },
  };
}

export function podResources(model: ResolvedModel): Record<string, Record<string, string>> {
  if (model.resolvedGpu) {
    // GPU pods: requests = limits (Guaranteed QoS), so a GPU node's RAM that holds the weights is never
    // overcommitted and the pod is the last to be evicted.
    const all = {
      cpu: model.cpu,
      memory: model.memory,
      "nvidia.com/gpu": String(model.resolvedGpu.count),
      ...efaSettings(model).resources,
    };
    return { requests: all, limits: all };
  }
  // CPU models: memory limit = request (no OOM surprises), CPU may burst to twice its request instead of
  // being throttled at it (a request equal to the limit only wastes the node's idle CPU).
  return {
    requests: { cpu: model.cpu, memory: model.memory },
    limits: { cpu: doubleCpu(model.cpu), memory: model.memory },
  };
}

/**
 * Pod annotations that make Istio merge the model server's own metrics into the sidecar's plaintext
 * port 15020 (istio pkg/kube/inject/webhook.go applyPrometheusMerge reads prometheus.io/port and path).
 * KServe's own `enable-prometheus-scraping` would point them at 9091, queue-proxy's port, which nothing
 * serves in Standard mode (kserve pkg/webhook/admission/pod/metrics_aggregate_injector.go 111-126).
 */
export function metricsAnnotations(metricsPort: number): Record<string, string> {
  return {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": String(metricsPort),
    "prometheus.io/path": "/metrics",
  };
}

/** The engine settings the capacity planner chose for this track (its own plan when the candidate differs). */
export function plannedEngine(model: ResolvedModel, track: string) {
  const plan = (track === "candidate" ? model.candidateCapacity : undefined) ?? model.capacity;
  return plan?.llm?.engine ?? {};
}

/**
 * Labels of an InferenceService's predictor pods. KServe labels every component's pods with the
 * InferenceService and the component (kserve predictor.go buildObjectMeta, constants.go 61, 403), so
 * selectors meant for the model server must name the component too.
 */
export function predictorPodLabels(isvc: string): Record<string, string> {
  return { "serving.kserve.io/inferenceservice": isvc, component: "predictor" };
}

export const ARCHITECTURE_ANNOTATION = "inference-platform/architecture";

/** What the model is, for checks that see only its object (the policy pack's GPU-fit rule). */
export function architectureAnnotation(
  model: Pick<ResolvedModel, "capacity" | "architecture">,
): Record<string, string> {
  const architecture = model.capacity?.llm?.architecture;
  if (!architecture) return {};
  return {
    [ARCHITECTURE_ANNOTATION]: architecture === "custom" ? JSON.stringify(model.architecture) : architecture,
  };
}
/**
 * An accepted single-replica outage (autoscaling.outageOnNodeLoss), for the prod availability policy. On
 * the model's ServiceAccount, not the InferenceService: KServe copies InferenceService annotations into
 * the pod template, so editing the reason would restart the very replica it is about.
 */
export const OUTAGE_ON_NODE_LOSS_ANNOTATION = "inference-platform/outage-on-node-loss";

/** The model server container: runtime, weights, arguments, token, resources, /dev/shm and probes. */
/** The predictor and its model container as the InferenceService CRD (v0.20.0) defines them. */
type Predictor = DeepInput<NonNullable<crds.InferenceService["spec"]>["predictor"]>;
type ModelSpec = NonNullable<Predictor["model"]>;
type Component = NonNullable<DeepInput<NonNullable<crds.InferenceService["spec"]>["transformer"]>>;

function modelContainer(model: ResolvedModel, opts: IsvcOptions): ModelSpec {
  const spec = runtimeSpec(model.runtime, model.format);
  const engine = { ...model.engine, ...(opts.version.engine ?? {}) };
  const multiNode = isMultiNode(model);
  const tp = multiNode ? undefined : (model.resolvedGpu?.count ?? 1);
  const args = modelArgs(
    model.runtime,
    opts.version,
    model.llm
      ? {
          servedName: model.name,
          engine,
          derived: plannedEngine(model, opts.track),
          tensorParallelSize: tp,
          adapters: model.adapters,
        }
      : undefined,
    model.name,
  );
  const image = containerImage(model, opts);
  const env = [
    ...(opts.hfTokenSecretName ? [hfTokenEnv(opts.hfTokenSecretName)] : []),
    ...efaSettings(model).env,
  ];
  const volumeMounts: Array<NonNullable<ModelSpec["volumeMounts"]>[number]> = devShm(model).volumeMounts;
  const uri = opts.version.storageUri;
  // Weights from the node's copy: no storageUri, so KServe injects no download.
  const cached = readsFromNodeCache(model, uri);
  if (cached) volumeMounts.push(...nodeCachePredictor(model, uri!).volumeMounts);
  return {
    modelFormat: { name: spec.modelFormat },
    runtime: multiNode ? MULTI_NODE_RUNTIME : spec.runtime,
    protocolVersion: model.protocol ?? spec.protocol,
    // With LoRA adapters every download is a predictor storageUris entry (KServe refuses both fields).
    ...(uri && !cached && model.adapters.length === 0 ? { storageUri: uri } : {}),
    ...(image ? { image } : {}),
    ...(args.length > 0 ? { args } : {}),
    ...(env.length > 0 ? { env } : {}),
    resources: podResources(model),
    ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
    // The multi-node runtime's own exec probes stay (a second handler would make the probe invalid).
    ...(multiNode ? { startupProbe: multiNodeStartupProbe(model) } : probes(model, spec.health, spec.port)),
  };
}

/** The version's image, else the model's, else the platform's pin for runtimes whose chart default floats. */
function containerImage(model: ResolvedModel, opts: IsvcOptions): string | undefined {
  const spec = runtimeSpec(model.runtime, model.format);
  return (
    opts.version.image ??
    model.image ??
    (model.runtime === "vllm" || model.runtime === "triton" ? spec.image : undefined)
  );
}

/** Where predictor pods run: the model's GPU pool (tolerating its taint), spread over zones and nodes. */
function predictorPlacement(model: ResolvedModel, isvc: string): Partial<Predictor> {
  const gpu = model.resolvedGpu;
  const matchLabels = predictorPodLabels(isvc);
  return {
    ...(gpu
      ? {
          nodeSelector: { [LABELS.pool]: gpu.pool.name },
          tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
        }
      : {}),
    topologySpreadConstraints: spreadOverZonesAndNodes(model.environment, matchLabels),
  };
}

/** A budget letting a node drain take one of a model's pods (those matchLabels selects) at a time. */
export function disruptionBudget(
  model: Pick<ResolvedModel, "name" | "namespace">,
  name: string,
  matchLabels: Record<string, string>,
): K8sObject {
  return coreObject("policy/v1/PodDisruptionBudget", {
    metadata: {
      name,
      namespace: model.namespace,
      labels: { ...PART_OF, "inference-platform/model": model.name },
    },
    spec: { maxUnavailable: 1, selector: { matchLabels } },
  });
}

/** A model's replicas (the pods matchLabels selects) spread over zones and nodes. */
export function spreadOverZonesAndNodes(environment: string, matchLabels: Record<string, string>) {
  return [
    {
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels },
    },
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      // Prod: two replicas never share a node (one node loss must not stop the model); a replica that
      // finds no free node waits for the node autoscaler instead of doubling up.
      whenUnsatisfiable: environment === "prod" ? "DoNotSchedule" : "ScheduleAnyway",
      labelSelector: { matchLabels },
    },
  ];
}

/** InferenceService annotations: mode, autoscaler class, what the model is, Knative's KPA. */
function isvcAnnotations(model: ResolvedModel): Record<string, Input<string>> {
  const annotations: Record<string, Input<string>> = {
    "serving.kserve.io/deploymentMode": model.deploymentMode,
  };
  const scalerClass = autoscalerClass(model);
  if (scalerClass) annotations["serving.kserve.io/autoscalerClass"] = scalerClass;
  Object.assign(annotations, efaAnnotations(model));
  Object.assign(annotations, architectureAnnotation(model));
  if (model.deploymentMode === "Knative") {
    Object.assign(annotations, kpaAnnotations(model));
    // Always on in Knative mode: KServe copies ISVC annotations into the revision template, so toggling
    // it around a rollout would create an extra revision (another cold start).
    annotations["serving.kserve.io/enable-tag-routing"] = "true";
  }
  return annotations;
}

/** A transformer or explainer: its own container, scaled on CPU by its own HPA. */
function auxiliaryComponent(model: ResolvedModel, c: AuxiliaryComponentConfig, name: string): Component {
  return {
    minReplicas: c.minReplicas,
    maxReplicas: c.maxReplicas,
    // Its own autoscaler: the InferenceService's `external` class (KEDA for the predictor) would otherwise
    // apply to it too and leave it at one replica (kserve autoscaler_reconciler.go 77-84, hpa_reconciler.go 253-262).
    ...(model.deploymentMode === "Standard"
      ? {
          annotations: { "serving.kserve.io/autoscalerClass": "hpa" },
          scaleMetric: "cpu" as const,
          scaleMetricType: "Utilization" as const,
          scaleTarget: c.targetCpuPercent,
        }
      : { scaleMetric: "cpu" as const, scaleTarget: c.targetCpuPercent }),
    containers: [
      {
        name: "kserve-container",
        image: c.image,
        // KServe names a custom transformer's model after the InferenceService unless told (transformer_custom.go 93-98).
        args:
          name === "transformer" && !c.args.some((a) => a.startsWith("--model_name"))
            ? [`--model_name=${model.name}`, ...c.args]
            : c.args,
        resources: {
          requests: { cpu: c.resources.cpu, memory: c.resources.memory },
          limits: { cpu: doubleCpu(c.resources.cpu), memory: c.resources.memory },
        },
      },
    ],
  };
}

/** Pod volumes and init containers of the predictor: /dev/shm, and the node's weight copy when cached. */
function predictorVolumes(model: ResolvedModel, opts: IsvcOptions): Partial<Predictor> {
  const volumes: Array<NonNullable<Predictor["volumes"]>[number]> = devShm(model).volumes;
  const uri = opts.version.storageUri;
  const cached = readsFromNodeCache(model, uri);
  const downloads = adapterDownloads(model, cached ? undefined : uri);
  if (!cached) return { ...(volumes.length > 0 ? { volumes } : {}), ...downloads };
  const cache = nodeCachePredictor(model, uri!);
  return { volumes: [...volumes, ...cache.volumes], initContainers: cache.initContainers, ...downloads };
}

/**
 * A model with LoRA adapters downloads through the predictor's storageUris (KServe v0.20
 * pkg/apis/serving/v1beta1/predictor.go 63-66, 89-102): the base model (unless the node's copy is read)
 * at /mnt/models, each adapter at /mnt/adapters/<name>; KServe's storage initializer fetches them all
 * with the model's credentials (storage_initializer_injector.go 476-507).
 */
function adapterDownloads(model: ResolvedModel, baseUri: string | undefined): Partial<Predictor> {
  if (model.adapters.length === 0) return {};
  return {
    storageUris: [
      ...(baseUri ? [{ uri: baseUri, mountPath: "/mnt/models" }] : []),
      ...model.adapters.map((a) => ({ uri: a.storageUri, mountPath: `${ADAPTER_DIR}/${a.name}` })),
    ],
  };
}

export function inferenceService(model: ResolvedModel, opts: IsvcOptions): K8sObject {
  const spec = runtimeSpec(model.runtime, model.format);
  const predictor: Predictor = {
    serviceAccountName: opts.serviceAccountName,
    minReplicas: opts.replicas.min,
    maxReplicas: opts.replicas.max,
    ...componentScaling(model),
    ...predictorPlacement(model, opts.name),
    annotations: metricsAnnotations(spec.metricsPort),
    // Let in-flight requests (long generations) finish when a pod is stopped. Knative masks the pod field
    // out (knative.dev/serving v0.50.0 pkg/apis/serving/fieldmask.go PodSpecMask); with the operator's
    // 1.23 CRDs the API server already prunes it from the Knative Service KServe creates (the e2e showed
    // it silently gone, not refused), so it would do nothing. Knative derives the grace period from the
    // request timeout instead (pkg/reconciler/revision/resources/deploy.go 309).
    ...(model.deploymentMode === "Knative"
      ? { timeout: model.llm ? 600 : 60 }
      : { terminationGracePeriodSeconds: model.llm ? 120 : 30 }),
    ...predictorVolumes(model, opts),
    ...(model.batcher
      ? { batcher: { maxBatchSize: model.batcher.maxBatchSize, maxLatency: model.batcher.maxLatencyMs } }
      : {}),
    ...(opts.canaryTrafficPercent !== undefined ? { canaryTrafficPercent: opts.canaryTrafficPercent } : {}),
    model: modelContainer(model, opts),
  };
  if (isMultiNode(model))
    predictor.workerSpec = workerSpec(model, {
      resources: podResources(model),
      serviceAccountName: opts.serviceAccountName,
      // The same image on every node: Ray and vLLM must match across the replica's pods.
      image: containerImage(model, opts)!,
    });
  return customObject("serving.kserve.io/v1beta1/InferenceService", {
    metadata: {
      name: opts.name,
      namespace: model.namespace,
      labels: {
        ...PART_OF,
        "inference-platform/model": model.name,
        "inference-platform/track": opts.track,
        "inference-platform/runtime": model.runtime,
        [ENVIRONMENT_LABEL]: model.environment,
      },
      annotations: isvcAnnotations(model),
    },
    spec: {
      predictor,
      ...(model.transformer
        ? { transformer: auxiliaryComponent(model, model.transformer, "transformer") }
        : {}),
      ...(model.explainer ? { explainer: auxiliaryComponent(model, model.explainer, "explainer") } : {}),
    },
  });
}
