/**
 * `npm run crds`: downloads the pinned upstream CRDs (models/versions.ts CRD_SOURCES) and the pinned
 * charts' defaults (values.yaml, values.schema.json) into the git-ignored cache (.cache, or
 * INFERENCE_PLATFORM_CACHE), so that conformance checks work outside this repository and cover kinds
 * ../shared does not hold.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cacheDir, findCrdFile, splitCrdBundle } from "../conformance/crdFiles";
import { CHARTS, CRD_FILES, CRD_SOURCES, type ChartPin, type CrdSource } from "../models/versions";
import { runCli, type CliSpec } from "./cli";
import { fillGoModuleChartDefaults } from "../conformance/goModuleCharts";

export type Fetcher = (url: string) => Promise<string>;

/** fetch's own error says only "fetch failed": name the cause (DNS, refused, TLS, timeout, proxy). */
export function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause && !e.message.includes(cause) ? `${e.message}: ${cause}` : e.message;
}

/** HTTP(S)_PROXY is honoured: tools/node22.cjs runs Node with NODE_USE_ENV_PROXY when one is set. */
export const httpFetch: Fetcher = async (url) => {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(describeFetchError(err));
  }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
};

/** The defaults files of a pinned chart at its source tag (what Helm reads: values.yaml, values.schema.json). */
export function chartFileUrls(chart: ChartPin): Array<{ file: string; url: string }> {
  const [repo, dir] = chart.source.split(" ");
  const files = ["values.yaml", "Chart.yaml", ...(chart.hasSchema ? ["values.schema.json"] : [])];
  return files.map((f) => ({
    file: `${chart.defaultsDir}/${f}`,
    url: `https://raw.githubusercontent.com/${repo}/${chart.sourceTag}/${dir}/${f}`,
  }));
}

/**
 * Fetches every pinned chart's defaults into <cache>/charts/<chart>/<version>/: from the chart's source
 * tag, or from the Go module that ships it (conformance/goModuleCharts.ts).
 */
export async function downloadChartDefaults(
  fetcher: Fetcher = httpFetch,
  charts: readonly ChartPin[] = Object.values(CHARTS),
  target = path.join(cacheDir(), "charts"),
): Promise<{ written: string[]; failed: string[] }> {
  const written: string[] = [];
  const failed: string[] = [];
  const wanted = charts.filter((c) => !c.goModule).flatMap(chartFileUrls);
  const results = await Promise.allSettled(wanted.map((w) => fetcher(w.url)));
  results.forEach((result, i) => {
    const { file, url } = wanted[i]!;
    // cert-manager keeps its Chart.yaml as Chart.template.yaml upstream: only the values files matter.
    if (result.status === "rejected") {
      if (!file.endsWith("Chart.yaml")) failed.push(`${url}: ${describeFetchError(result.reason)}`);
      return;
    }
    const out = path.join(target, file);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(`${out}.tmp`, result.value);
    fs.renameSync(`${out}.tmp`, out);
    written.push(file);
  });
  const fromGo = fillGoModuleChartDefaults(charts, target);
  return { written: [...written, ...fromGo.written], failed: [...failed, ...fromGo.failed] };
}

export interface DownloadReport {
  readonly written: string[];
  readonly failed: string[];
  /** Kinds in CRD_FILES still without a CRD file anywhere on the search path. */
  readonly missingKinds: string[];
}

/** Fetches every source, writes each CRD atomically, and reports what is still missing. */
export async function downloadCrds(
  fetcher: Fetcher = httpFetch,
  sources: readonly CrdSource[] = CRD_SOURCES,
  target = path.join(cacheDir(), "crds"),
): Promise<DownloadReport> {
  const written: string[] = [];
  const failed: string[] = [];
  const results = await Promise.allSettled(
    sources.map(async (s) => splitCrdBundle(s.dir, await fetcher(s.url))),
  );
  results.forEach((result, i) => {
    if (result.status === "rejected") {
      failed.push(`${sources[i]!.url}: ${describeFetchError(result.reason)}`);
      return;
    }
    if (result.value.length === 0) failed.push(`${sources[i]!.url}: no CustomResourceDefinition in the file`);
    for (const doc of result.value) {
      const file = path.join(target, doc.file);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.tmp`, doc.text);
      fs.renameSync(`${file}.tmp`, file);
      written.push(doc.file);
    }
  });
  const missingKinds = Object.entries(CRD_FILES)
    .filter(([, file]) => findCrdFile(file) === undefined)
    .map(([kind]) => kind);
  return { written, failed, missingKinds };
}

/** Downloads whatever the inventory lacks; the reasons it could not, one per source. */
export async function fetchMissingSchemas(fetcher: Fetcher = httpFetch): Promise<{ failed: string[] }> {
  const crds = await downloadCrds(fetcher);
  const charts = await downloadChartDefaults(fetcher);
  return { failed: [...crds.failed, ...charts.failed] };
}

const SPEC: CliSpec = {
  name: "npm run crds --",
  summary:
    "Download every pinned upstream CRD and chart's defaults into the cache (.cache, or INFERENCE_PLATFORM_CACHE) for the conformance checks, where ../shared is not available. Honours HTTPS_PROXY.",
  usage: [""],
  options: {},
};

if (require.main === module)
  runCli(SPEC, async () => {
    const report = await downloadCrds();
    const charts = await downloadChartDefaults();
    console.log(`Wrote ${report.written.length} CRD file(s) under ${path.join(cacheDir(), "crds")}`);
    console.log(
      `Wrote ${charts.written.length} chart defaults file(s) under ${path.join(cacheDir(), "charts")}`,
    );
    for (const f of [...report.failed, ...charts.failed]) console.error(`FAILED ${f}`);
    if (report.missingKinds.length > 0)
      console.error(`Still without a CRD: ${report.missingKinds.join(", ")}`);
    return report.failed.length + charts.failed.length + report.missingKinds.length > 0 ? 1 : 0;
  });
