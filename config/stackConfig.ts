/**
 * Loads this stack's config through the Pulumi runtime (the map the CLI, or the offline plan, passes
 * to the program). Invalid config stops the program before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError } from "./problems";
import { readRawConfig, validatePlatformConfig } from "./load";
import { checkWarnings } from "./semantics";
import { readinessProblems } from "../models/capacity/timeToReady";
import { weightCacheWarnings } from "./rules/weightCache";
import { findPlaceholders, isOfflinePlan } from "./placeholders";
import { readDeployEnvironment, type DeployEnvironment } from "./deployEnvironment";
import { CHARTS } from "../models/versions";
import type { PlatformConfig } from "../models/plannedConfig";

export interface StackConfig {
  readonly config: PlatformConfig;
  /** Where the program runs (local charts, provider plugin version): config/deployEnvironment.ts. */
  readonly deploy: DeployEnvironment;
  /** Secret values by name, each a Pulumi secret. */
  readonly secrets: Readonly<Record<string, pulumi.Output<string>>>;
}

// Marked @internal in the SDK's typings, but it is how the SDK itself knows which keys are secret.
const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;

export function loadStackConfig(): StackConfig {
  const stack = pulumi.getStack();
  const raw = readRawConfig(pulumi.runtime.allConfig(), isConfigSecret);
  const deploy = readDeployEnvironment(process.env, Object.values(CHARTS));
  try {
    const config = validatePlatformConfig(stack, raw.raw, [...raw.problems, ...deploy.problems]);
    for (const w of [
      ...checkWarnings(config),
      ...config.compat.warnings,
      ...readinessProblems(config).warnings,
      ...weightCacheWarnings(config),
    ])
      pulumi.log.warn(`stack "${stack}": ${w.path}: ${w.message}`);
    for (const i of config.compat.infos) pulumi.log.info(`stack "${stack}": ${i.path}: ${i.message}`);
    // Placeholders of the shipped stack files: fine to plan, a mistake to deploy.
    const placeholders = findPlaceholders(config);
    if (placeholders.length > 0) {
      const text = `stack "${stack}" still has ${placeholders.length} placeholder value(s) to replace: ${placeholders.map((p) => `${p.path} (${p.message})`).join("; ")}`;
      if (isOfflinePlan()) pulumi.log.info(text);
      else pulumi.log.warn(text);
    }
    const secrets = Object.fromEntries(Object.entries(raw.secrets).map(([k, v]) => [k, pulumi.secret(v)]));
    return { config, secrets, deploy: deploy.value };
  } catch (err) {
    // A RunError prints its message without a stack trace: the message already names every key path.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}
