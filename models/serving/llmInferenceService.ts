/**
 * llm-d serving: a vLLM model as KServe's LLMInferenceService (serving.kserve.io/v1alpha2, KServe
 * v0.20.0) instead of an InferenceService. KServe's llmisvc controller merges the well-known presets
 * of the kserve-runtime-configs chart into it (pkg/controller/v1alpha2/llmisvc/config_merge.go 211-265)
 * and creates, per model: the vLLM Deployment `<name>-kserve` (and `<name>-kserve-prefill` when prefill
 * is split off), llm-d's endpoint picker `<name>-kserve-router-scheduler`, an InferencePool over the
 * pods and an HTTPRoute on the platform's Gateway API Gateway (router.go 67-127).
 *
 * Routing: the endpoint picker's default scheduler config scores each request's prompt prefix against
 * what every pod holds in KV cache (prefix-cache-scorer weight 3) beside queue depth and KV-cache use
 * (scheduler.go 492-588); with prefill split off, an always-disaggregate decider sends each prompt
 * through a prefill pod first.
 */
import type { K8sObject } from "../k8s";
import { customObject, ENVIRONMENT_LABEL, PART_OF, type DeepInput } from "../k8s";
import type * as crds from "../crds";
import { LABELS, GPU_TAINT } from "../cluster/nodePools";
import type { ResolvedModel } from "./resolve";
import {
  architectureAnnotation,
  disruptionBudget,
  metricsAnnotations,
  plannedEngine,
  podResources,
  spreadOverZonesAndNodes,
  startupBudget,
} from "./inferenceService";
import { hfTokenEnv, LLMD_SERVING_PORT, LLMD_WORKLOAD_SELECTOR } from "./namespace";
import { vllmEngineArgs } from "./runtimes";
import { loraSlots } from "../capacity/lora";
import { NO_SIDECAR, SIDECAR_ONLY_SERVING_PORT } from "./llmdMesh";
import { llmdDeploymentName, llmdLeaderWorkerSetName } from "../names";
import { efaSettings, isMultiNode } from "./multiNode";

/**
 * The Gateway API Gateway llm-d models attach their HTTPRoutes to: the platform's own Istio ingress
 * gateway (models/addons/llmd.ts), so llm-d traffic enters through the same internal load balancer,
 * JWT check and mTLS as every other model.
 */
export const LLMD_GATEWAY = { name: "inference-llm-gateway", namespace: "istio-system" } as const;

/** The container name KServe's presets and controller expect (config_merge.go 779-827, workload_single_node.go 169). */
export const LLMD_MAIN_CONTAINER = "main";

type Spec = DeepInput<NonNullable<crds.LLMInferenceService["spec"]>>;
type PodTemplate = NonNullable<Spec["template"]>;

/**
 * NIXL hands the prefilled KV cache from prefill to decode pods (vLLM's NixlConnector, as KServe's P/D
 * sample sets it: docs/samples/llmisvc/single-node-gpu/llm-inference-service-pd-qwen2-7b-gpu.yaml).
 */
function kvTransferArgs(role: "prefill" | "decode"): string[] {
  const kvRole = role === "prefill" ? "kv_producer" : "kv_consumer";
  return [`--kv-transfer-config=${JSON.stringify({ kv_connector: "NixlConnector", kv_role: kvRole })}`];
}

/**
 * The pod template of one role: the model's identity (its ServiceAccount carries Pod Identity and the
 * Hugging Face token), its GPU pool and taint toleration, its resources, and vLLM's engine flags. The
 * presets pass the model path, port, served name and `--tensor-parallel-size` from spec.parallelism
 * themselves, and append VLLM_ADDITIONAL_ARGS (kserve-runtime-configs v0.20.0
 * files/llmisvcconfigs/resources.yaml 2580-2596).
 */
