/**
 * How vLLM sizes its KV cache at startup, term by term, at the version the pinned KServe image
 * carries: the memory model (memory.ts) subtracts these from the budget and what is left is KV cache.
 *
 * The image: kserve/huggingfaceserver:v0.20.0-gpu pins vllm==0.24.0 (kserve v0.20.0
 * python/kserve/pyproject.toml:78; python/huggingfaceserver/uv.lock:5486) and starts it as the OpenAI
 * server (huggingfaceserver/vllm/utils.py:80-91, UsageContext.OPENAI_API_SERVER, V1 engine).
 * Line numbers below are of the vllm-0.24.0 wheel on PyPI.
 *
 *   budget   = ceil(torch total × gpu_memory_utilization)          v1/worker/utils.py:405-425
 *   non-KV   = weights + activation peak of the profile run + non-torch growth since the snapshot
 *                                                                   v1/worker/gpu_worker.py:434-463
 *   KV       = budget − non-KV − CUDA-graph estimate               gpu_worker.py:444-453,489-493
 *   blocks   = KV // (16 tokens × 2 × KV heads per rank × head dim × dtype bytes × layers)
 *                                                                   v1/core/kv_cache_utils.py:987
 *
 * The constants below are fitted on, and tested against, published startup figures
 * (models/capacity/calibration/vllm-startups.yaml; test/calibration.test.ts).
 */
import type { Architecture } from "./architectures";
import type { GpuModel } from "./gpuInstances";

export const GIB = 1024 ** 3;

/** What vLLM's memory accounting looks like at one release: the pinned one, or an older one a published figure came from. */
export interface VllmAccounting {
  readonly version: string;
  /**
   * Activation peak of the profile run, GiB = scale × (sampler logits + forward) / 2^30, with
   * sampler logits = max_num_seqs × vocab × 4 bytes (fp32) and forward = max_num_batched_tokens ×
   * (3 × intermediate + 4 × hidden) × 2 bytes. profile_run is one forward of max_num_batched_tokens
   * tokens split over min(tokens, max_num_seqs) requests, then a dummy sampler over one row per
   * request (v1/worker/gpu_model_runner.py:6239-6310, :5762). Not divided by TP (the published TP 2
   * and TP 4 activations equal TP 1's: llm-d-planner vLLM v0.19.0 accuracy report).
   */
  readonly activationScale: { readonly sampler: number; readonly forward: number };
  /** A different scale from this many sequences up (a release whose sampler warm-up grew with the batch). */
  readonly largeBatchActivation?: {
    readonly fromSeqs: number;
    readonly scale: { readonly sampler: number; readonly forward: number };
  };
  /** Non-torch memory (CUDA context growth, cuBLAS workspaces) at TP 1, GiB. */
  readonly nonTorchGiB: number;
  /** Extra non-torch memory per GPU at TP > 1 (NCCL, all-reduce buffers), GiB, by whether the GPU is Hopper or newer. */
  readonly tensorParallelGiB: { readonly hopper: number; readonly other: number };
  /** CUDA-graph memory subtracted before KV sizing (V1 model runner only), GiB; null when not subtracted. */
  readonly cudaGraphGiB: { readonly hopper: number; readonly other: number } | null;
  /** HF architectures that run on Model Runner V2 (no graph estimate subtracted). */
  readonly v2RunnerArchitectures: ReadonlySet<string>;
  /** Round the budget up to whole bytes (V1: ceil; V0 multiplied without rounding). Immaterial, kept for fidelity. */
  readonly ceilBudget: boolean;
}

