/**
 * Capacity decisions for each model, before anything is deployed: which pools and GPU counts a
 * replica could use (`gpu: auto` lists them; stack.ts picks the one whose nodes cost least with the
 * rest of the pool), the smallest tensor-parallel degree when `gpu.count` is left out, whether the LLM
 * fits, how many full-length sequences its KV cache holds, and the vLLM settings config left out. A
 * model that does not fit is a config error that says by how much and names the cheapest fixes among
 * the configured pools (and the catalog, when none of them can).
 */
import type { Problem } from "../../config/problems";
import type { GpuPoolConfig } from "../../config/schema";
import { isLlm, type EngineSettings, type ModelInput } from "../schema";
import { architectureProblems, ARCHITECTURES, inferArchitecture, type Architecture } from "./architectures";
import { fp8Support } from "../compat/data";
import { defaultBatchShape, profileBatch } from "./vllmAccounting";
import { GPU_INSTANCES, GPU_MODELS, type GpuInstanceType, type GpuModel } from "./gpuInstances";
import { poolGpu } from "../cluster/nodePools";
import { KSERVE_MULTI_NODE_DEFECT } from "../versions";
import { loraBytesPerGpu, loraSlots, type LoraSlots } from "./lora";
import {
  DEFAULT_GPU_MEMORY_UTILIZATION,
  BLOCK_TOKENS,
  GIB,
  replicaMemory,
  stageLayers,
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
  /** GPUs per node of the replica (its tensor-parallel degree). */
  readonly count: number;
  /** Nodes the replica spans, one pipeline stage each (absent: one). */
  readonly nodes?: number;
}

/**
 * Most nodes one replica may span (one LeaderWorkerSet group per replica, models/serving/
 * llmdPipelineParallel.ts); beyond a few stages pipeline bubbles and the inter-node hops cost more than
 * a larger instance type would.
 */
export const MAX_REPLICA_NODES = 8;

export interface PoolHardware {
  readonly name: string;
  readonly instance: GpuInstanceType;
  readonly gpu: GpuModel;
  /** Not one of the stack's pools: a catalog instance type suggested as a new pool. */
  readonly suggested?: boolean;
  /** The pool's nodes have EFA (a suggested pool: the instance type offers it). */
  readonly efa: boolean;
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
  /** Decisions users should know about (a derived context below SIZING_CONTEXT, weight-only FP8). */
  readonly notes: string[];
}

