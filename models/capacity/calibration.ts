/**
 * The memory model against published vLLM startup figures (calibration/vllm-startups.yaml): for each
 * point, what the model predicts under the accounting of the release the figure came from, and the
 * error against what vLLM logged. Pure; tools/calibrationData.ts loads the file.
 */
import { ARCHITECTURES, type Architecture } from "./architectures";
import { GPU_MODELS, type GpuModelKey } from "./gpuInstances";
import { replicaMemory, type EnginePrecision, type MemoryGpu, type ReplicaMemory } from "./memory";
import {
  PINNED_VLLM,
  profileBatch,
  VLLM_0_11,
  VLLM_0_19,
  VLLM_V0,
  type VllmAccounting,
} from "./vllmAccounting";

export const ACCOUNTINGS: Readonly<Record<string, VllmAccounting>> = {
  V0: VLLM_V0,
  "0.11": VLLM_0_11,
  "0.19": VLLM_0_19,
  "0.24": PINNED_VLLM,
};

export interface CalibrationGpu {
  readonly catalog?: GpuModelKey;
  readonly name?: string;
  readonly torchTotalGiB?: number;
  readonly nvmlGiB?: number;
  readonly computeCapability?: number;
}

export interface CalibrationSetup {
  readonly id: string;
  readonly model: string;
  readonly architecture: string;
  readonly gpu: string;
  readonly gpuMemoryUtilization: number;
  readonly maxModelLen: number;
  readonly tensorParallel: number;
  readonly quantization?: "fp8" | "awq";
  readonly kvCacheDtype?: "fp8";
  readonly maxNumBatchedTokens?: number;
  readonly torchTotalGiB?: number;
  readonly source: string;
}

export interface CalibrationPoint extends CalibrationSetup {
  readonly status: "fit" | "holdout" | "reference";
  readonly accounting: string;
  readonly vllm: string;
  readonly observed: {
    readonly weightsGiB?: number;
    readonly kvCacheGiB?: number;
    readonly kvTokens?: number;
    readonly activationGiB?: number;
    readonly nonTorchGiB?: number;
  };
  readonly why?: string;
  /** A gated point outside ±10%, and why; it must err on the safe side (under-promise). */
  readonly knownMiss?: string;
}

export interface CalibrationData {
  readonly gpus: Readonly<Record<string, CalibrationGpu>>;
  readonly architectures: Readonly<Record<string, Architecture>>;
  readonly points: readonly CalibrationPoint[];
  readonly failures: readonly CalibrationSetup[];
}

export interface ResolvedSetup {
  readonly architecture: Architecture;
  readonly gpu: MemoryGpu & { readonly name: string; readonly memoryGiB: number };
  readonly engine: EnginePrecision;
}

export function resolveSetup(data: CalibrationData, p: CalibrationSetup): ResolvedSetup {
  const architecture =
    data.architectures[p.architecture] ?? (ARCHITECTURES as Record<string, Architecture>)[p.architecture];
  if (!architecture) throw new Error(`${p.id}: unknown architecture ${p.architecture}`);
  const g = data.gpus[p.gpu];
  if (!g) throw new Error(`${p.id}: unknown GPU ${p.gpu}`);
  const catalog = g.catalog ? GPU_MODELS[g.catalog] : undefined;
  const gpu = {
    name: catalog?.name ?? g.name ?? p.gpu,
    memoryGiB: catalog?.memoryGiB ?? g.nvmlGiB ?? 0,
    torchTotalGiB: p.torchTotalGiB ?? catalog?.torchTotalGiB ?? g.torchTotalGiB ?? 0,
    computeCapability: catalog?.computeCapability ?? g.computeCapability ?? 0,
  };
  return {
    architecture,
    gpu,
    engine: { kvCacheDtype: p.kvCacheDtype ?? "auto", quantization: p.quantization },
  };
}

/** What the memory model predicts for a setup under a release's accounting (the pinned one unless given). */
export function predict(
  data: CalibrationData,
  p: CalibrationSetup,
  accounting: VllmAccounting = PINNED_VLLM,
): ReplicaMemory {
  const { architecture, gpu, engine } = resolveSetup(data, p);
  const batch = profileBatch(gpu, { maxNumBatchedTokens: p.maxNumBatchedTokens }, p.maxModelLen);
  return replicaMemory(
    architecture,
    engine,
    gpu,
    p.tensorParallel,
    p.gpuMemoryUtilization,
    batch,
    accounting,
  );
}

export interface CalibrationRow {
  readonly point: CalibrationPoint;
  readonly gpuName: string;
  readonly predicted: ReplicaMemory;
  /** (predicted − observed) / observed of the KV cache GiB per GPU; positive = over-promise. */
  readonly kvError: number;
  /** Same for the weights, where logged. */
  readonly weightsError?: number;
}

export function calibrationRows(data: CalibrationData): CalibrationRow[] {
  return data.points.map((point) => {
    const accounting = ACCOUNTINGS[point.accounting];
    if (!accounting) throw new Error(`${point.id}: unknown accounting ${point.accounting}`);
    const predicted = predict(data, point, accounting);
    const o = point.observed;
    const observedKv =
      o.kvCacheGiB ??
      (o.kvTokens !== undefined ? (o.kvTokens * predicted.kvBytesPerTokenPerGpu) / 1024 ** 3 : NaN);
    return {
      point,
      gpuName: resolveSetup(data, point).gpu.name,
      predicted,
      kvError: (predicted.kvCacheGiB - observedKv) / observedKv,
      weightsError:
        o.weightsGiB === undefined ? undefined : (predicted.weightsGiB - o.weightsGiB) / o.weightsGiB,
    };
  });
}

export interface ErrorSummary {
  readonly points: number;
  readonly minError: number;
  readonly maxError: number;
  readonly meanAbsError: number;
}

export function summarize(rows: readonly CalibrationRow[]): ErrorSummary {
  const errors = rows.map((r) => r.kvError);
  return {
    points: rows.length,
    minError: Math.min(...errors),
    maxError: Math.max(...errors),
    meanAbsError: errors.reduce((s, e) => s + Math.abs(e), 0) / Math.max(1, errors.length),
  };
}
