/**
 * One benchmark run in its own process (so start-up and module loading count, as in `npm run plan`):
 * plans the dev stack or a synthetic one with N models and prints peak RSS and resource count as JSON.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planStack, ROOT, summarize, writePlan } from "./planRunner";
import { readStackFile } from "./stackFile";

export function syntheticModels(count: number): unknown[] {
  const models: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 0)
      models.push({
        name: `llm-${i}`,
        runtime: "vllm",
        storageUri: `s3://bench-models/llm-${i}`,
        architecture: "llama-3.1-8b",
        engine: { kvCacheDtype: "fp8" },
        gpu: { pool: "l4", count: 1 },
        autoscaling: { minReplicas: 1, maxReplicas: 2 },
      });
    else if (kind === 1)
      models.push({
        name: `triton-${i}`,
        runtime: "triton",
        format: "onnx",
        storageUri: `s3://bench-models/triton-${i}`,
        gpu: { pool: "l4", count: 1 },
        autoscaling: { minReplicas: 1, maxReplicas: 2 },
      });
    else if (kind === 2)
      models.push({ name: `sk-${i}`, runtime: "sklearn", storageUri: `gs://bench-models/sk-${i}` });
    else
      models.push({
        name: `xgb-${i}`,
        namespace: `team-${i % 10}`,
        runtime: "xgboost",
        deploymentMode: "Standard",
        storageUri: `gs://bench-models/xgb-${i}`,
        autoscaling: { minReplicas: 2, maxReplicas: 4, triggers: [{ type: "cpu", targetPercent: 70 }] },
      });
  }
  return models;
}

/** Plans the real dev stack ("dev") or a synthetic one with N models, writes it out like `npm run plan`. */
async function main() {
  const arg = process.argv[2] ?? "dev";
  const base = readStackFile(ROOT, "dev");
  const config =
    arg === "dev"
      ? base.config
      : {
          ...base.config,
          "inference-platform:gpuPools": JSON.stringify([
            { name: "l4", instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 1000 },
          ]),
          "inference-platform:models": JSON.stringify(syntheticModels(Number(arg))),
        };
  const plan = await planStack("dev", { config, secretKeys: base.secretKeys });
  if (plan.conformance.errors.length > 0) throw new Error(plan.conformance.errors.slice(0, 3).join("\n"));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-plan-"));
  writePlan(plan, out);
  summarize(plan);
  fs.rmSync(out, { recursive: true, force: true });
  console.log(
    JSON.stringify({ maxRssMB: process.resourceUsage().maxRSS / 1024, resources: plan.resources.length }),
  );
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
