/**
 * Runs the pack's policies the way the Pulumi engine would, without the CLI: over the resources of an
 * offline plan, with a policy config file of the same format `--policy-pack-config` takes
 * (`{"all": "advisory", "<policy>": "mandatory" | {"enforcementLevel": ..., <config>}}`).
 */
import type {
  EnforcementLevel,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as fs from "node:fs";
import * as path from "node:path";
import { POLICIES } from "./policies";

export interface PolicyInput {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  readonly protect: boolean;
  readonly parent?: string;
  readonly dependencies?: readonly string[];
}

type LevelOrConfig = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
export type PackConfig = Record<string, LevelOrConfig>;

export interface Violation {
  readonly policy: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly message: string;
  readonly urn?: string;
}

/** policy/config/<stack>.json, or no overrides. */
export function stackPolicyConfig(stack: string, dir = path.join(__dirname, "config")): PackConfig {
  const file = path.join(dir, `${stack}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as PackConfig) : {};
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/**
 * The enforcement level and config a policy runs with, as the engine resolves them: the engine sends
 * only what the config file sets (no schema defaults), so neither does this; policies apply their own.
 */
export function resolvePolicyConfig(
  policy: AnyPolicy,
  config: PackConfig,
  packDefault: EnforcementLevel = "mandatory",
) {
  const levelOf = (v: LevelOrConfig | undefined) => (typeof v === "string" ? v : v?.enforcementLevel);
  const own = config[policy.name];
  const level = levelOf(own) ?? levelOf(config.all) ?? policy.enforcementLevel ?? packDefault;
  const { enforcementLevel: _level, ...props } = typeof own === "object" ? own : {};
  return { level, props };
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};
const isStackPolicy = (p: AnyPolicy): p is StackValidationPolicy => "validateStack" in p;

function options(r: PolicyInput) {
  return {
    protect: r.protect,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    parent: r.parent,
  };
}

const unsupported = () => {
  throw new Error("the offline policy runner matches on type tokens; use args.type");
};

export async function runPolicies(
  resources: readonly PolicyInput[],
  config: PackConfig,
  policies: readonly AnyPolicy[] = POLICIES,
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const stackTags: ReadonlyMap<string, string> = new Map();
  const byUrn = new Map<string, PolicyResource>();
  const policyResources = resources.map((r) => {
    const pr: PolicyResource = {
      type: r.type,
      props: r.props,
      urn: r.urn,
      name: r.name,
      opts: options(r),
      dependencies: [],
      propertyDependencies: {},
      isType: unsupported,
      asType: unsupported,
    };
    byUrn.set(r.urn, pr);
    return pr;
  });
  resources.forEach((r, i) => {
    const pr = policyResources[i]!;
    if (r.parent) pr.parent = byUrn.get(r.parent);
    pr.dependencies = (r.dependencies ?? []).flatMap((u) => byUrn.get(u) ?? []);
  });
  for (const policy of policies) {
    const { level, props } = resolvePolicyConfig(policy, config);
    if (level === "disabled") continue;
    const report = (urn?: string) => (message: string) =>
      violations.push({ policy: policy.name, enforcementLevel: level, message, urn });
    try {
      if (isStackPolicy(policy)) {
        const args: StackValidationArgs = {
          resources: policyResources,
          stackTags,
          getConfig: <T>() => props as T,
          notApplicable,
        };
        await policy.validateStack(args, report());
        continue;
      }
      const validators = [policy.validateResource].flat().filter((v) => v !== undefined);
      for (const r of resources) {
        const args: ResourceValidationArgs = {
          type: r.type,
          props: r.props,
          urn: r.urn,
          name: r.name,
          opts: options(r),
          stackTags,
          isType: unsupported,
          asType: unsupported,
          getConfig: <T>() => props as T,
          notApplicable,
        };
        for (const validate of validators) {
          try {
            await validate(args, report(r.urn));
          } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
          }
        }
      }
    } catch (e) {
      if (!(e instanceof NotApplicable)) throw e;
    }
  }
  return violations;
}
