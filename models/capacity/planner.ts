/**
 * Capacity decisions for each model, before anything is deployed: which pool and how many GPUs a
 * replica gets (`gpu: auto`, or the smallest tensor-parallel degree when `gpu.count` is left out),
 * whether the LLM fits, how many full-length sequences its KV cache holds, the vLLM settings config
 * left out, and what it costs. A model that does not fit is a config error that says by how much and
 * names the cheapest fixes among the configured pools (and the catalog, when none of them can).
 */
import type { Problem } from "../../config/problems";
import type { GpuPoolConfig } from "../../config/schema";
import { isLlm, type EngineSettings, type ModelInput } from "../schema";
import { ARCHITECTURES, inferArchitecture, type Architecture } from "./architectures";
import { GPU_INSTANCES, GPU_MODELS, type GpuInstanceType, type GpuModel } from "./gpuInstances";
import { poolGpu } from "../cluster/nodePools";
import {
  DEFAULT_GPU_MEMORY_UTILIZATION,
  BLOCK_TOKENS,
  GIB,
  replicaMemory,
  validTensorParallel,
  weightPrecision,
  type ReplicaMemory,
} from "./memory";

/** Context the planner sizes for when engine.maxModelLen is left out. */
export const SIZING_CONTEXT = 8192;
/** A derived context shorter than this is not worth serving: treat it as "does not fit". */
export const MIN_DERIVED_CONTEXT = 2048;

export interface GpuChoice {
  readonly pool: string;
  readonly count: number;
}

export interface PoolHardware {
  readonly name: string;
  readonly instance: GpuInstanceType;
  readonly gpu: GpuModel;
  /** Not one of the stack's pools: a catalog instance type suggested as a new pool. */
  readonly suggested?: boolean;
}

export interface EngineDecision {
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  readonly gpuMemoryUtilization: number;
  /** Which of the three the planner chose (config left them out). */
  readonly derived: Array<"maxModelLen" | "maxNumSeqs" | "gpuMemoryUtilization">;
}

export interface LlmCapacity {
  readonly architecture: string;
  readonly precision: string;
  readonly kvCacheDtype: string;
  readonly memory: ReplicaMemory;
  readonly engine: EngineDecision;
  /** Sequences of maxModelLen tokens the KV cache holds at once. */
  readonly concurrentSequences: number;
  /** KV cache per GPU left after minConcurrency full-length sequences, GiB. */
  readonly headroomGiB: number;
}

export interface CapacityPlan {
  readonly model: string;
  readonly pool: string;
  readonly instanceType: string;
  readonly gpuModel: string;
  readonly gpusPerReplica: number;
  readonly autoPlaced: boolean;
  readonly llm?: LlmCapacity;
  readonly cost: {
    /** On-demand USD per hour for one replica's share of its node; null when not sold on demand. */
    readonly perReplicaHour: number | null;
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly atMinReplicas: number | null;
    readonly atMaxReplicas: number | null;
  };
}

export interface CapacityResult {
  readonly plan?: CapacityPlan;
  readonly problems: Problem[];
}

type EngineInput = Pick<
  EngineSettings,
  | "maxModelLen"
  | "maxNumSeqs"
  | "gpuMemoryUtilization"
  | "maxNumBatchedTokens"
  | "chunkedPrefill"
  | "quantization"
  | "dtype"
  | "kvCacheDtype"
  | "tensorParallelSize"
>;

export function poolHardware(pool: Pick<GpuPoolConfig, "name" | "instanceTypes">): PoolHardware | undefined {
  const spec = poolGpu(pool);
  return spec ? { name: pool.name, instance: spec.instance, gpu: spec.model } : undefined;
}

/** Per-GPU on-demand price of a pool (a replica of n GPUs pays n shares of its node). */
export function pricePerGpuHour(hw: PoolHardware): number | null {
  return hw.instance.pricePerHour === null ? null : hw.instance.pricePerHour / hw.instance.gpus;
}

/** GPU counts a replica may use on a node: divisors of the node's GPUs (so replicas pack the node). */
export function replicaGpuCounts(hw: PoolHardware): number[] {
  return [1, 2, 4, 8].filter((n) => n <= hw.instance.gpus && hw.instance.gpus % n === 0);
}

