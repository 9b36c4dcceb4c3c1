/** Shared test helpers: stack files as raw config, and config validation that returns the error. */
import * as path from "node:path";
import { readRawConfig, validatePlatformConfig } from "../config/load";
import { ConfigError } from "../config/problems";
import type { PlatformConfig } from "../models/plannedConfig";
import { readStackFile } from "../tools/stackFile";

export const ROOT = path.resolve(__dirname, "..");

/** The raw config of a checked-in stack, as the program would receive it. */
export function stackRaw(stack: string): Record<string, unknown> {
  const file = readStackFile(ROOT, stack);
  const raw = readRawConfig(file.config, (k) => file.secretKeys.includes(k));
  return JSON.parse(JSON.stringify(raw.raw)) as Record<string, unknown>;
}

export function validate(raw: Record<string, unknown>, stack = "test"): PlatformConfig {
  return validatePlatformConfig(stack, raw);
}

/** The ConfigError for an invalid config (fails the test if the config is accepted). */
export function configError(raw: Record<string, unknown>, stack = "test"): ConfigError {
  try {
    validatePlatformConfig(stack, raw);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected the config to be rejected");
}

export function problemPaths(err: ConfigError): string[] {
  return err.problems.map((p) => p.path);
}

/**
 * What index.ts passes addonContext once AWS resources exist, for tests that build the add-on catalog
 * of an EKS stack directly (Karpenter's node classes name the node role, subnets and security group).
 */
export const CLOUD_FIXTURE = {
  vpcId: "vpc-0fixture000000001",
  karpenterNodes: {
    nodeRoleName: "fixture-node-role",
    subnetIds: ["subnet-0fixture00000001", "subnet-0fixture00000002"],
    securityGroupId: "sg-0fixture000000001",
    tags: {},
    placementGroups: {},
  },
};