/** vLLM 0.24.0: the accounting the platform plans with. */
export const VLLM_0_24: VllmAccounting = {
  version: "0.24.0",
  // Fitted on the H100 TP 1 activations of vLLM 0.17–0.19 (Llama-3.1-8B 1.89, Qwen2.5-7B 2.21,
  // Qwen3-14B 2.23 GiB): 1.35 reproduces all three within 1%; the two terms are collinear in that
  // data, so one scale. The 0.17 release cut the activation peak ~60% (Qwen3-14B 5.64 → 2.23 GiB);
  // nothing since changed profile_run's shape.
  activationScale: { sampler: 1.35, forward: 1.35 },
  // Measured 0.13–0.25 GiB at TP 1 on H100 and A100 (llm-d-planner report; dennislee22 A100 logs).
  nonTorchGiB: 0.25,
  // Hopper+ uses symmetric-memory all-reduce (VLLM_ALLREDUCE_USE_SYMM_MEM=1, envs.py:1671;
  // SYMM_MEM_ALL_REDUCE_MAX_SIZES only for capabilities 9.0/10.x,
  // distributed/device_communicators/all_reduce_utils.py:52-71): 2.06–2.13 GiB non-torch per GPU at
  // TP ≥ 2 on H100 with 0.19 (llm-d-planner report: "NCCL all-reduce buffers push actual to ~2.1
  // GiB/GPU"), i.e. 1.9 above TP 1. Ampere/Ada use NCCL and custom all-reduce: +0.13 GiB at TP 2
  // on A100 (dennislee22 logs), 0.4 kept as margin.
  tensorParallelGiB: { hopper: 1.9, other: 0.4 },
  // VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS defaults to 1 ("default since v0.21.0", envs.py:275,
  // 1894-1896): profile_cudagraph_memory() (gpu_model_runner.py:6447-6594) is subtracted before KV
  // sizing. Published pools: 0.51–1.85 GiB (mean 1.04) on H100 with 0.19 (llm-d-planner report),
  // 0.50 / 0.65 GiB at TP 1 / 2 on A100 ("Graph capturing finished … took 0.50 GiB", dennislee22 logs).
  cudaGraphGiB: { hopper: 1.0, other: 0.5 },
  // DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES (config/vllm.py:68-77, applied at :522-548). Model Runner
  // V2's profile_cudagraph_memory() returns 0 (v1/worker/gpu/model_runner.py:684-686): its graphs
  // are captured after KV allocation, out of the (1 − utilization) headroom.
  v2RunnerArchitectures: new Set([
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "Qwen3ForCausalLM",
    "Qwen2MoeForCausalLM",
    "DeepseekV2ForCausalLM",
    "GraniteMoeForCausalLM",
  ]),
  ceilBudget: true,
};

/**
 * Older accounting, only to check the shared terms (budget, weights, non-torch, KV page arithmetic)
 * against figures published before 0.24. Never used to plan.
 * - 0.17–0.19: as 0.24 but no CUDA-graph subtraction (it arrived in 0.21).
 * - 0.10–0.16 on Hopper's 8192/1024 batch: the activation peak was sampler-bound (Qwen3-0.6B 5.56,
 *   Qwen3-32B 5.64, Llama-3.1-8B 4.76 GiB: llm-d-benchmark empirical-vllm-memory-results.md), and
 *   TP ≥ 2 added ~0.4 GiB (Qwen3-32B 0.54, Llama-3.3-70B-FP8 0.55 GiB at TP 2, same file).
 * - V0 (≤ 0.7) with chunked prefill: V0 profiled like V1 with chunked prefill and subtracted no graphs.
 */
export const VLLM_0_19: VllmAccounting = { ...VLLM_0_24, version: "0.19", cudaGraphGiB: null };
export const VLLM_0_11: VllmAccounting = {
  ...VLLM_0_24,
  version: "0.11",
  // At Hopper's 1024 sequences: fitted on P06/P07/P08 (llm-d-benchmark, vLLM 0.11.0, H100); the rest
  // of that era is holdout. At 256 sequences the 0.10.1.1 A100 runs show ≤ 0.4 GiB, as 0.24's scale.
  largeBatchActivation: { fromSeqs: 1024, scale: { sampler: 9.56, forward: 0.0625 } },
  tensorParallelGiB: { hopper: 0.4, other: 0.4 },
  cudaGraphGiB: null,
};
export const VLLM_V0: VllmAccounting = { ...VLLM_0_24, version: "V0", cudaGraphGiB: null, ceilBudget: false };