export interface CapacityPlan {
  readonly model: string;
  readonly pool: string;
  readonly instanceType: string;
  readonly gpuModel: string;
  /** GPUs per node of a replica: all of them for a single-node replica (its tensor-parallel degree). */
  readonly gpusPerReplica: number;
  /**
   * Nodes one replica spans (multi-node: tensor parallel over gpusPerReplica within each node,
   * pipeline parallel across the nodes). Absent: one node.
   */
  readonly nodesPerReplica?: number;
  readonly autoPlaced: boolean;
  readonly llm?: LlmCapacity;
  /**
   * On-demand USD per hour of one replica's GPUs as a share of its node: a figure to compare layouts
   * by, not the bill — nodes are billed whole, per pool (packing.ts, StackCapacity.pools). Null when
   * the instance type is not sold on demand.
   */
  readonly gpuShareHour: number | null;
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

export function poolHardware(
  pool: Pick<GpuPoolConfig, "name" | "instanceTypes"> & { efa?: boolean },
): PoolHardware | undefined {
  const spec = poolGpu(pool);
  return spec
    ? { name: pool.name, instance: spec.instance, gpu: spec.model, efa: pool.efa ?? false }
    : undefined;
}

/** Per-GPU on-demand price of a pool: a node's price over its GPUs. */
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

/** vLLM's own default batch width for a GPU (vllmAccounting.defaultBatchShape). */
export function defaultMaxNumSeqs(gpu: GpuModel): number {
  return defaultBatchShape(gpu).maxNumSeqs;
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
  /** A derived context below the SIZING_CONTEXT the planner aims for (what fits, said in the plan). */
  readonly shortContext: boolean;
}

/**
 * Does the model fit `count` GPUs of `hw` with `engine`, holding minConcurrency sequences? With
 * engine.maxModelLen set, of that length; else the planner derives the longest power of two that
 * fits, aiming for SIZING_CONTEXT and accepting down to MIN_DERIVED_CONTEXT when `shortContextOk`.
 */
function evaluate(
  a: Architecture,
  engine: EngineInput,
  hw: PoolHardware,
  count: number,
  minConcurrency: number,
  shortContextOk = true,
  nodes = 1,
): Evaluation {
  const util = engine.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION;
  const target = engine.maxModelLen ?? Math.min(a.maxContext, SIZING_CONTEXT);
  const batch = profileBatch(hw.gpu, engine, target);
  const memory = replicaMemory(a, engine, hw.gpu, { tensor: count, pipeline: nodes }, util, batch);
  const valid = validTensorParallel(a, count) && nodes <= a.layers;
  if (engine.maxModelLen !== undefined) {
    const neededTokens = target * minConcurrency;
    return {
      fits: valid && memory.kvTokens >= neededTokens,
      memory,
      maxModelLen: target,
      neededTokens,
      shortContext: false,
    };
  }
  let derived = Math.min(a.maxContext, floorPow2(Math.floor(memory.kvTokens / minConcurrency)));
  // Without chunked prefill the profiled batch covers prompts up to its own length only.
  if (engine.chunkedPrefill === false) derived = Math.min(derived, batch.maxNumBatchedTokens);
  const floor = shortContextOk ? Math.min(MIN_DERIVED_CONTEXT, a.maxContext) : target;
  const fits = valid && derived >= floor;
  return {
    fits,
    memory,
    maxModelLen: derived,
    neededTokens: (fits ? derived : floor) * minConcurrency,
    shortContext: derived < target,
  };
}

interface Option {
  readonly hw: PoolHardware;
  readonly count: number;
  readonly nodes: number;
  readonly engine: EngineInput;
  readonly changes: string[];
  readonly evaluation: Evaluation;
  readonly costPerReplicaHour: number;
}

/**
 * Engine variants a user can switch to without a new checkpoint: dynamic FP8 weights, FP8 KV cache.
 * FP8 weights only where vLLM runs them (compat fp8Support); weight-only on GPUs without FP8 cores.
 */
function engineVariants(
  engine: EngineInput,
  hw: PoolHardware,
  tryVariants: boolean,
): Array<{ engine: EngineInput; changes: string[] }> {
  const variants = [{ engine, changes: [] as string[] }];
  if (!tryVariants) return variants;
  const fp8 = fp8Support(hw.gpu.computeCapability);
  const fp8Kv = engine.kvCacheDtype === "auto";
  const fp8Weights = engine.quantization === undefined && fp8 !== "none";
  const weightsChange =
    fp8 === "weight-only"
      ? `engine.quantization: fp8 (weight-only on ${hw.gpu.name}: saves memory, not compute)`
      : "engine.quantization: fp8";
  if (fp8Kv)
    variants.push({ engine: { ...engine, kvCacheDtype: "fp8" }, changes: ["engine.kvCacheDtype: fp8"] });
  if (fp8Weights) variants.push({ engine: { ...engine, quantization: "fp8" }, changes: [weightsChange] });
  if (fp8Kv && fp8Weights)
    variants.push({
      engine: { ...engine, quantization: "fp8", kvCacheDtype: "fp8" },
      changes: [weightsChange, "engine.kvCacheDtype: fp8"],
    });
  return variants;
}

interface OptionQuery {
  readonly a: Architecture;
  readonly engine: EngineInput;
  readonly minConcurrency: number;
  /** Also try FP8 weights and KV cache (for fixes). */
  readonly variants: boolean;
  readonly shortContextOk: boolean;
  /** Layouts across nodes (whole nodes, one pipeline stage each) instead of within one node. */
  readonly multiNode?: boolean;
}

/**
 * The GPU counts and node spans a replica may take on a pool. The planner spans nodes only of pools
 * with EFA (`efa: true`; a suggested pool: an instance type that offers it): elsewhere the stages'
 * per-token traffic crosses ordinary networking, which `gpu.nodes` in config may still ask for.
 */
function layouts(hw: PoolHardware, multiNode: boolean): Array<{ count: number; nodes: number }> {
  if (!multiNode) return replicaGpuCounts(hw).map((count) => ({ count, nodes: 1 }));
  if (!hw.efa) return [];
  const spans = Array.from({ length: MAX_REPLICA_NODES - 1 }, (_, i) => i + 2);
  return spans.map((nodes) => ({ count: hw.instance.gpus, nodes }));
}

function options(pools: readonly PoolHardware[], q: OptionQuery): Option[] {
  const out: Option[] = [];
  for (const hw of pools)
    for (const { count, nodes } of layouts(hw, q.multiNode ?? false)) {
      if (q.engine.tensorParallelSize !== undefined && count !== q.engine.tensorParallelSize) continue;
      for (const v of engineVariants(q.engine, hw, q.variants)) {
        const evaluation = evaluate(q.a, v.engine, hw, count, q.minConcurrency, q.shortContextOk, nodes);
        if (!evaluation.fits) continue;
        const perGpu = pricePerGpuHour(hw);
        out.push({
          hw,
          count,
          nodes,
          engine: v.engine,
          changes: v.changes,
          evaluation,
          costPerReplicaHour: perGpu === null ? Number.POSITIVE_INFINITY : perGpu * count * nodes,
        });
      }
    }
  // Cheapest share first; then fewer nodes and GPUs (less NCCL traffic), fewer config changes, the stack's pool order.
  return out.sort(
    (x, y) =>
      x.costPerReplicaHour - y.costPerReplicaHour ||
      x.nodes - y.nodes ||
      x.count - y.count ||
      x.changes.length - y.changes.length ||
      pools.indexOf(x.hw) - pools.indexOf(y.hw),
  );
}

/** Single-node layouts, or — only when none holds the model — layouts across nodes. */
function optionsPreferringOneNode(pools: readonly PoolHardware[], q: OptionQuery): Option[] {
  const single = options(pools, q);
  return single.length > 0 ? single : options(pools, { ...q, multiNode: true });
}

/** Every catalog instance type as a would-be pool: fixes to suggest when no configured pool can fit. */
function catalogPools(): PoolHardware[] {
  return Object.values(GPU_INSTANCES).map((instance) => ({
    name: instance.instanceType,
    instance,
    gpu: GPU_MODELS[instance.gpu],
    suggested: true,
    efa: instance.efa,
  }));
}

function money(x: number): string {
  return Number.isFinite(x) ? `$${x.toFixed(2)}/h` : "no on-demand price";
}

function describeFix(o: Option, current: GpuChoice | undefined): string {
  const changes = [...o.changes];
  const span = o.nodes > 1 ? `, nodes: ${o.nodes}` : "";
  if (o.hw.suggested)
    changes.unshift(
      `a new pool of ${o.hw.instance.instanceType} (${o.hw.instance.gpus}× ${o.hw.gpu.name}) with gpu.count: ${o.count}${span}`,
    );
  else if (
    !current ||
    current.pool !== o.hw.name ||
    current.count !== o.count ||
    (current.nodes ?? 1) !== o.nodes
  )
    changes.unshift(`gpu: {pool: ${o.hw.name}, count: ${o.count}${span}}`);
  const seqs = Math.floor(o.evaluation.memory.kvTokens / o.evaluation.maxModelLen);
  const perNode = o.hw.instance.gpus / o.count;
  const node =
    o.hw.instance.pricePerHour === null
      ? ""
      : o.nodes > 1
        ? `; ${o.nodes} ${o.hw.instance.instanceType} nodes are ${money(o.nodes * o.hw.instance.pricePerHour)} for one replica`
        : `; a ${o.hw.instance.instanceType} node is ${money(o.hw.instance.pricePerHour)} for ${perNode} such replica${perNode === 1 ? "" : "s"}`;
  return `${changes.join(" + ")} (${money(o.costPerReplicaHour)} per replica${node}, ${seqs} sequences of ${o.evaluation.maxModelLen} tokens)`;
}

function cheapestFixes(
  a: Architecture,
  engine: EngineInput,
  pools: readonly PoolHardware[],
  minConcurrency: number,
  current: GpuChoice | undefined,
  oneNodeOnly = false,
): string {
  const query = { a, engine, minConcurrency, variants: true, shortContextOk: false };
  // A replica across nodes is served only through llm-d (config/rules/multiNode.ts; the InferenceService
  // path has KSERVE_MULTI_NODE_DEFECT), a serving change a fix does not make: fixes stay on one node.
  const search = oneNodeOnly || KSERVE_MULTI_NODE_DEFECT ? options : optionsPreferringOneNode;
  let fixes = search(pools, query);
  if (fixes.length === 0) fixes = search(catalogPools(), query);
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

function shortfall(e: Evaluation, minConcurrency: number): string {
  const m = e.memory;
  const perGpuNeedGiB = (e.neededTokens * m.kvBytesPerTokenPerGpu) / GIB;
  const missing = perGpuNeedGiB - Math.max(0, m.kvCacheGiB);
  if (m.kvCacheGiB <= 0)
    return `weights ${m.weightsGiB.toFixed(1)} GiB + runtime ${m.overheadGiB.toFixed(1)} GiB per GPU exceed the usable ${m.usableGiB.toFixed(1)} GiB by ${(-m.kvCacheGiB).toFixed(1)} GiB, before any KV cache`;
  return `the KV cache holds ${m.kvTokens} tokens (${m.kvCacheGiB.toFixed(1)} GiB per GPU after ${m.weightsGiB.toFixed(1)} GiB of weights and ${m.overheadGiB.toFixed(1)} GiB of runtime), but ${minConcurrency} sequence(s) of ${e.neededTokens / minConcurrency} tokens need ${e.neededTokens} (${missing.toFixed(1)} GiB per GPU short)`;
}

/** Where a model runs: the part of a plan every GPU model has. */
function placement(
  model: ModelInput,
  hw: PoolHardware,
  count: number,
  autoPlaced: boolean,
  nodes = 1,
): CapacityPlan {
  const perGpu = pricePerGpuHour(hw);
  return {
    model: model.name,
    pool: hw.name,
    instanceType: hw.instance.instanceType,
    gpuModel: hw.gpu.name,
    gpusPerReplica: count,
    ...(nodes > 1 ? { nodesPerReplica: nodes } : {}),
    autoPlaced,
    gpuShareHour: perGpu === null ? null : perGpu * count * nodes,
  };
}

export interface PlanInput {
  readonly model: ModelInput;
  /** Key path of the model entry, e.g. `models[2]`. */
  readonly at: string;
  readonly pools: readonly GpuPoolConfig[];
  /** For `gpu: auto`: the placement stack.ts chose among autoPlacements(); else the cheapest share. */
  readonly placement?: GpuChoice;
}

type Resolved = { name: string; architecture: Architecture };

/** The model's architecture, checked: catalog name, inferred from the URI, or a declared shape that holds together. */
function checkedArchitecture(
  model: ModelInput,
  add: (path: string, message: string) => void,
): Resolved | undefined {
  const resolved = resolveArchitecture(model);
  if ("error" in resolved) {
    add("architecture", resolved.error);
    return undefined;
  }
  if (typeof model.architecture === "object") {
    const problems = architectureProblems(resolved.architecture);
    for (const p of problems) add("architecture", p);
    if (problems.length > 0) return undefined;
  }
  return resolved;
}

export interface AutoPlacements {
  /** Feasible placements, cheapest GPU share first. */
  readonly choices: GpuChoice[];
  readonly problems: Problem[];
}

/**
 * Every pool and GPU count `gpu: auto` may choose for a model: for an LLM, where it holds
 * minConcurrency sequences of its context (SIZING_CONTEXT when derived; a shorter derived context
 * only when nothing holds that), honouring engine.tensorParallelSize; for a classic GPU predictor, one
 * GPU of any pool. The whole-node choice among them is stack.ts's (it sees the other replicas).
 */
/**
 * The model with its LoRA slots among its engine settings, where the memory model (replicaMemory, via
 * EnginePrecision.lora) reads them on every path — placement search, fixes, the final sizing.
 */
function withLoraSlots(model: ModelInput): ModelInput {
  const lora = loraSlots(model.adapters);
  return lora ? { ...model, engine: { ...model.engine, lora } as ModelInput["engine"] } : model;
}

export function autoPlacements(input: Omit<PlanInput, "placement">): AutoPlacements {
  const { at, pools } = input;
  const model = withLoraSlots(input.model);
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${at}.${path}`, message });
  const hardware = pools.map(poolHardware).filter((h): h is PoolHardware => h !== undefined);
  if (hardware.length === 0) {
    add("gpu", "gpu: auto needs at least one GPU pool under gpuPools");
    return { choices: [], problems };
  }
  if (!isLlm(model)) {
    const byShare = [...hardware].sort(
      (x, y) => (pricePerGpuHour(x) ?? Infinity) - (pricePerGpuHour(y) ?? Infinity),
    );
    return { choices: byShare.map((h) => ({ pool: h.name, count: 1 })), problems };
  }
  const resolved = checkedArchitecture(model, add);
  if (!resolved) return { choices: [], problems };
  const a = resolved.architecture;
  const query = { a, engine: model.engine, minConcurrency: model.minConcurrency, variants: false };
  // One node at the full context, then one node at a shorter derived context, and only then across nodes.
  let found = options(hardware, { ...query, shortContextOk: false });
  if (found.length === 0 && model.engine.maxModelLen === undefined)
    found = options(hardware, { ...query, shortContextOk: true });
  if (found.length === 0) found = options(hardware, { ...query, shortContextOk: false, multiNode: true });
  if (found.length === 0) {
    const tp = model.engine.tensorParallelSize;
    add(
      "gpu",
      `gpu: auto found no pool and GPU count${tp !== undefined ? ` of ${tp} (engine.tensorParallelSize)` : ""} that holds ${resolved.name} with ${model.minConcurrency} sequence(s) of ${model.engine.maxModelLen ?? `${Math.min(a.maxContext, SIZING_CONTEXT)} (or at least ${MIN_DERIVED_CONTEXT})`} tokens; ${cheapestFixes(a, model.engine, hardware, model.minConcurrency, undefined)}`,
    );
  }
  return {
    choices: found.map((o) => ({
      pool: o.hw.name,
      count: o.count,
      ...(o.nodes > 1 ? { nodes: o.nodes } : {}),
    })),
    problems,
  };
}

/**
 * The pool and GPU count of an LLM replica: the auto placement's choice; on a named pool the configured
 * count (if tensor parallelism allows it) or the smallest count that fits. Problems are added at `at`.
 */
function llmPlacement(args: {
  model: ModelInput;
  resolved: { name: string; architecture: Architecture };
  choice: GpuChoice | undefined;
  hardware: PoolHardware[];
  add: (path: string, message: string) => void;
}): { hw: PoolHardware; count: number; nodes: number } | undefined {
  const { model, resolved, choice, hardware, add } = args;
  const a = resolved.architecture;
  const engine = model.engine;
  const minConcurrency = model.minConcurrency;
  if (choice) {
    const hw = hardware.find((h) => h.name === choice.pool);
    return hw ? { hw, count: choice.count, nodes: choice.nodes ?? 1 } : undefined;
  }
  const gpu = model.gpu;
  if (!gpu || gpu === "auto") return undefined;
  const pool = hardware.find((h) => h.name === gpu.pool);
  if (!pool) return undefined; // unknown pool: reported by the semantic checks
  const nodes = gpu.nodes ?? 1;
  if (gpu.count !== undefined || gpu.nodes !== undefined) {
    const count = gpu.count ?? pool.instance.gpus;
    if (validTensorParallel(a, count)) return { hw: pool, count, nodes };
    const valid = replicaGpuCounts(pool).filter((n) => validTensorParallel(a, n));
    add(
      "gpu.count",
      `tensor parallelism over ${count} GPUs must divide ${resolved.name}'s ${a.attentionHeads} attention heads and ${a.kvHeads} KV heads; valid on pool "${pool.name}": ${valid.join(", ")}`,
    );
    return undefined;
  }
  const counts = replicaGpuCounts(pool).filter(
    (n) => engine.tensorParallelSize === undefined || n === engine.tensorParallelSize,
  );
  const count =
    counts.find((n) => evaluate(a, engine, pool, n, minConcurrency, false).fits) ??
    counts.find((n) => evaluate(a, engine, pool, n, minConcurrency, true).fits);
  if (count !== undefined) return { hw: pool, count, nodes: 1 };
  // No single node holds it: the fewest whole nodes of the pool that do, one pipeline stage each.
  const across = options([pool], {
    a,
    engine,
    minConcurrency,
    variants: false,
    shortContextOk: false,
    multiNode: true,
  });
  // On one pool a span's price grows with its nodes: the cheapest option is the fewest nodes.
  const fewest = across[0];
  if (fewest) return { hw: pool, count: fewest.count, nodes: fewest.nodes };
  add(
    "gpu.count",
    `${resolved.name} does not fit pool "${pool.name}" (${pool.instance.gpus}× ${pool.gpu.name} per node) at any GPU count${engine.tensorParallelSize !== undefined ? ` of ${engine.tensorParallelSize} (engine.tensorParallelSize)` : ""}; ${cheapestFixes(a, engine, hardware, minConcurrency, undefined)}`,
  );
  return undefined;
}