function podTemplate(
  model: ResolvedModel,
  role: LlmdRole | "worker",
  opts: { serviceAccountName: string; hfTokenSecretName?: string },
): PodTemplate {
  const gpu = model.resolvedGpu;
  const disaggregated = role === "prefill" || role === "decode";
  const engineArgs = [
    ...vllmEngineArgs({ engine: model.engine, derived: plannedEngine(model, "stable") }),
    ...(disaggregated ? kvTransferArgs(role) : []),
    ...model.args,
  ];
  const env = [
    { name: "VLLM_ADDITIONAL_ARGS", value: engineArgs.map(shellQuote).join(" ") },
    ...(disaggregated
      ? [{ name: "VLLM_NIXL_SIDE_CHANNEL_HOST", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }]
      : []),
    ...efaSettings(model).env,
    ...(opts.hfTokenSecretName ? [hfTokenEnv(opts.hfTokenSecretName)] : []),
  ];
  // The leader of a group over several nodes waits for every stage to load its layers.
  const multiNodeLeader = role !== "worker" && isMultiNode(model);
  return {
    serviceAccountName: opts.serviceAccountName,
    ...(gpu
      ? {
          nodeSelector: { [LABELS.pool]: gpu.pool.name },
          tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
        }
      : {}),
    // Worker pods carry LeaderWorkerSet's labels, not the workload's; each takes a whole node's GPUs.
    ...(role === "worker"
      ? {}
      : {
          topologySpreadConstraints: spreadOverZonesAndNodes(
            model.environment,
            llmdPodLabels(model.name, role),
          ),
        }),
    containers: [
      {
        name: LLMD_MAIN_CONTAINER,
        ...(model.image ? { image: model.image } : {}),
        env,
        resources: podResources(model),
        // KServe merges it onto the preset's probe field by field (the preset keeps the handler).
        ...(multiNodeLeader ? { startupProbe: startupBudget(model) } : {}),
      },
    ],
  };
}

/**
 * LoRA adapters through KServe's own wiring (workload_lora.go 54-260): the storage initializer fetches
 * them beside the base model with the model's identity, the controller starts vLLM with --enable-lora
 * and --lora-modules (each adapter under its name), and the endpoint picker gets llm-d's LoRA-affinity
 * scorer (scheduler.go 511-561). The slots are the ones the capacity planner counted
 * (models/capacity/lora.ts), so the GPU memory it reserved is the memory vLLM takes.
 */
function loraSpec(model: ResolvedModel) {
  const slots = loraSlots(model.adapters);
  if (!slots) return {};
  return {
    lora: {
      adapters: model.adapters.map((a) => ({ uri: a.storageUri, name: a.name })),
      maxRank: slots.maxRank,
      maxAdapters: slots.maxLoras,
      maxCpuAdapters: slots.maxLoras,
    },
  };
}

/**
 * The preset's command evaluates VLLM_ADDITIONAL_ARGS in bash (`eval "exec vllm serve ..."`): quote
 * each flag so a JSON value stays one argument.
 */
function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'"'"'`)}'`;
}

/** The model's LLMInferenceService: decode (or serving) pods, optional prefill pods, and llm-d's router. */
export function llmInferenceService(
  model: ResolvedModel,
  opts: { serviceAccountName: string; hfTokenSecretName?: string },
): K8sObject {
  const prefill = model.llmd?.prefill;
  const tensor = model.resolvedGpu?.count ?? 1;
  const nodes = model.resolvedGpu?.nodes ?? 1;
  return customObject("serving.kserve.io/v1alpha2/LLMInferenceService", {
    metadata: {
      name: model.name,
      namespace: model.namespace,
      labels: {
        ...PART_OF,
        "inference-platform/model": model.name,
        "inference-platform/track": "stable",
        "inference-platform/runtime": model.runtime,
        [ENVIRONMENT_LABEL]: model.environment,
      },
      // The decode pods' bounds, for the policies (spec.replicas is left out when they autoscale).
      annotations: {
        [LLMD_MIN_REPLICAS_ANNOTATION]: String(model.autoscaling.minReplicas),
        [LLMD_MAX_REPLICAS_ANNOTATION]: String(model.autoscaling.maxReplicas),
        ...architectureAnnotation(model),
      },
    },
    spec: {
      // The served name: the presets pass it to vLLM as --served-model-name (the OpenAI API's model id).
      model: { uri: model.storageUri!, name: model.name, ...loraSpec(model) },
      // Fixed, or left out when the platform's ScaledObject scales the decode Deployment: KServe then
      // keeps the replicas the HPA sets (PreserveDeploymentReplicas, workload.go 215-225).
      ...(isLlmdAutoscaled(model) ? {} : { replicas: model.autoscaling.minReplicas }),
      parallelism: { tensor, ...(nodes > 1 ? { pipeline: nodes } : {}) },
      annotations: workloadAnnotations(Boolean(prefill) || nodes > 1),
      template: podTemplate(model, prefill ? "decode" : "both", opts),
      // Over several nodes: a LeaderWorkerSet of `nodes` pods per replica, tensor parallel within each
      // node and one pipeline stage per node, on the platform's preset (llmdPipelineParallel.ts).
      ...(nodes > 1 ? { worker: podTemplate(model, "worker", opts) } : {}),
      ...(prefill
        ? {
            prefill: {
              replicas: prefill.replicas,
              annotations: workloadAnnotations(true),
              parallelism: { tensor },
              template: podTemplate(model, "prefill", opts),
            },
          }
        : {}),
      router: {
        gateway: { refs: [{ name: LLMD_GATEWAY.name, namespace: LLMD_GATEWAY.namespace }] },
        // Managed: the preset's HTTPRoute (/<namespace>/<name>/v1/...) and the endpoint picker with its
        // default, prefix-cache-aware scheduler config.
        route: {},
        scheduler: {
          labels: NO_SIDECAR,
          // The picker's tokenizer downloads the model too (scheduler.go 422-465): it runs as the
          // controller's `<name>-epp-sa`, which gets the model's Pod Identity role as well (modelObjects.ts).
        },
      },
    },
  });
}

