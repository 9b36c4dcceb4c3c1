/**
 * Capacity planning for a whole stack: places and sizes every model (and each rollout candidate on
 * its model's placement), packs every replica of a pool onto whole nodes, and totals GPUs, nodes and
 * cost per pool. `gpu: auto` models are placed together, on the layout whose nodes cost least — a
 * TP-2 replica on an 8-GPU node pays for the node unless other replicas share it. Pure: config in,
 * decisions and problems out.
 */
import type { Problem } from "../../config/problems";
import type { PlatformInput } from "../../config/schema";
import type { GpuPlacement, ModelInput } from "../schema";
import type { ModelConfig } from "../plannedModel";
import { defaultDeploymentMode } from "../serving/resolve";
import { trackReplicas, type TrackReplicas } from "../serving/traffic";
import { PRICE_DATE, PRICE_REGION } from "./gpuInstances";
import { poolCapacity, type PoolCapacity, type PoolReplicas } from "./packing";
import {
  autoPlacements,
  planModel,
  poolHardware,
  type CapacityPlan,
  type GpuChoice,
  type PoolHardware,
} from "./planner";

/** Beyond this many joint layouts of the auto models, each is placed in turn on the cheapest given the ones before. */
export const MAX_JOINT_LAYOUTS = 20_000;

export interface ModelCapacity extends CapacityPlan {
  /** Replicas per version (stable, rollout candidate) at min and max: what the pool holds for the model. */
  readonly tracks: TrackReplicas[];
}

export interface StackCapacity {
  readonly models: ModelCapacity[];
  readonly pools: PoolCapacity[];
  readonly totals: {
    readonly gpusAtMinReplicas: number;
    readonly gpusAtMaxReplicas: number;
    readonly nodesAtMinReplicas: number;
    readonly nodesAtMaxReplicas: number;
    /** USD per hour of whole nodes; pools without an on-demand price are left out and listed. */
    readonly dollarsPerHourAtMin: number;
    readonly dollarsPerHourAtMax: number;
    readonly unpricedPools: string[];
  };
  readonly pricing: { readonly region: string; readonly date: string; readonly basis: string };
}

export interface StackPlan {
  readonly models: ModelConfig[];
  readonly capacity: StackCapacity;
  readonly problems: Problem[];
}

type StackInput = Pick<PlatformInput, "models" | "gpuPools" | "cluster">;

/**
 * Nodes a pool runs: between minSize and maxSize where a node autoscaler moves it; else fixed at the
 * size it is created at (a replica beyond those nodes would stay Pending, holding the GPUs it has).
 */
export function poolSize(
  cfg: StackInput,
  pool: StackInput["gpuPools"][number],
): { minNodes: number; maxNodes: number; autoscaled: boolean } {
  const autoscaled = cfg.cluster.mode === "eks" && cfg.cluster.nodeAutoscaler !== "none";
  const fixed = pool.desiredSize ?? pool.minSize;
  return autoscaled
    ? { minNodes: pool.minSize, maxNodes: pool.maxSize, autoscaled }
    : { minNodes: fixed, maxNodes: fixed, autoscaled };
}

/** The pool, GPUs per node and nodes of a planned replica. */
function placementOf(plan: CapacityPlan): GpuChoice {
  return {
    pool: plan.pool,
    count: plan.gpusPerReplica,
    ...(plan.nodesPerReplica ? { nodes: plan.nodesPerReplica } : {}),
  };
}

function tracksOf(model: ModelInput): TrackReplicas[] {
  return trackReplicas({ ...model, deploymentMode: defaultDeploymentMode(model) });
}

interface Placed {
  readonly index: number;
  readonly model: ModelInput;
  readonly choice: GpuChoice;
}

/** Pools' loads for a set of placements. */
function pools(
  cfg: StackInput,
  hardware: readonly PoolHardware[],
  placed: readonly Placed[],
): PoolCapacity[] {
  return hardware.map((hw) => {
    const replicas: PoolReplicas[] = placed
      .filter((p) => p.choice.pool === hw.name)
      .flatMap((p) =>
        tracksOf(p.model).map((t) => ({
          model: p.model.name,
          track: t.track,
          gpusPerReplica: p.choice.count,
          nodesPerReplica: p.choice.nodes ?? 1,
          min: t.min,
          max: t.max,
        })),
      );
    const pool = cfg.gpuPools.find((p) => p.name === hw.name)!;
    return poolCapacity(hw, poolSize(cfg, pool), replicas);
  });
}

