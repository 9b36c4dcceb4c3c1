/**
 * Capacity planning for a whole stack: places and sizes every model (and each rollout candidate on
 * its model's placement), and totals GPUs and cost. Pure: config in, decisions and problems out.
 */
import type { Problem } from "../../config/problems";
import type { PlatformInput } from "../../config/schema";
import type { GpuPlacement, ModelConfig } from "../schema";
import { PRICE_DATE, PRICE_REGION } from "./gpuInstances";
import { planModel, stackCapacity, type CapacityPlan, type StackCapacity } from "./planner";

export interface StackPlan {
  readonly models: ModelConfig[];
  readonly capacity: StackCapacity;
  readonly problems: Problem[];
}

export function planStackCapacity(cfg: Pick<PlatformInput, "models" | "gpuPools">): StackPlan {
  const problems: Problem[] = [];
  const plans: CapacityPlan[] = [];
  const models = cfg.models.map((model, i): ModelConfig => {
    const at = `models[${i}]`;
    const result = planModel({ model, at, pools: cfg.gpuPools });
    problems.push(...result.problems);
    const plan = result.plan;
    if (plan) plans.push(plan);
    const gpu: GpuPlacement | undefined = plan
      ? { pool: plan.pool, count: plan.gpusPerReplica }
      : model.gpu && model.gpu !== "auto"
        ? { pool: model.gpu.pool, count: model.gpu.count ?? 1 }
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
  return {
    models,
    capacity: stackCapacity(plans, {
      region: PRICE_REGION,
      date: PRICE_DATE,
      basis: "Linux on-demand; a replica pays its GPUs' share of the node",
    }),
    problems,
  };
}
