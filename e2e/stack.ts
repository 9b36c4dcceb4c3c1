/** A stack's validated config, read from Pulumi.<stack>.yaml as the program would see it. */
import { readRawConfig, validatePlatformConfig } from "../config/load";
import type { PlatformConfig } from "../models/plannedConfig";
import { REPO } from "./paths";
import { readStackFile } from "../tools/stackFile";

export function stackConfig(stack: string): PlatformConfig {
  const file = readStackFile(REPO, stack);
  const raw = readRawConfig(file.config, (k) => file.secretKeys.includes(k));
  return validatePlatformConfig(stack, raw.raw, raw.problems);
}
