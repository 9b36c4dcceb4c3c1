/**
 * Fills the defaults of a model entry that depend on the rest of the platform (mode, autoscaling
 * signal, probes, /dev/shm, resources). Returns a new object; the config itself is never mutated.
 */
import type { Environment, GpuPoolConfig, PlatformInput } from "../../config/schema";
import { isLlm, type AutoscalingTrigger, type DeploymentMode, type ModelInput } from "../schema";
import type { ModelConfig } from "../plannedModel";
import { poolGpu } from "../cluster/nodePools";
import { scaleDownStabilizationFromPrediction, startupSecondsFromPrediction } from "../capacity/timeToReady";

export interface ResolvedGpu {
  readonly pool: GpuPoolConfig;
  /** GPUs per pod (per node of a multi-node replica). */
  readonly count: number;
  /** Nodes a replica spans (multi-node); absent: one. */
  readonly nodes?: number;
}

export interface ResolvedModel extends ModelConfig {
  /** The stack's environment (labels the objects, so checks that see one object know it). */
  readonly environment: Environment;
  readonly deploymentMode: DeploymentMode;
  readonly llm: boolean;
  readonly resolvedGpu?: ResolvedGpu;
  readonly triggers: AutoscalingTrigger[];
  readonly autoscaling: ModelConfig["autoscaling"] & { readonly scaleDownStabilizationSeconds: number };
  readonly startupSeconds: number;
  readonly cpu: string;
  readonly memory: string;
  readonly shmSize?: string;
}

export const DEFAULTS = {
  /**
   * LLM weights take minutes to load: 30 minutes before the startup probe gives up, when the load
   * cannot be predicted (capacity/timeToReady.ts sizes it otherwise).
   */
  llmStartupSeconds: 1800,
  gpuStartupSeconds: 900,
  cpuStartupSeconds: 300,
  cpuModelCpu: "1",
  cpuModelMemory: "2Gi",
  /** KEDA: scale out when more than this many requests wait per replica. */
  llmQueueDepthTarget: 5,
  knativeConcurrencyTarget: 10,
} as const;

/** The GPU pool and count of a model, or undefined for CPU models. */
export function resolveGpu(model: ModelConfig, pools: readonly GpuPoolConfig[]): ResolvedGpu | undefined {
  if (!model.gpu) return undefined;
  const gpu = model.gpu;
  const pool = pools.find((p) => p.name === gpu.pool);
  return pool
    ? { pool, count: gpu.count, ...(gpu.nodes && gpu.nodes > 1 ? { nodes: gpu.nodes } : {}) }
    : undefined;
}

export function defaultDeploymentMode(
  model: Pick<ModelInput, "deploymentMode" | "runtime" | "gpu">,
): DeploymentMode {
  if (model.deploymentMode) return model.deploymentMode;
  // LLMs and GPU models load for minutes and scale on queue depth (KEDA): Standard mode.
  // Small CPU models benefit from scale-to-zero and native canary: Knative mode.
  return isLlm(model) || model.gpu ? "Standard" : "Knative";
}

function defaultTriggers(model: ModelConfig, mode: DeploymentMode): AutoscalingTrigger[] {
  if (model.autoscaling.triggers.length > 0) return model.autoscaling.triggers;
  if (mode === "Knative")
    return [{ type: "concurrency", target: DEFAULTS.knativeConcurrencyTarget, targetUtilizationPercent: 70 }];
  if (isLlm(model)) return [{ type: "queueDepth", target: DEFAULTS.llmQueueDepthTarget, activation: 0 }];
  if (model.runtime === "triton" && model.gpu)
    return [{ type: "tritonQueueTime", targetMicroseconds: 50_000 }];
  return [{ type: "cpu", targetPercent: 70 }];
}

/** Memory per replica: GPU models get a share of the node's RAM proportional to their GPUs. */
function defaultMemory(gpu: ResolvedGpu | undefined): string {
  if (!gpu) return DEFAULTS.cpuModelMemory;
  const spec = poolGpu(gpu.pool);
  if (!spec) return "16Gi";
  // Leave a quarter of the node for the kubelet, DaemonSets and the page cache that holds the weights.
  const gib = Math.max(8, Math.floor(((spec.instance.memoryGiB * 0.75) / spec.instance.gpus) * gpu.count));
  return `${gib}Gi`;
}

function defaultCpu(gpu: ResolvedGpu | undefined): string {
  if (!gpu) return DEFAULTS.cpuModelCpu;
  const spec = poolGpu(gpu.pool);
  if (!spec) return "4";
  return String(Math.max(2, Math.floor(((spec.instance.vcpu * 0.75) / spec.instance.gpus) * gpu.count)));
}

/** /dev/shm: LLMs and multi-GPU pods need more than the 64 MiB default (NCCL, tokenizer workers). */
function defaultShm(model: ModelConfig, gpu: ResolvedGpu | undefined): string | undefined {
  if (model.shmSize) return model.shmSize;
  if (!isLlm(model) && (gpu?.count ?? 0) < 2) return undefined;
  return (gpu?.count ?? 1) > 1 ? "16Gi" : "8Gi";
}

export function resolveModel(
  model: ModelConfig,
  platform: Pick<PlatformInput, "gpuPools" | "environment">,
): ResolvedModel {
  const deploymentMode = defaultDeploymentMode(model);
  const resolvedGpu = resolveGpu(model, platform.gpuPools);
  const llm = isLlm(model);
  return {
    ...model,
    environment: platform.environment,
    deploymentMode,
    llm,
    resolvedGpu,
    triggers: defaultTriggers(model, deploymentMode),
    autoscaling: {
      ...model.autoscaling,
      scaleDownStabilizationSeconds:
        model.autoscaling.scaleDownStabilizationSeconds ??
        scaleDownStabilizationFromPrediction(model.timeToReady),
    },
    startupSeconds:
      model.startupSeconds ??
      (llm
        ? startupSecondsFromPrediction(model.timeToReady, DEFAULTS.llmStartupSeconds)
        : resolvedGpu
          ? DEFAULTS.gpuStartupSeconds
          : DEFAULTS.cpuStartupSeconds),
    cpu: model.resources.cpu ?? defaultCpu(resolvedGpu),
    memory: model.resources.memory ?? defaultMemory(resolvedGpu),
    shmSize: defaultShm(model, resolvedGpu),
  };
}

export function protectByDefault(environment: Environment): boolean {
  return environment === "prod";
}
