/**
 * The config the program uses: the parsed input (config/schema.ts) with every model placed and sized,
 * the stack's capacity and the compatibility report (assembled by config/load.ts). It sits downstream of
 * the input schema and of every check, so the input schema stays a leaf and no check imports its own result.
 */
import type { PlatformInput } from "../config/schema";
import type { ModelConfig } from "./plannedModel";
import type { StackCapacity } from "./capacity/stack";
import type { CompatReport } from "./compat/checks";

export type PlatformConfig = Omit<PlatformInput, "models"> & {
  readonly models: ModelConfig[];
  readonly capacity: StackCapacity;
  readonly compat: CompatReport;
};