export function resolveArchitecture(
  model: Pick<ModelInput, "architecture" | "storageUri">,
): { name: string; architecture: Architecture } | { error: string } {
  const a = model.architecture;
  if (typeof a === "object") return { name: "custom", architecture: a };
  const name = a ?? inferArchitecture(model.storageUri ?? "");
  if (name === undefined)
    return {
      error: `cannot tell the model's architecture from ${model.storageUri}; set architecture to one of ${Object.keys(ARCHITECTURES).join(", ")}, or declare its shape {parameters, layers, hiddenSize, intermediateSize, attentionHeads, kvHeads, headDim, vocabSize, tiedEmbeddings, maxContext}`,
    };
  const known = (ARCHITECTURES as Record<string, Architecture>)[name];
  if (!known)
    return {
      error: `unknown architecture "${name}" (known: ${Object.keys(ARCHITECTURES).join(", ")}); or declare its shape`,
    };
  return { name, architecture: known };
}

/** vLLM's own default batch width for a GPU (arg_utils get_batch_defaults): 1024 on ≥ 70 GiB GPUs but A100, else 256. */
export function defaultMaxNumSeqs(gpu: GpuModel): number {
  return gpu.memoryGiB >= 70 && !gpu.name.startsWith("A100") ? 1024 : 256;
}

function floorPow2(n: number): number {
  return n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
}

interface Evaluation {
  readonly fits: boolean;
  readonly memory: ReplicaMemory;
  readonly maxModelLen: number;
  /** KV tokens needed for the requirement; kvTokens short of it when it does not fit. */
  readonly neededTokens: number;
}

/** Does the model fit `count` GPUs of `hw` with `engine`, holding minConcurrency sequences? */
function evaluate(
  a: Architecture,
  engine: EngineInput,
  hw: PoolHardware,
  count: number,
  minConcurrency: number,
): Evaluation {
  const util = engine.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION;
  const memory = replicaMemory(a, engine, hw.gpu.memoryGiB, count, util);
  const target = engine.maxModelLen ?? Math.min(a.maxContext, SIZING_CONTEXT);
  const neededTokens = target * minConcurrency;
  const maxModelLen =
    engine.maxModelLen ?? Math.min(a.maxContext, floorPow2(Math.floor(memory.kvTokens / minConcurrency)));
  const fits =
    validTensorParallel(a, count) &&
    memory.kvTokens >= neededTokens &&
    (engine.maxModelLen !== undefined || maxModelLen >= Math.min(MIN_DERIVED_CONTEXT, a.maxContext));
  return { fits, memory, maxModelLen, neededTokens };
}

interface Option {
  readonly hw: PoolHardware;
  readonly count: number;
  readonly engine: EngineInput;
  readonly changes: string[];
  readonly evaluation: Evaluation;
  readonly costPerReplicaHour: number;
}

/** Engine variants a user can switch to without a new checkpoint: dynamic FP8 weights, FP8 KV cache. */
function engineVariants(engine: EngineInput): Array<{ engine: EngineInput; changes: string[] }> {
  const variants = [{ engine, changes: [] as string[] }];
  const fp8Kv = engine.kvCacheDtype === "auto";
  const fp8Weights = engine.quantization === undefined;
  if (fp8Kv)
    variants.push({ engine: { ...engine, kvCacheDtype: "fp8" }, changes: ["engine.kvCacheDtype: fp8"] });
  if (fp8Weights)
    variants.push({ engine: { ...engine, quantization: "fp8" }, changes: ["engine.quantization: fp8"] });
  if (fp8Kv && fp8Weights)
    variants.push({
      engine: { ...engine, quantization: "fp8", kvCacheDtype: "fp8" },
      changes: ["engine.quantization: fp8", "engine.kvCacheDtype: fp8"],
    });
  return variants;
}

function options(
  a: Architecture,
  pools: readonly PoolHardware[],
  minConcurrency: number,
  variants: Array<{ engine: EngineInput; changes: string[] }>,
): Option[] {
  const out: Option[] = [];
  for (const hw of pools)
    for (const count of replicaGpuCounts(hw))
      for (const v of variants) {
        const evaluation = evaluate(a, v.engine, hw, count, minConcurrency);
        if (!evaluation.fits) continue;
        const perGpu = pricePerGpuHour(hw);
        out.push({
          hw,
          count,
          engine: v.engine,
          changes: v.changes,
          evaluation,
          costPerReplicaHour: perGpu === null ? Number.POSITIVE_INFINITY : perGpu * count,
        });
      }
  // Cheapest first; then fewer GPUs (less NCCL traffic), fewer config changes, the stack's pool order.
  return out.sort(
    (x, y) =>
      x.costPerReplicaHour - y.costPerReplicaHour ||
      x.count - y.count ||
      x.changes.length - y.changes.length ||
      pools.indexOf(x.hw) - pools.indexOf(y.hw),
  );
}

