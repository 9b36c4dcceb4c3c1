/**
 * One benchmark run in its own process: plans a synthetic dev stack with N models and prints
 * wall time, peak RSS and resource count as JSON.
 */
import { planStack } from "./planRunner";
import { readStackFile } from "./stackFile";
import { ROOT } from "./planRunner";

export function syntheticModels(count: number): unknown[] {
  const models: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 0)
      models.push({
        name: `llm-${i}`,
        runtime: "vllm",
        storageUri: `s3://bench-models/llm-${i}`,
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

async function main() {
  const count = Number(process.argv[2] ?? "10");
  const base = readStackFile(ROOT, "dev");
  const config = {
    ...base.config,
    "inference-platform:gpuPools": JSON.stringify([
      { name: "l4", instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 1000 },
    ]),
    "inference-platform:models": JSON.stringify(syntheticModels(count)),
  };
  const start = process.hrtime.bigint();
  const plan = await planStack("dev", { config, secretKeys: base.secretKeys });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (plan.conformance.errors.length > 0) throw new Error(plan.conformance.errors.slice(0, 3).join("\n"));
  console.log(
    JSON.stringify({
      count,
      ms,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      resources: plan.resources.length,
    }),
  );
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
