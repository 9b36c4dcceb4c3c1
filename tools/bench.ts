/**
 * `npm run bench`: plans synthetic stacks of 10, 100 and 1,000 models, each run in a fresh process,
 * and prints the median wall time, peak RSS, resources registered and resources per second.
 * A benchmark, not a test: it asserts nothing and reports the figures.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

interface Run {
  count: number;
  ms: number;
  maxRssMB: number;
  resources: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function runOnce(count: number): Run {
  const worker = path.join(__dirname, "benchWorker.ts");
  const res = spawnSync(process.execPath, ["--import", "tsx", worker, String(count)], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (res.status !== 0) throw new Error(`bench worker failed for ${count} models:\n${res.stderr}`);
  const line = res.stdout.trim().split("\n").pop()!;
  return JSON.parse(line) as Run;
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const counts = sizes.length > 0 ? sizes : [10, 100, 1000];
const repeats = Number(process.env.BENCH_REPEATS ?? "3");
const rows: Array<{ count: number; ms: number; rss: number; resources: number }> = [];
console.log(`models | median plan ms (${repeats} runs) | peak RSS MB (max) | resources | resources/s`);
for (const count of counts) {
  const runs = Array.from({ length: repeats }, () => runOnce(count));
  const ms = median(runs.map((r) => r.ms));
  const rss = Math.max(...runs.map((r) => r.maxRssMB));
  rows.push({ count, ms, rss, resources: runs[0]!.resources });
  console.log(
    `${String(count).padStart(6)} | ${ms.toFixed(0).padStart(10)} | ${rss.toFixed(0).padStart(8)} | ${String(runs[0]!.resources).padStart(9)} | ${((runs[0]!.resources / ms) * 1000).toFixed(0)}`,
  );
}
const small = rows.find((r) => r.count === 100);
const large = rows.find((r) => r.count === 1000);
if (small && large)
  console.log(`time ratio 1000 vs 100 models: ${(large.ms / small.ms).toFixed(2)}x (same run)`);
