/**
 * Reads the stack's config map (as the Pulumi CLI passes it to the program), validates it all at once
 * and returns typed, defaulted config. Secret values are split off: they never enter PlatformConfig,
 * only their names do, so nothing that prints or plans the config can leak them.
 */
import { CONFIG_KEYS, platformSchema } from "./schema";
import type { PlatformConfig } from "../models/plannedConfig";
import { ConfigError, problemsFromZod, type Problem } from "./problems";
import { checkPlacement, checkSemantics } from "./semantics";
import { planStackCapacity } from "../models/capacity/stack";
import { checkCompat } from "../models/compat/checks";
import { planTimeToReady, readinessProblems } from "../models/capacity/timeToReady";

export const PROJECT = "inference-platform";

export interface RawStackConfig {
  /** The `inference-platform:*` keys as parsed JSON, plus `region` from `aws:region`. */
  readonly raw: Record<string, unknown>;
  /** Plaintext secret values by name; callers wrap them with pulumi.secret at once. */
  readonly secrets: Record<string, string>;
  readonly problems: Problem[];
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Splits a flat config map (`project:key` → text) into the raw platform object and the secrets.
 * `isSecret` says which keys the CLI marked secret.
 */
export function readRawConfig(
  all: Record<string, string>,
  isSecret: (key: string) => boolean,
): RawStackConfig {
  const raw: Record<string, unknown> = {};
  const problems: Problem[] = [];
  let secrets: Record<string, string> = {};
  const prefix = `${PROJECT}:`;
  for (const key of Object.keys(all).sort()) {
    if (key === "aws:region") raw.region = all[key];
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    const value = parseValue(all[key] ?? "");
    if (!(CONFIG_KEYS as readonly string[]).includes(name)) {
      problems.push({
        path: name,
        message: `unknown config key ${key} (allowed: ${CONFIG_KEYS.map((k) => `${prefix}${k}`).join(", ")})`,
      });
      continue;
    }
    if (name === "secrets") {
      if (
        value === null ||
        typeof value !== "object" ||
        Array.isArray(value) ||
        Object.values(value).some((v) => typeof v !== "string")
      ) {
        problems.push({
          path: "secrets",
          message:
            "must be a map of name → secure string (pulumi config set --secret --path 'secrets.<name>' <value>)",
        });
      } else {
        secrets = value as Record<string, string>;
        if (!isSecret(key))
          problems.push({
            path: "secrets",
            message: "values under secrets must be set with --secret so they are encrypted in the stack file",
          });
      }
      continue;
    }
    if (isSecret(key)) {
      problems.push({
        path: name,
        message: `holds a secure value; keep secrets under ${prefix}secrets and reference them by name`,
      });
      continue;
    }
    raw[name] = value;
  }
  raw.secretNames = Object.keys(secrets).sort();
  return { raw, secrets, problems };
}

/**
 * Validates the raw config; throws one ConfigError listing every problem (including `earlier` ones
 * found while reading the config map), or returns typed config.
 */
export function validatePlatformConfig(
  stack: string,
  raw: Record<string, unknown>,
  problems: readonly Problem[] = [],
): PlatformConfig {
  const parsed = platformSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(stack, [...problems, ...problemsFromZod(platformSchema, parsed.error.issues)]);
  const semantic = checkSemantics(parsed.data);
  // Capacity planning places `gpu: auto` models and sizes every LLM; it runs even when other keys
  // are wrong, so one message still lists every problem.
  const planned = planStackCapacity(parsed.data);
  const models = planTimeToReady({ ...parsed.data, models: planned.models });
  const placed = { ...parsed.data, models, capacity: planned.capacity };
  const compat = checkCompat(placed);
  const all = [
    ...problems,
    ...semantic,
    ...planned.problems,
    ...checkPlacement(placed),
    ...compat.errors,
    ...readinessProblems(placed).errors,
  ];
  if (all.length > 0) throw new ConfigError(stack, all);
  return { ...placed, compat };
}
