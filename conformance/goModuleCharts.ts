/**
 * Charts whose source ships inside a Go module (ChartPin.goModule, e.g. LeaderWorkerSet's charts/lws):
 * ../shared does not hold them, and the Go module proxy — the one registry besides npm this workspace
 * reaches — serves the module zip with the chart in it. `go mod download` puts it in the Go module
 * cache; the chart defaults go to the cache the conformance reads (<cache>/charts/<chart>/<version>),
 * and the e2e renders the chart from the module folder itself.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CHARTS, type ChartPin } from "../models/versions";
import { cacheDir } from "./crdFiles";

/** The chart's folder in the Go module cache (downloaded through the proxy if needed), or why not. */
export function goModuleChartDir(pin: ChartPin): { dir: string } | { error: string } {
  const m = pin.goModule;
  if (!m) return { error: `${pin.chart} has no Go module source` };
  const run = spawnSync("go", ["mod", "download", "-json", `${m.module}@${m.version}`], {
    encoding: "utf8",
    // Outside any module: `go mod download module@version` needs no go.mod.
    cwd: os.tmpdir(),
    env: { ...process.env, GOFLAGS: "-mod=mod" },
  });
  if (run.error) return { error: `go mod download ${m.module}@${m.version}: ${run.error.message}` };
  let info: { Dir?: string; Error?: string } = {};
  try {
    info = JSON.parse(run.stdout) as typeof info;
  } catch {
    return { error: `go mod download ${m.module}@${m.version}: ${(run.stderr || run.stdout).trim()}` };
  }
  if (!info.Dir) return { error: `go mod download ${m.module}@${m.version}: ${info.Error ?? "no folder"}` };
  const dir = path.join(info.Dir, m.dir);
  if (!fs.existsSync(path.join(dir, "Chart.yaml")))
    return { error: `${m.module}@${m.version} has no chart at ${m.dir}` };
  return { dir };
}

/**
 * Copies the defaults (values.yaml, Chart.yaml, values.schema.json if any) of every Go-module chart not
 * yet in the cache. Returns why a chart could not be provided (no Go, the proxy refused it).
 */
export function fillGoModuleChartDefaults(
  charts: readonly ChartPin[] = Object.values(CHARTS),
  target = path.join(cacheDir(), "charts"),
): { written: string[]; failed: string[] } {
  const written: string[] = [];
  const failed: string[] = [];
  for (const pin of charts.filter((c) => c.goModule)) {
    const out = path.join(target, pin.defaultsDir);
    if (fs.existsSync(path.join(out, "values.yaml"))) continue;
    const source = goModuleChartDir(pin);
    if ("error" in source) {
      failed.push(source.error);
      continue;
    }
    fs.mkdirSync(out, { recursive: true });
    for (const file of ["values.yaml", "Chart.yaml", "values.schema.json"]) {
      const from = path.join(source.dir, file);
      if (!fs.existsSync(from)) continue;
      fs.writeFileSync(`${path.join(out, file)}.tmp`, fs.readFileSync(from));
      fs.renameSync(`${path.join(out, file)}.tmp`, path.join(out, file));
      written.push(`${pin.defaultsDir}/${file}`);
    }
  }
  return { written, failed };
}