/** Lower is better: pools over their node limit, then whole-node $/h at min, at max, then GPUs at max. */
function score(loads: readonly PoolCapacity[]): number[] {
  // A pool without an on-demand price counts as dearer than any priced one once it runs a node.
  const dollars = (which: "atMin" | "atMax") =>
    loads.reduce((s, l) => s + (l[which].nodes === 0 ? 0 : (l[which].dollarsPerHour ?? 1e9)), 0);
  return [
    loads.filter((l) => l.atMax.packedNodes > l.maxNodes).length,
    dollars("atMin"),
    dollars("atMax"),
    loads.reduce((s, l) => s + l.atMax.gpus, 0),
  ];
}

function better(x: number[], y: number[]): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return false;
}

/** Fixed placements first (their GPU counts are decided per model), then the auto models together. */
function placeModels(
  cfg: StackInput,
  hardware: PoolHardware[],
  problems: Problem[],
): Map<number, CapacityPlan> {
  const plans = new Map<number, CapacityPlan>();
  const autos: Array<{ index: number; model: ModelInput; choices: GpuChoice[] }> = [];
  cfg.models.forEach((model, i) => {
    if (!model.gpu) return;
    const at = `models[${i}]`;
    if (model.gpu === "auto") {
      const found = autoPlacements({ model, at, pools: cfg.gpuPools });
      problems.push(...found.problems);
      if (found.choices.length > 0) autos.push({ index: i, model, choices: found.choices });
      return;
    }
    const result = planModel({ model, at, pools: cfg.gpuPools });
    problems.push(...result.problems);
    if (result.plan) plans.set(i, result.plan);
  });
  const fixed: Placed[] = [...plans].map(([index, plan]) => ({
    index,
    model: cfg.models[index]!,
    choice: placementOf(plan),
  }));
  for (const p of chooseAutoPlacements(cfg, hardware, fixed, autos)) {
    const result = planModel({
      model: p.model,
      at: `models[${p.index}]`,
      pools: cfg.gpuPools,
      placement: p.choice,
    });
    problems.push(...result.problems);
    if (result.plan) plans.set(p.index, result.plan);
  }
  return plans;
}

/** A pool too small for every replica of every model and candidate placed on it, at their maximum. */
function poolOverflowProblems(cfg: StackInput, loads: PoolCapacity[]): Problem[] {
  const problems: Problem[] = [];
  for (const l of loads) {
    if (l.atMax.packedNodes <= l.maxNodes) continue;
    const i = cfg.gpuPools.findIndex((p) => p.name === l.pool);
    const pool = cfg.gpuPools[i]!;
    const { autoscaled } = poolSize(cfg, pool);
    const who = l.replicas
      .filter((r) => r.max > 0)
      .map(
        (r) =>
          `${r.model}${r.track === "stable" ? "" : ` (${r.track})`} ${r.max}×${r.nodesPerReplica > 1 ? `${r.nodesPerReplica} nodes×` : ""}${r.gpusPerReplica} GPU`,
      )
      .join(", ");
    problems.push({
      path: `gpuPools[${i}].${autoscaled ? "maxSize" : pool.desiredSize !== undefined ? "desiredSize" : "minSize"}`,
      message: `pool "${l.pool}" must hold ${who} at their maxReplicas: ${l.atMax.gpus} GPUs on ${l.atMax.packedNodes} ${l.instanceType} node(s) of ${l.gpusPerNode} GPUs, but ${
        autoscaled
          ? `it grows to ${l.maxNodes}; raise its maxSize`
          : `without a node autoscaler (cluster.nodeAutoscaler: ${cfg.cluster.nodeAutoscaler}) it stays at ${l.maxNodes}; enable a node autoscaler or raise its ${pool.desiredSize !== undefined ? "desiredSize" : "minSize"}`
      }, or lower those models' maxReplicas`,
    });
  }
  return problems;
}

/**
 * Chooses a placement for each auto model among its feasible ones: every joint layout when there are
 * at most MAX_JOINT_LAYOUTS (ties keep the earlier, i.e. cheaper-share, choice), else one model at a
 * time in config order.
 */
