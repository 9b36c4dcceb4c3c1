/**
 * Values in the shipped stack files that stand for the user's own: AWS's documentation account ids,
 * the RFC 5737 documentation address ranges and example-* buckets. The offline plan mentions them; under
 * the real Pulumi engine they are warnings, because deploying them would grant access to nobody (or to
 * the wrong party) and read models from buckets that are not the user's.
 */
import type { PlatformInput } from "./schema";
import type { Problem } from "./problems";

/** AWS's documentation account ids (docs.aws.amazon.com uses 123456789012 and 210987654321). */
const DOC_ACCOUNTS = ["123456789012", "210987654321", "111122223333", "444455556666"];
/** RFC 5737: TEST-NET-1, -2, -3. */
const DOC_RANGES = ["192.0.2.", "198.51.100.", "203.0.113."];

export function findPlaceholders(cfg: PlatformInput): Problem[] {
  const found: Problem[] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === "string") {
      const account = DOC_ACCOUNTS.find((a) => value.includes(`::${a}:`) || value === a);
      if (account)
        found.push({ path, message: `${value} is AWS's documentation account ${account}, not yours` });
      else if (DOC_RANGES.some((r) => value.startsWith(r)))
        found.push({
          path,
          message: `${value} is a documentation address range (RFC 5737); list your own CIDRs`,
        });
      else if (/^(s3|gs):\/\/example-/.test(value))
        found.push({ path, message: `${value} is an example bucket; point it at your models` });
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === "object")
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  walk({ cluster: cfg.cluster, models: cfg.models }, "");
  return found;
}

/** The offline plan (tools/planRunner) runs the program under mocks and says so. */
export const OFFLINE_PLAN_ENV = "INFERENCE_PLATFORM_OFFLINE_PLAN";
export const isOfflinePlan = (): boolean => process.env[OFFLINE_PLAN_ENV] === "1";
