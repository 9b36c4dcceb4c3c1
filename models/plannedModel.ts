/**
 * A model entry after capacity planning: downstream of the input schema (./schema.ts) and the planner,
 * so neither has to import the other's results.
 */
import type { GpuPlacement, ModelInput } from "./schema";
import type { CapacityPlan } from "./capacity/planner";
import type { ModelTimeToReady } from "./capacity/readiness";
import type { PlatformInput } from "../config/schema";

/** A model entry with placement resolved and the planner's decisions attached. */
export type ModelConfig = Omit<ModelInput, "gpu"> & {
  readonly gpu?: GpuPlacement;
  readonly capacity?: CapacityPlan;
  /** The rollout candidate's own sizing when its engine settings differ. */
  readonly candidateCapacity?: CapacityPlan;
  /** Predicted seconds for a new replica to serve (models/capacity/timeToReady.ts). */
  readonly timeToReady?: ModelTimeToReady;
};

/** What the checks that run after planning read: the placed models and the pools they landed on. */
export type PlacedModels = Pick<PlatformInput, "gpuPools" | "cluster" | "environment"> & {
  readonly models: readonly ModelConfig[];
};