/** Every catalog instance type as a would-be pool: fixes to suggest when no configured pool can fit. */
function catalogPools(): PoolHardware[] {
  return Object.values(GPU_INSTANCES).map((instance) => ({
    name: instance.instanceType,
    instance,
    gpu: GPU_MODELS[instance.gpu],
    suggested: true,
  }));
}

function money(x: number): string {
  return Number.isFinite(x) ? `$${x.toFixed(2)}/h` : "no on-demand price";
}

function describeFix(o: Option, current: GpuChoice | undefined): string {
  const changes = [...o.changes];
  if (o.hw.suggested)
    changes.unshift(
      `a new pool of ${o.hw.instance.instanceType} (${o.hw.instance.gpus}× ${o.hw.gpu.name}) with gpu.count: ${o.count}`,
    );
  else if (!current || current.pool !== o.hw.name || current.count !== o.count)
    changes.unshift(`gpu: {pool: ${o.hw.name}, count: ${o.count}}`);
  const seqs = Math.floor(o.evaluation.memory.kvTokens / o.evaluation.maxModelLen);
  return `${changes.join(" + ")} (${money(o.costPerReplicaHour)} per replica, ${seqs} sequences of ${o.evaluation.maxModelLen} tokens)`;
}

function cheapestFixes(
  a: Architecture,
  engine: EngineInput,
  pools: readonly PoolHardware[],
  minConcurrency: number,
  current: GpuChoice | undefined,
): string {
  const variants = engineVariants(engine);
  let fixes = options(a, pools, minConcurrency, variants);
  if (fixes.length === 0) fixes = options(a, catalogPools(), minConcurrency, variants);
  if (fixes.length === 0)
    return "no GPU in the catalog holds it even with FP8 weights and KV cache; lower engine.maxModelLen or minConcurrency";
  const seen = new Set<string>();
  const picked = fixes.filter((o) => {
    const key = describeFix(o, current);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return `cheapest fixes: ${picked
    .slice(0, 3)
    .map((o) => describeFix(o, current))
    .join("; ")}`;
}

function costOf(perReplicaHour: number | null, min: number, max: number): CapacityPlan["cost"] {
  return {
    perReplicaHour,
    minReplicas: min,
    maxReplicas: max,
    atMinReplicas: perReplicaHour === null ? null : perReplicaHour * min,
    atMaxReplicas: perReplicaHour === null ? null : perReplicaHour * max,
  };
}

function shortfall(e: Evaluation, minConcurrency: number): string {
  const m = e.memory;
  const perGpuNeedGiB = (e.neededTokens * m.kvBytesPerTokenPerGpu) / GIB;
  const missing = perGpuNeedGiB - Math.max(0, m.kvCacheGiB);
  if (m.kvCacheGiB <= 0)
    return `weights ${m.weightsGiB.toFixed(1)} GiB + runtime ${m.overheadGiB.toFixed(1)} GiB per GPU exceed the usable ${m.usableGiB.toFixed(1)} GiB by ${(-m.kvCacheGiB).toFixed(1)} GiB, before any KV cache`;
  return `the KV cache holds ${m.kvTokens} tokens (${m.kvCacheGiB.toFixed(1)} GiB per GPU after ${m.weightsGiB.toFixed(1)} GiB of weights), but ${minConcurrency} sequence(s) of ${e.neededTokens / minConcurrency} tokens need ${e.neededTokens} (${missing.toFixed(1)} GiB per GPU short)`;
}

/** Where a model runs and what its replicas cost: the part of a plan every GPU model has. */
function placement(model: ModelInput, hw: PoolHardware, count: number, autoPlaced: boolean): CapacityPlan {
  const perGpu = pricePerGpuHour(hw);
  const { minReplicas, maxReplicas } = model.autoscaling;
  return {
    model: model.name,
    pool: hw.name,
    instanceType: hw.instance.instanceType,
    gpuModel: hw.gpu.name,
    gpusPerReplica: count,
    autoPlaced,
    cost: costOf(perGpu === null ? null : perGpu * count, minReplicas, maxReplicas),
  };
}

export interface PlanInput {
  readonly model: ModelInput;
  /** Key path of the model entry, e.g. `models[2]`. */
  readonly at: string;
  readonly pools: readonly GpuPoolConfig[];
}

/** Places one model and sizes its engine. Models without GPUs get no plan and no problems. */
export function planModel({ model, at, pools }: PlanInput): CapacityResult {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${at}.${path}`, message });
  if (!model.gpu) return { problems };
  const hardware = pools.map(poolHardware).filter((h): h is PoolHardware => h !== undefined);
  const gpu = model.gpu;

  if (!isLlm(model)) {
    // Classic GPU predictors (Triton, TorchServe): one GPU, the cheapest pool when asked to choose.
    let hw: PoolHardware | undefined;
    let count = 1;
    if (gpu === "auto") {
      hw = [...hardware].sort(
        (x, y) => (pricePerGpuHour(x) ?? Infinity) - (pricePerGpuHour(y) ?? Infinity),
      )[0];
      if (!hw) add("gpu", "gpu: auto needs at least one GPU pool under gpuPools");
    } else {
      hw = hardware.find((h) => h.name === gpu.pool);
      count = gpu.count ?? 1;
    }
    if (!hw) return { problems };
    return { problems, plan: placement(model, hw, count, gpu === "auto") };
  }

  const resolved = resolveArchitecture(model);
  if ("error" in resolved) {
    add("architecture", resolved.error);
    return { problems };
  }
  const a = resolved.architecture;
  const engine = model.engine;
  const minConcurrency = model.minConcurrency;
  if (engine.maxModelLen !== undefined && engine.maxModelLen > a.maxContext)
    add(
      "engine.maxModelLen",
      `${engine.maxModelLen} exceeds the ${resolved.name} context of ${a.maxContext} tokens`,
    );

  // Placement: auto over every pool; a named pool with the smallest GPU count that fits; or as configured.
  let hw: PoolHardware | undefined;
  let count: number | undefined;
  if (gpu === "auto") {
    const best = options(a, hardware, minConcurrency, [{ engine, changes: [] }])[0];
    if (!best) {
      add(
        "gpu",
        `gpu: auto found no pool and GPU count that holds ${resolved.name} with ${minConcurrency} sequence(s) of ${engine.maxModelLen ?? Math.min(a.maxContext, SIZING_CONTEXT)} tokens; ${cheapestFixes(a, engine, hardware, minConcurrency, undefined)}`,
      );
      return { problems };
    }
    hw = best.hw;
    count = best.count;
  } else {
    hw = hardware.find((h) => h.name === gpu.pool);
    if (!hw) return { problems }; // unknown pool: reported by the semantic checks
    const pool = hw;
    if (gpu.count !== undefined) {
      count = gpu.count;
      if (!validTensorParallel(a, count)) {
        const valid = replicaGpuCounts(pool).filter((n) => validTensorParallel(a, n));
        add(
          "gpu.count",
          `tensor parallelism over ${count} GPUs must divide ${resolved.name}'s ${a.attentionHeads} attention heads and ${a.kvHeads} KV heads; valid on pool "${pool.name}": ${valid.join(", ")}`,
        );
        return { problems };
      }
    } else {
      count = replicaGpuCounts(pool).find((n) => evaluate(a, engine, pool, n, minConcurrency).fits);
      if (count === undefined) {
        add(
          "gpu.count",
          `${resolved.name} does not fit pool "${pool.name}" (${pool.instance.gpus}× ${pool.gpu.name} per node) at any GPU count; ${cheapestFixes(a, engine, hardware, minConcurrency, undefined)}`,
        );
        return { problems };
      }
    }
  }
  if (engine.tensorParallelSize !== undefined && engine.tensorParallelSize !== count)
    add(
      "engine.tensorParallelSize",
      `tensor parallel size ${engine.tensorParallelSize} must equal the GPUs per replica (${count}${gpu === "auto" || gpu.count === undefined ? ", chosen by the planner" : ""})`,
    );

  const evaluation = evaluate(a, engine, hw, count, minConcurrency);
  if (!evaluation.fits) {
    add(
      engine.maxModelLen !== undefined ? "engine.maxModelLen" : "gpu",
      `${resolved.name} (${weightPrecision(engine)} weights, ${engine.kvCacheDtype === "auto" ? "16-bit" : "fp8"} KV cache) does not fit ${count}× ${hw.gpu.name} of pool "${hw.name}": ${shortfall(evaluation, minConcurrency)}; ${cheapestFixes(a, engine, hardware, minConcurrency, { pool: hw.name, count })}`,
    );
    return { problems };
  }

  // Consistent engine settings: derived where config left them out, checked where it set them.
  const memory = evaluation.memory;
  const maxModelLen = evaluation.maxModelLen;
  const blocks = Math.floor(memory.kvTokens / BLOCK_TOKENS);
  const maxNumSeqs = engine.maxNumSeqs ?? Math.max(1, Math.min(defaultMaxNumSeqs(hw.gpu), blocks));
  if (engine.maxNumSeqs !== undefined && engine.maxNumSeqs > blocks)
    add(
      "engine.maxNumSeqs",
      `${engine.maxNumSeqs} sequences need at least one ${BLOCK_TOKENS}-token KV block each, but the cache has ${blocks} blocks`,
    );
  if (engine.maxNumBatchedTokens !== undefined && engine.maxNumBatchedTokens < maxNumSeqs)
    add(
      "engine.maxNumBatchedTokens",
      `${engine.maxNumBatchedTokens} must be at least maxNumSeqs (${maxNumSeqs}): vLLM refuses to start otherwise`,
    );
  if (
    !engine.chunkedPrefill &&
    engine.maxNumBatchedTokens !== undefined &&
    engine.maxNumBatchedTokens < maxModelLen
  )
    add(
      "engine.maxNumBatchedTokens",
      `without chunked prefill a whole prompt is one batch: ${engine.maxNumBatchedTokens} must be at least maxModelLen (${maxModelLen})`,
    );
  const derived: EngineDecision["derived"] = [];
  if (engine.maxModelLen === undefined) derived.push("maxModelLen");
  if (engine.maxNumSeqs === undefined) derived.push("maxNumSeqs");
  if (engine.gpuMemoryUtilization === undefined) derived.push("gpuMemoryUtilization");
  const concurrentSequences = Math.floor(memory.kvTokens / maxModelLen);
  return {
    problems,
    plan: {
      ...placement(model, hw, count, gpu === "auto"),
      llm: {
        architecture: resolved.name,
        precision: weightPrecision(engine),
        kvCacheDtype: engine.kvCacheDtype,
        memory,
        engine: {
          maxModelLen,
          maxNumSeqs,
          gpuMemoryUtilization: engine.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION,
          derived,
        },
        concurrentSequences,
        headroomGiB: memory.kvCacheGiB - (minConcurrency * maxModelLen * memory.kvBytesPerTokenPerGpu) / GIB,
      },
    },
  };
}

