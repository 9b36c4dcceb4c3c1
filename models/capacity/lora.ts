/**
 * LoRA adapters on a vLLM 0.24 replica: the slots it reserves and what they cost in GPU memory.
 *
 * vLLM allocates, once at startup, `max_loras` slots of rank `max_lora_rank` for every wrapped linear
 * layer — A `[max_loras, 1, rank, in]` per slice and B `[max_loras, 1, out, rank]` — in the LoRA dtype
 * (the base model's by default: vllm 0.24.0 lora/layers/base_linear.py 100-151,
 * column_parallel_linear.py 204-246 (gate_up: 2 slices), 451 (qkv: 3 slices), config/lora.py 127-131).
 * Under tensor parallelism column-parallel layers keep the whole input and their share of the output,
 * row-parallel layers their share of the input and the whole output (row_parallel_linear.py 27-30).
 * The slots are counted as weights inside --gpu-memory-utilization (gpu_model_runner.py 5170-5183), so
 * they come out of the KV cache. Embedding and LM-head LoRA are not counted (off by default); MoE
 * experts' LoRA is not modelled.
 */
import type { Architecture } from "./architectures";

/** The ranks vLLM 0.24 accepts for --max-lora-rank (config/lora.py MaxLoRARanks). */
const LORA_RANKS = [1, 8, 16, 32, 64, 128, 256, 320, 512] as const;

export interface LoraSlots {
  /** Adapters one batch may mix: every configured adapter. */
  readonly maxLoras: number;
  /** --max-lora-rank: the largest adapter's rank, rounded up to an accepted value. */
  readonly maxRank: number;
}

export function loraSlots(adapters: ReadonlyArray<{ rank: number }>): LoraSlots | undefined {
  if (adapters.length === 0) return undefined;
  const largest = Math.max(...adapters.map((a) => a.rank));
  const maxRank = LORA_RANKS.find((r) => r >= largest) ?? LORA_RANKS[LORA_RANKS.length - 1];
  return { maxLoras: adapters.length, maxRank };
}

/** Bytes of LoRA slots on each GPU of a replica. */
export function loraBytesPerGpu(
  a: Architecture,
  slots: LoraSlots,
  tensorParallel: number,
  bytesPerValue: number,
): number {
  const t = tensorParallel;
  const h = a.hiddenSize;
  const qkvOut = a.attentionHeads * a.headDim + 2 * a.kvHeads * a.headDim;
  const attnOut = a.attentionHeads * a.headDim;
  const i = a.intermediateSize;
  // Per layer, in values of rank 1: A (slices × input) + B (output), sharded as vLLM shards them.
  const perLayer =
    3 * h +
    qkvOut / t + // qkv_proj: column parallel, 3 slices
    attnOut / t +
    h + // o_proj: row parallel
    2 * h +
    (2 * i) / t + // gate_up_proj: column parallel, 2 slices
    i / t +
    h; // down_proj: row parallel
  return slots.maxLoras * slots.maxRank * perLayer * a.layers * bytesPerValue;
}
