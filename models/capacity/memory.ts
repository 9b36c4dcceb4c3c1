/**
 * The GPU memory model of an LLM replica served by vLLM (TGI's is close enough to share it), per GPU,
 * following vLLM's own startup accounting at the pinned release (vllmAccounting.ts):
 *
 *   budget  = ceil(torch total × gpu_memory_utilization)
 *   KV      = budget − weights/TP − activation(batch, model) − non-torch(TP, GPU) − CUDA graphs(runner, GPU)
 *   tokens  = floor(KV / (16 × KV bytes per token per GPU)) × 16
 *
 * - Weights = parameters × bytes per parameter of the precision. Quantization (fp8, int8, awq/gptq
 *   4-bit) applies to the linear layers only: the embedding and LM head stay in 16 bits, as vLLM loads
 *   them. 4-bit AWQ/GPTQ add group scales and zero points (group size 128: a 16-bit scale and a 4-bit
 *   zero per 128 weights ≈ 0.02 bytes per weight). Matches "Model loading took" within 1% on every
 *   calibration point.
 * - KV cache per token = 2 (K and V) × layers × KV heads × head dim × bytes of the KV-cache dtype.
 * - Tensor parallelism over t GPUs splits the weights and the KV heads t ways (KV heads are replicated
 *   when t exceeds them, so each GPU keeps at least one). vLLM sizes blocks by the smallest rank
 *   (kv_cache_utils.py:2121-2135); ranks are symmetric here.
 * - Pipeline parallelism over p stages (one per node, multi-node replicas) splits the decoder layers:
 *   vLLM gives each stage floor(L/p) layers and one more to the `L mod p` stages before the last
 *   (vllm/distributed/utils.py get_pp_indices: partitions[-i] += 1 for i in 2..rem+1). The first
 *   stage also holds the embedding, the last the LM head (one matrix each; both when tied). Each
 *   stage's GPUs hold the KV of their own layers only; the fullest stage bounds weights and cache.
 */
import { embeddingParameters, type Architecture } from "./architectures";
import { loraBytesPerGpu, type LoraSlots } from "./lora";

import {
  activationGiB,
  cudaGraphGiB,
  GIB,
  nonTorchGiB,
  PINNED_VLLM,
  type BatchShape,
  type VllmAccounting,
} from "./vllmAccounting";
import type { GpuModel } from "./gpuInstances";

export { GIB };
/** Tokens per KV block: FlashAttention/FlashInfer keep vLLM's default of 16 (config/cache.py:46). */
export const BLOCK_TOKENS = 16;
/**
 * The --gpu-memory-utilization the platform passes when config leaves it out. vLLM 0.24's own
 * default is 0.92; 0.9 leaves Model Runner V2's graphs and the sampler warm-up (both after KV
 * allocation, v1/engine/core.py:283-321) more of the headroom.
 */
export const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;

export const PRECISIONS = ["float32", "bfloat16", "float16", "fp8", "int8", "int4"] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Bytes per parameter of the quantized linear layers. */
export const BYTES_PER_PARAMETER: Record<Precision, number> = {
  float32: 4,
  bfloat16: 2,
  float16: 2,
  fp8: 1,
  int8: 1,
  // 0.5 bytes + a 16-bit scale and a 4-bit zero point per group of 128 weights.
  int4: 0.5 + (2 + 0.5) / 128,
};

export interface EnginePrecision {
  readonly quantization?: "awq" | "gptq" | "fp8" | "int8";
  readonly dtype?: "auto" | "bfloat16" | "float16" | "float32";
  readonly kvCacheDtype: "auto" | "fp8" | "fp8_e4m3" | "fp8_e5m2";
  /** LoRA adapter slots (models[].adapters): counted with the weights, as vLLM counts them (./lora.ts). */
  readonly lora?: LoraSlots;
}

/** Precision of the activations (and of unquantized layers): bf16 unless the config says otherwise. */
function activationBytes(e: EnginePrecision): number {
  return e.dtype === "float32" ? 4 : 2;
}

export function weightPrecision(e: EnginePrecision): Precision {
  switch (e.quantization) {
    case "awq":
    case "gptq":
      return "int4";
    case "fp8":
      return "fp8";
    case "int8":
      return "int8";
    default:
      return e.dtype === "float32" ? "float32" : e.dtype === "float16" ? "float16" : "bfloat16";
  }
}

export function weightBytes(a: Architecture, e: EnginePrecision): number {
  const precision = weightPrecision(e);
  if (precision === "float32" || precision === "bfloat16" || precision === "float16")
    return a.parameters * BYTES_PER_PARAMETER[precision];
  const embeddings = embeddingParameters(a);
  return (a.parameters - embeddings) * BYTES_PER_PARAMETER[precision] + embeddings * activationBytes(e);
}

/** How a replica splits the model: tensor parallel within a node, pipeline stages across nodes. */
export interface Parallelism {
  readonly tensor: number;
  readonly pipeline: number;
}

function layout(p: number | Parallelism): Parallelism {
  return typeof p === "number" ? { tensor: p, pipeline: 1 } : p;
}