export interface StackCapacity {
  readonly models: CapacityPlan[];
  readonly totals: {
    readonly gpusAtMinReplicas: number;
    readonly gpusAtMaxReplicas: number;
    /** USD per hour of the models' GPU shares; null parts (no on-demand price) are left out and listed. */
    readonly dollarsPerHourAtMin: number;
    readonly dollarsPerHourAtMax: number;
    readonly unpriced: string[];
  };
  readonly pricing: { readonly region: string; readonly date: string; readonly basis: string };
}

export function stackCapacity(
  plans: readonly CapacityPlan[],
  pricing: StackCapacity["pricing"],
): StackCapacity {
  const sum = (f: (p: CapacityPlan) => number) => plans.reduce((s, p) => s + f(p), 0);
  return {
    models: [...plans],
    totals: {
      gpusAtMinReplicas: sum((p) => p.gpusPerReplica * p.cost.minReplicas),
      gpusAtMaxReplicas: sum((p) => p.gpusPerReplica * p.cost.maxReplicas),
      dollarsPerHourAtMin: sum((p) => p.cost.atMinReplicas ?? 0),
      dollarsPerHourAtMax: sum((p) => p.cost.atMaxReplicas ?? 0),
      unpriced: plans.filter((p) => p.cost.perReplicaHour === null).map((p) => p.model),
    },
    pricing,
  };
}
