/**
 * `npm run bench`: plans the dev stack and synthetic stacks of 10, 100 and 1,000 models, each run in a
 * fresh process, and prints the median wall time, peak RSS, resources registered and resources per second.
 * A benchmark, not a test: it asserts nothing and reports the figures.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { existingStacks, runCli, UsageError, type CliSpec } from "./cli";
import { e2eStack } from "../e2e/run";
import { calibrationTable } from "./calibrationData";

interface Run {
  ms: number;
  maxRssMB: number;
  resources: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall time from process spawn to exit: what a user waits for, start-up included. */
function runOnce(stack: string): Run {
  const worker = path.join(__dirname, "benchWorker.ts");
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, ["--import", "tsx", worker, stack], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`bench worker failed for ${stack}:\n${res.stderr}`);
  const line = res.stdout.trim().split("\n").pop()!;
  return { ms, ...(JSON.parse(line) as Omit<Run, "ms">) };
}

const SPEC: CliSpec = {
  name: "npm run bench --",
  summary:
    "Plan the dev stack and synthetic stacks of many models, each in a fresh process, and print median wall time, peak RSS and resources per second (BENCH_REPEATS runs each, default 3); then the capacity planner's calibration table.",
  usage: ["[<models> ...] [--e2e]"],
  maxPositionals: 5,
  options: {
    e2e: {
      type: "boolean",
      description: "also time the e2e of every stack on the test control plane (builds on first use)",
    },
  },
};

runCli(SPEC, async (args) => {
  const sizes = args.positionals.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n <= 0)
      throw new UsageError(`model counts are positive whole numbers (got "${p}")`);
    return n;
  });
  const cases = ["dev", ...(sizes.length > 0 ? sizes : [10, 100, 1000]).map(String)];
  const repeats = Number(process.env.BENCH_REPEATS ?? "3");
  // One unmeasured run fills the compiled-validator cache, as any earlier plan or test run would.
  runOnce("dev");
  const rows = new Map<string, number>();
  console.log(
    `stack/models | median wall ms (${repeats} runs) | peak RSS MB (max) | resources | resources/s`,
  );
  for (const stack of cases) {
    const runs = Array.from({ length: repeats }, () => runOnce(stack));
    const ms = median(runs.map((r) => r.ms));
    const rss = Math.max(...runs.map((r) => r.maxRssMB));
    const resources = runs[0]!.resources;
    rows.set(stack, ms);
    console.log(
      `${stack.padStart(12)} | ${ms.toFixed(0).padStart(10)} | ${rss.toFixed(0).padStart(8)} | ${String(resources).padStart(9)} | ${((resources / ms) * 1000).toFixed(0)}`,
    );
  }
  const small = rows.get("100");
  const large = rows.get("1000");
  if (small && large) console.log(`time ratio 1000 vs 100 models: ${(large / small).toFixed(2)}x (same run)`);
  // The capacity planner's accuracy: its memory model against published vLLM startup figures.
  console.log(
    "\nKV cache per GPU, planner vs published vLLM startups (models/capacity/calibration/vllm-startups.yaml):",
  );
  console.log(calibrationTable().join("\n"));
  if (args.values.e2e) {
    console.log(
      "\ne2e per stack (one run each; binaries built beforehand): plan | control plane | deploy + controllers | total, seconds",
    );
    for (const stack of existingStacks()) {
      const r = await e2eStack(stack);
      console.log(
        `${stack.padStart(12)} | ${r.seconds.plan.toFixed(1)} | ${r.seconds.cluster.toFixed(1)} | ${r.seconds.deploy.toFixed(1)} | ${r.seconds.total.toFixed(1)}${r.report.errors.length > 0 ? `  (${r.report.errors.length} error(s))` : ""}`,
      );
    }
  }
  return 0;
});