/**
 * vLLM's batch limits against the KV cache: maxNumSeqs derived where config left it out (at most one
 * sequence per KV block), both limits checked where config set them. Returns maxNumSeqs.
 */
function batchLimits(
  engine: ModelInput["engine"],
  hw: PoolHardware,
  kvTokens: number,
  maxModelLen: number,
  add: (path: string, message: string) => void,
): number {
  const blocks = Math.floor(kvTokens / BLOCK_TOKENS);
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
  return maxNumSeqs;
}

/** An LLM's plan once it fits: engine settings derived where config left them out, checked where it set them. */
function sizedLlmPlan(p: {
  model: ModelInput;
  resolved: { name: string; architecture: Architecture };
  hw: PoolHardware;
  count: number;
  nodes: number;
  auto: boolean;
  evaluation: Evaluation;
  add: (path: string, message: string) => void;
}): CapacityPlan {
  const { model, resolved, hw, count, nodes, auto, evaluation, add } = p;
  const a = resolved.architecture;
  const engine = model.engine;
  const minConcurrency = model.minConcurrency;
  const memory = evaluation.memory;
  const maxModelLen = evaluation.maxModelLen;
  const maxNumSeqs = batchLimits(engine, hw, memory.kvTokens, maxModelLen, add);
  const derived: EngineDecision["derived"] = [];
  if (engine.maxModelLen === undefined) derived.push("maxModelLen");
  if (engine.maxNumSeqs === undefined) derived.push("maxNumSeqs");
  if (engine.gpuMemoryUtilization === undefined) derived.push("gpuMemoryUtilization");
  const notes: string[] = [];
  const lora = (engine as { lora?: LoraSlots }).lora;
  if (lora)
    notes.push(
      `LoRA: ${lora.maxLoras} adapter slot(s) of rank ${lora.maxRank} take ${(loraBytesPerGpu(a, lora, count, engine.dtype === "float32" ? 4 : 2) / GIB).toFixed(2)} GiB per GPU, counted with the weights`,
    );
  if (nodes > 1)
    notes.push(
      `multi-node: ${nodes} ${hw.instance.instanceType} nodes per replica, tensor parallel ${count} within each and pipeline parallel ${nodes} across them (${stageLayers(a, nodes)} of ${a.layers} layers on the largest stage); served through llm-d as one LeaderWorkerSet group of ${nodes} pods per replica`,
    );
  if (evaluation.shortContext)
    notes.push(
      `maxModelLen derived as ${maxModelLen}, below the ${Math.min(a.maxContext, SIZING_CONTEXT)} the planner aims for: that is what ${count}× ${hw.gpu.name} hold for ${minConcurrency} sequence(s); set engine.maxModelLen to require more, or give the model more GPUs`,
    );
  return {
    ...placement(model, hw, count, auto, nodes),
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
      concurrentSequences: Math.floor(memory.kvTokens / maxModelLen),
      headroomGiB: memory.kvCacheGiB - (minConcurrency * maxModelLen * memory.kvBytesPerTokenPerGpu) / GIB,
      notes,
    },
  };
}