/** Decoder layers per pipeline stage, first to last, as vLLM's get_pp_indices splits them. */
export function pipelineStages(layers: number, pipeline: number): number[] {
  const stages = Array<number>(pipeline).fill(Math.floor(layers / pipeline));
  for (let i = 2; i < (layers % pipeline) + 2; i++) stages[pipeline - i]! += 1;
  return stages;
}

/** Decoder layers of the largest pipeline stage. */
export function stageLayers(a: Architecture, pipeline: number): number {
  return Math.max(...pipelineStages(a.layers, pipeline));
}

export function kvBytesPerToken(
  a: Architecture,
  e: EnginePrecision,
  parallelism: number | Parallelism = 1,
): number {
  const { tensor, pipeline } = layout(parallelism);
  const bytes = e.kvCacheDtype === "auto" ? activationBytes(e) : 1;
  const kvHeadsPerGpu = Math.max(1, a.kvHeads / tensor);
  return 2 * stageLayers(a, pipeline) * kvHeadsPerGpu * a.headDim * bytes;
}

/**
 * Weight bytes of the fullest pipeline stage (the whole model with one stage): its decoder layers,
 * plus the embedding on the first stage and the LM head on the last (a tied matrix is on both), in
 * the precision weightBytes gives them.
 */
export function stageWeightBytes(a: Architecture, e: EnginePrecision, pipeline: number): number {
  const total = weightBytes(a, e);
  if (pipeline <= 1) return total;
  // Embeddings are in the activation precision whether or not the linear layers are quantized.
  const embeddingBytes = embeddingParameters(a) * activationBytes(e);
  const perMatrix = embeddingBytes / (a.tiedEmbeddings ? 1 : 2);
  const perLayer = (total - embeddingBytes) / a.layers;
  const stages = pipelineStages(a.layers, pipeline);
  return Math.max(
    ...stages.map((layers, k) => layers * perLayer + (k === 0 || k === pipeline - 1 ? perMatrix : 0)),
  );
}

export interface ReplicaMemory {
  /** Per GPU, GiB: vLLM's budget, ceil(torch total × utilization). */
  readonly usableGiB: number;
  readonly weightsGiB: number;
  /** Activation peak of vLLM's profile run. */
  readonly activationGiB: number;
  /** Non-torch memory: CUDA context growth, NCCL and all-reduce buffers. */
  readonly nonTorchGiB: number;
  /** CUDA-graph estimate subtracted before KV sizing (0 on Model Runner V2). */
  readonly cudaGraphGiB: number;
  /** activation + non-torch + CUDA graphs: what the runtime takes besides weights and KV. */
  readonly overheadGiB: number;
  /** KV cache per GPU, GiB (negative: the weights and runtime alone do not fit). */
  readonly kvCacheGiB: number;
  /** Tokens the replica's KV cache holds (all sequences together). */
  readonly kvTokens: number;
  /** KV bytes one token takes on each GPU. */
  readonly kvBytesPerTokenPerGpu: number;
}

/** What the memory model needs of a GPU. */
export type MemoryGpu = Pick<GpuModel, "torchTotalGiB" | "computeCapability">;

export function replicaMemory(
  a: Architecture,
  e: EnginePrecision,
  gpu: MemoryGpu,
  parallelism: number | Parallelism,
  gpuMemoryUtilization: number,
  batch: BatchShape,
  accounting: VllmAccounting = PINNED_VLLM,
): ReplicaMemory {
  const { tensor: tensorParallel, pipeline } = layout(parallelism);
  const budgetBytes = gpu.torchTotalGiB * GIB * gpuMemoryUtilization;
  const usableGiB = (accounting.ceilBudget ? Math.ceil(budgetBytes) : budgetBytes) / GIB;
  const lora = e.lora ? loraBytesPerGpu(a, e.lora, tensorParallel, activationBytes(e)) : 0;
  const weightsGiB = (stageWeightBytes(a, e, pipeline) / tensorParallel + lora) / GIB;
  const activation = activationGiB(a, batch, accounting);
  const nonTorch = nonTorchGiB(gpu, tensorParallel, accounting);
  const graphs = cudaGraphGiB(a, gpu, accounting);
  const overheadGiB = activation + nonTorch + graphs;
  const kvCacheGiB = usableGiB - weightsGiB - overheadGiB;
  const perToken = kvBytesPerToken(a, e, parallelism);
  const blocks = kvCacheGiB > 0 ? Math.floor((kvCacheGiB * GIB) / (perToken * BLOCK_TOKENS)) : 0;
  return {
    usableGiB,
    weightsGiB,
    activationGiB: activation,
    nonTorchGiB: nonTorch,
    cudaGraphGiB: graphs,
    overheadGiB,
    kvCacheGiB,
    kvTokens: blocks * BLOCK_TOKENS,
    kvBytesPerTokenPerGpu: perToken,
  };
}

/**
 * Tensor-parallel degrees vLLM accepts for a model: t divides the attention heads, and KV heads
 * divide evenly (t divides them, or they divide t and are replicated).
 */
export function validTensorParallel(a: Architecture, t: number): boolean {
  return a.attentionHeads % t === 0 && (a.kvHeads % t === 0 || t % a.kvHeads === 0);
}
