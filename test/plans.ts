/**
 * The checked-in stacks planned once per test run and shared by every test file (mocha loads them all in
 * one process): planning is the slow part of the suite. Callers that edit a plan clone it first.
 */
import { planStack, type Plan } from "../tools/planRunner";

const plans = new Map<string, Promise<Plan>>();

export function stockPlan(stack: string): Promise<Plan> {
  let p = plans.get(stack);
  if (!p) {
    p = planStack(stack);
    plans.set(stack, p);
  }
  return p;
}