/** The release the pinned image runs. */
export const PINNED_VLLM = VLLM_0_24;

export interface BatchShape {
  readonly maxNumBatchedTokens: number;
  readonly maxNumSeqs: number;
}

/**
 * vLLM's defaults for the OpenAI server (engine/arg_utils.py:2375-2456, applied at :2568-2616): 8192
 * batched tokens and 1024 sequences when the NVML total is ≥ 70 GiB and the device name has no
 * "a100", else 2048 / 256. NVML's total (platforms/cuda.py:768-771) is the nvidia-smi figure.
 */
export function defaultBatchShape(gpu: Pick<GpuModel, "name" | "memoryGiB">): BatchShape {
  return gpu.memoryGiB >= 70 && !gpu.name.toLowerCase().includes("a100")
    ? { maxNumBatchedTokens: 8192, maxNumSeqs: 1024 }
    : { maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
}

/**
 * The batch shape the profile run uses: config's values where set, vLLM's defaults otherwise.
 * Without chunked prefill a whole prompt is one batch: max_num_batched_tokens = max(max_model_len,
 * default) (arg_utils.py:2607-2616), so the activation peak grows with the context.
 */
export function profileBatch(
  gpu: Pick<GpuModel, "name" | "memoryGiB">,
  engine: {
    readonly maxNumBatchedTokens?: number;
    readonly maxNumSeqs?: number;
    readonly chunkedPrefill?: boolean;
  },
  maxModelLen: number,
): BatchShape {
  const d = defaultBatchShape(gpu);
  const tokens = engine.maxNumBatchedTokens ?? d.maxNumBatchedTokens;
  return {
    maxNumBatchedTokens: engine.chunkedPrefill === false ? Math.max(tokens, maxModelLen) : tokens,
    maxNumSeqs: engine.maxNumSeqs ?? d.maxNumSeqs,
  };
}

export function activationGiB(a: Architecture, batch: BatchShape, acc: VllmAccounting = PINNED_VLLM): number {
  const sampler = batch.maxNumSeqs * a.vocabSize * 4;
  const forward = batch.maxNumBatchedTokens * (3 * a.intermediateSize + 4 * a.hiddenSize) * 2;
  const large = acc.largeBatchActivation;
  const scale = large && batch.maxNumSeqs >= large.fromSeqs ? large.scale : acc.activationScale;
  return (scale.sampler * sampler + scale.forward * forward) / GIB;
}

const isHopperOrNewer = (gpu: Pick<GpuModel, "computeCapability">) => gpu.computeCapability >= 9;

export function nonTorchGiB(
  gpu: Pick<GpuModel, "computeCapability">,
  tensorParallel: number,
  acc: VllmAccounting = PINNED_VLLM,
): number {
  const tp = tensorParallel > 1 ? acc.tensorParallelGiB[isHopperOrNewer(gpu) ? "hopper" : "other"] : 0;
  return acc.nonTorchGiB + tp;
}

/** Does the model run on Model Runner V2 at this release? Unknown architectures are assumed not to (the safe side: graphs subtracted). */
export function usesModelRunnerV2(
  a: Pick<Architecture, "hfArchitecture">,
  acc: VllmAccounting = PINNED_VLLM,
): boolean {
  return a.hfArchitecture !== undefined && acc.v2RunnerArchitectures.has(a.hfArchitecture);
}

export function cudaGraphGiB(
  a: Pick<Architecture, "hfArchitecture">,
  gpu: Pick<GpuModel, "computeCapability">,
  acc: VllmAccounting = PINNED_VLLM,
): number {
  if (acc.cudaGraphGiB === null || usesModelRunnerV2(a, acc)) return 0;
  return acc.cudaGraphGiB[isHopperOrNewer(gpu) ? "hopper" : "other"];
}