/**
 * Copied onto the pods (workload_single_node.go 180, 284; workload_multi_node.go 263-268 on leader and
 * workers): Istio merges vLLM's /metrics into the sidecar's port the PodMonitor scrapes
 * (models/serving/namespace.ts). With prefill split off (NIXL) or a replica over several nodes
 * (torch.distributed's rendezvous on the leader's pod IP, NCCL's bootstrap sockets), only the serving port
 * goes through the sidecar: those peers address each other by pod IP, in plaintext (llmdMesh.ts).
 */
function workloadAnnotations(podIpPeers: boolean): Record<string, string> {
  return { ...metricsAnnotations(LLMD_SERVING_PORT), ...(podIpPeers ? SIDECAR_ONLY_SERVING_PORT : {}) };
}

type LlmdRole = "prefill" | "decode" | "both";

/** The label LeaderWorkerSet puts on every pod of a set (lws v0.8.0 leaderworkerset_types.go 37-75). */
export const LWS_NAME_LABEL = "leaderworkerset.sigs.k8s.io/name";

/**
 * The labels the llmisvc controller puts on one role's pods (workload_single_node.go 89-97 decode/both,
 * 222-228 prefill, 503-509; pkg/constants/constants.go 417-443): what spread constraints and disruption budgets select.
 */
export function llmdPodLabels(modelName: string, role: LlmdRole): Record<string, string> {
  return {
    "app.kubernetes.io/name": modelName,
    ...LLMD_WORKLOAD_SELECTOR.matchLabels,
    "llm-d.ai/role": role,
  };
}

/**
 * One PodDisruptionBudget per role: a node drain takes one decode and one prefill pod at a time (the
 * controller makes Deployments, not budgets). Named after the controller's Deployments
 * (`<name>-kserve`, `<name>-kserve-prefill`, workload_single_node.go 511-517).
 */
export function llmdDisruptionBudgets(model: ResolvedModel): K8sObject[] {
  // Over several nodes: every pod of the LeaderWorkerSet, since losing any stage restarts its whole
  // group (RecreateGroupOnPodRestart, workload_multi_node.go 180): one group's pod at a time.
  if (isMultiNode(model)) {
    const lws = llmdLeaderWorkerSetName(model.name);
    return [disruptionBudget(model, lws, { [LWS_NAME_LABEL]: lws })];
  }
  const roles: Array<[LlmdRole, string]> = model.llmd?.prefill
    ? [
        ["decode", llmdDeploymentName(model.name, "decode")],
        ["prefill", llmdDeploymentName(model.name, "prefill")],
      ]
    : [["both", llmdDeploymentName(model.name, "decode")]];
  return roles.map(([role, name]) => disruptionBudget(model, name, llmdPodLabels(model.name, role)));
}

/**
 * Whether an llm-d model's decode pods autoscale: the platform's KEDA ScaledObject on `<name>-kserve`
 * (models/serving/autoscaling.ts), not llm-d's Workload Variant Autoscaler (not installed). Prefill pods
 * stay fixed.
 */
export function isLlmdAutoscaled(model: {
  readonly llmd?: unknown;
  readonly autoscaling: { readonly minReplicas: number; readonly maxReplicas: number };
}): boolean {
  return isLlmd(model) && model.autoscaling.maxReplicas > model.autoscaling.minReplicas;
}

/** Annotations on an LLMInferenceService with its decode pods' replica bounds. */
export const LLMD_MIN_REPLICAS_ANNOTATION = "inference-platform/min-replicas";
export const LLMD_MAX_REPLICAS_ANNOTATION = "inference-platform/max-replicas";

/** Whether a model is served through llm-d. */
export function isLlmd(model: { readonly llmd?: unknown }): boolean {
  return model.llmd !== undefined;
}