function chooseAutoPlacements(
  cfg: StackInput,
  hardware: readonly PoolHardware[],
  fixed: readonly Placed[],
  autos: ReadonlyArray<{ index: number; model: ModelInput; choices: GpuChoice[] }>,
): Placed[] {
  const layouts = autos.reduce((n, a) => n * a.choices.length, 1);
  if (layouts <= MAX_JOINT_LAYOUTS) {
    let best: { placed: Placed[]; score: number[] } | undefined;
    const pick = (i: number, chosen: Placed[]) => {
      if (i === autos.length) {
        const s = score(pools(cfg, hardware, [...fixed, ...chosen]));
        if (!best || better(s, best.score)) best = { placed: [...chosen], score: s };
        return;
      }
      const a = autos[i]!;
      for (const choice of a.choices) pick(i + 1, [...chosen, { index: a.index, model: a.model, choice }]);
    };
    pick(0, []);
    return best?.placed ?? [];
  }
  const placed: Placed[] = [];
  for (const a of autos) {
    let best: { placed: Placed; score: number[] } | undefined;
    for (const choice of a.choices) {
      const candidate = { index: a.index, model: a.model, choice };
      const s = score(pools(cfg, hardware, [...fixed, ...placed, candidate]));
      if (!best || better(s, best.score)) best = { placed: candidate, score: s };
    }
    if (best) placed.push(best.placed);
  }
  return placed;
}

export function planStackCapacity(cfg: StackInput): StackPlan {
  const problems: Problem[] = [];
  const hardware = cfg.gpuPools.map(poolHardware).filter((h): h is PoolHardware => h !== undefined);

  const plans = placeModels(cfg, hardware, problems);

  const models = cfg.models.map((model, i): ModelConfig => {
    const at = `models[${i}]`;
    const plan = plans.get(i);
    const gpu: GpuPlacement | undefined = plan
      ? placementOf(plan)
      : model.gpu && model.gpu !== "auto"
        ? {
            pool: model.gpu.pool,
            count: model.gpu.count ?? 1,
            ...(model.gpu.nodes ? { nodes: model.gpu.nodes } : {}),
          }
        : undefined;
    // A candidate may change engine settings (context length, quantization): it must fit the same GPUs.
    const candidateEngine = model.rollout?.candidate.engine;
    let candidateCapacity: CapacityPlan | undefined;
    if (plan?.llm && candidateEngine && gpu) {
      const candidate = planModel({
        model: { ...model, engine: { ...model.engine, ...candidateEngine }, gpu },
        at: `${at}.rollout.candidate`,
        pools: cfg.gpuPools,
      });
      problems.push(...candidate.problems);
      candidateCapacity = candidate.plan;
    }
    return { ...model, gpu, capacity: plan, candidateCapacity };
  });

  // Each pool holds every replica of every model and candidate placed on it, at their maximum.
  const placed: Placed[] = [...plans].map(([index, plan]) => ({
    index,
    model: cfg.models[index]!,
    choice: placementOf(plan),
  }));
  const loads = pools(cfg, hardware, placed);
  problems.push(...poolOverflowProblems(cfg, loads));

  const sum = (f: (l: PoolCapacity) => number) => loads.reduce((s, l) => s + f(l), 0);
  return {
    models,
    capacity: {
      models: [...plans]
        .sort(([x], [y]) => x - y)
        .map(([index, plan]) => ({ ...plan, tracks: tracksOf(cfg.models[index]!) })),
      pools: loads,
      totals: {
        gpusAtMinReplicas: sum((l) => l.atMin.gpus),
        gpusAtMaxReplicas: sum((l) => l.atMax.gpus),
        nodesAtMinReplicas: sum((l) => l.atMin.nodes),
        nodesAtMaxReplicas: sum((l) => l.atMax.nodes),
        dollarsPerHourAtMin: sum((l) => l.atMin.dollarsPerHour ?? 0),
        dollarsPerHourAtMax: sum((l) => l.atMax.dollarsPerHour ?? 0),
        unpricedPools: loads.filter((l) => l.pricePerNodeHour === null).map((l) => l.pool),
      },
      pricing: {
        region: PRICE_REGION,
        date: PRICE_DATE,
        basis: "Linux on-demand, whole nodes: every replica of a pool packed onto its instance type",
      },
    },
    problems,
  };
}
