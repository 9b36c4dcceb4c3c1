/**
 * `npm run plan -- --stack <name>` (dev by default): the offline plan. Exits non-zero when config is
 * invalid, the program throws, or a conformance check or mandatory policy fails.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { CliError, runCli, stackOption, type CliSpec } from "./cli";
import { mandatoryViolations, planStack, summarize, writePlan, ROOT } from "./planRunner";

const SPEC: CliSpec = {
  name: "npm run plan --",
  summary:
    "Plan a stack offline: run the real program under Pulumi's mocks, check every object against the upstream APIs and the policy pack, and write out/<stack>/.",
  usage: ["[--stack <name>]"],
  options: { stack: { type: "string", description: "the stack to plan (default: dev)", value: "name" } },
};

runCli(SPEC, async (args) => {
  const stack = stackOption(args.values.stack, { required: false, fallback: "dev" });
  let plan;
  try {
    plan = await planStack(stack);
  } catch (err) {
    // Config errors (RunError) carry a complete message naming every key path.
    if (pulumi.RunError.isInstance(err)) throw new CliError((err as Error).message);
    throw err;
  }
  const out = writePlan(plan);
  console.log(summarize(plan));
  console.log(
    `\nWrote ${path.relative(ROOT, out)}/ (resources.json, capacity.json, compat.json, policy.json, manifests/, helm/)`,
  );
  return plan.conformance.errors.length > 0 || mandatoryViolations(plan).length > 0 ? 1 : 0;
});
