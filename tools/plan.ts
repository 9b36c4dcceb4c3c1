/**
 * `npm run plan -- --stack <name>` (dev by default): the offline plan. Exits non-zero when config is
 * invalid, the program throws, or a conformance check fails.
 */
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { mandatoryViolations, planStack, summarize, writePlan, ROOT } from "./planRunner";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { stack: { type: "string", default: "dev" } } });
  const stack = values.stack ?? "dev";
  let plan;
  try {
    plan = await planStack(stack);
  } catch (err) {
    // Config errors (RunError) carry a complete message; anything else is a program bug: show the stack.
    if (pulumi.RunError.isInstance(err)) console.error(err.message);
    else console.error((err as Error).stack ?? String(err));
    return 1;
  }
  const out = writePlan(plan);
  console.log(summarize(plan));
  console.log(
    `\nWrote ${path.relative(ROOT, out)}/ (resources.json, capacity.json, compat.json, policy.json, manifests/, helm/)`,
  );
  return plan.conformance.errors.length > 0 || mandatoryViolations(plan).length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