/**
 * The cheapest ways to hold an LLM on one node (the stack's pools, else the catalog's instance types),
 * for when spanning nodes is not possible.
 */
export function oneNodeFixes(model: ModelInput, pools: readonly GpuPoolConfig[]): string {
  const resolved = resolveArchitecture(model);
  if ("error" in resolved) return resolved.error;
  const hardware = pools.map(poolHardware).filter((h): h is PoolHardware => h !== undefined);
  return cheapestFixes(
    resolved.architecture,
    withLoraSlots(model).engine,
    hardware,
    model.minConcurrency,
    undefined,
    true,
  );
}

/** Places one model and sizes its engine. Models without GPUs get no plan and no problems. */
export function planModel(input: PlanInput): CapacityResult {
  const { at, pools, placement: chosen } = input;
  const model = withLoraSlots(input.model);
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${at}.${path}`, message });
  if (!model.gpu) return { problems };
  const hardware = pools.map(poolHardware).filter((h): h is PoolHardware => h !== undefined);
  const gpu = model.gpu;
  const auto = gpu === "auto";
  let choice = chosen;
  if (auto && !choice) {
    const found = autoPlacements({ model, at, pools });
    problems.push(...found.problems);
    choice = found.choices[0];
    if (!choice) return { problems };
  }

  if (!isLlm(model)) {
    // Classic GPU predictors (Triton, TorchServe): one GPU unless config says more.
    const poolName = choice?.pool ?? (gpu === "auto" ? undefined : gpu.pool);
    const hw = hardware.find((h) => h.name === poolName);
    if (!hw) return { problems };
    const count = choice?.count ?? (gpu === "auto" ? 1 : (gpu.count ?? 1));
    return { problems, plan: placement(model, hw, count, auto) };
  }

  const resolved = checkedArchitecture(model, add);
  if (!resolved) return { problems };
  const a = resolved.architecture;
  const engine = model.engine;
  const minConcurrency = model.minConcurrency;
  if (engine.maxModelLen !== undefined && engine.maxModelLen > a.maxContext)
    add(
      "engine.maxModelLen",
      `${engine.maxModelLen} exceeds the ${resolved.name} context of ${a.maxContext} tokens`,
    );

  const placed = llmPlacement({ model, resolved, choice, hardware, add });
  if (!placed) return { problems };
  const { hw, count, nodes } = placed;

  if (engine.tensorParallelSize !== undefined && engine.tensorParallelSize !== count)
    add(
      "engine.tensorParallelSize",
      `tensor parallel size ${engine.tensorParallelSize} must equal the GPUs per replica (${count}${auto || (typeof gpu === "object" && gpu.count === undefined) ? ", chosen by the planner" : ""})`,
    );

  const evaluation = evaluate(a, engine, hw, count, minConcurrency, true, nodes);
  if (!evaluation.fits) {
    const where = nodes > 1 ? `${nodes} nodes × ${count}× ${hw.gpu.name}` : `${count}× ${hw.gpu.name}`;
    add(
      engine.maxModelLen !== undefined ? "engine.maxModelLen" : "gpu",
      `${resolved.name} (${weightPrecision(engine)} weights, ${engine.kvCacheDtype === "auto" ? "16-bit" : "fp8"} KV cache) does not fit ${where} of pool "${hw.name}": ${shortfall(evaluation, minConcurrency)}; ${cheapestFixes(a, engine, hardware, minConcurrency, { pool: hw.name, count, nodes })}`,
    );
    return { problems };
  }

  return { problems, plan: sizedLlmPlan({ model, resolved, hw, count, nodes, auto, evaluation, add }) };
}
