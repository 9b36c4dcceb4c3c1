/**
 * The GPU memory model of an LLM replica served by vLLM (TGI's is close enough to share it).
 *
 * - Weights = parameters × bytes per parameter of the precision. Quantization (fp8, int8, awq/gptq
 *   4-bit) applies to the linear layers only: the embedding and LM head stay in 16 bits, as vLLM loads
 *   them. 4-bit AWQ/GPTQ add group scales and zero points (group size 128: a 16-bit scale and a 4-bit
 *   zero per 128 weights ≈ 0.02 bytes per weight).
 * - KV cache per token = 2 (K and V) × layers × KV heads × head dim × bytes of the KV-cache dtype.
 * - Tensor parallelism over t GPUs splits the weights and the KV heads t ways (KV heads are replicated
 *   when t exceeds them, so each GPU keeps at least one).
 * - Usable memory per GPU = GPU memory × gpu_memory_utilization (vLLM's budget), minus weights, minus a
 *   runtime allowance (CUDA context, CUDA graphs, activation peak of the profiling run, sampler):
 *   2.5 GiB per GPU, plus 0.5 GiB for NCCL buffers when t > 1. The allowance is calibrated on a
 *   published vLLM startup log (vllm-project/vllm#10517: Llama-3.1-8B BF16 on a 23.58 GiB GPU at 0.9
 *   left 3.81 GiB of KV cache = 31,232 tokens after 14.99 GiB of weights, i.e. 2.42 GiB of overhead).
 *   What remains is the KV cache, allocated in blocks of 16 tokens.
 */
import { embeddingParameters, type Architecture } from "./architectures";

export const GIB = 1024 ** 3;
export const BLOCK_TOKENS = 16;
export const OVERHEAD_GIB_PER_GPU = 2.5;
export const NCCL_OVERHEAD_GIB = 0.5;
/** vLLM's default --gpu-memory-utilization for years (pinned explicitly, newer mains use 0.92). */
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

export function kvBytesPerToken(a: Architecture, e: EnginePrecision, tensorParallel = 1): number {
  const bytes = e.kvCacheDtype === "auto" ? activationBytes(e) : 1;
  const kvHeadsPerGpu = Math.max(1, a.kvHeads / tensorParallel);
  return 2 * a.layers * kvHeadsPerGpu * a.headDim * bytes;
}

export interface ReplicaMemory {
  /** Per GPU, GiB. */
  readonly usableGiB: number;
  readonly weightsGiB: number;
  readonly overheadGiB: number;
  /** KV cache per GPU, GiB (negative: the weights alone do not fit). */
  readonly kvCacheGiB: number;
  /** Tokens the replica's KV cache holds (all sequences together). */
  readonly kvTokens: number;
  /** KV bytes one token takes on each GPU. */
  readonly kvBytesPerTokenPerGpu: number;
}

export function replicaMemory(
  a: Architecture,
  e: EnginePrecision,
  gpuMemoryGiB: number,
  tensorParallel: number,
  gpuMemoryUtilization = DEFAULT_GPU_MEMORY_UTILIZATION,
): ReplicaMemory {
  const usableGiB = gpuMemoryGiB * gpuMemoryUtilization;
  const weightsGiB = weightBytes(a, e) / tensorParallel / GIB;
  const overheadGiB = OVERHEAD_GIB_PER_GPU + (tensorParallel > 1 ? NCCL_OVERHEAD_GIB : 0);
  const kvCacheGiB = usableGiB - weightsGiB - overheadGiB;
  const perToken = kvBytesPerToken(a, e, tensorParallel);
  const blocks = kvCacheGiB > 0 ? Math.floor((kvCacheGiB * GIB) / (perToken * BLOCK_TOKENS)) : 0;
  return {
    usableGiB,
    weightsGiB,
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
