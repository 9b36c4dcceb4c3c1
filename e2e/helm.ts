/**
 * Renders a planned Helm release with the real helm binary (built from helm.sh/helm/v3) from the
 * complete chart sources in ../shared/helm-charts/<chart>/<version>/, with exactly the values the plan
 * passes. Helm itself enforces the chart's values.schema.json and fails on a template error. The
 * cluster's API versions are passed as Helm would see them on install, so templates gated on
 * `.Capabilities.APIVersions` render as they would for real.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { sharedDir } from "../conformance/sharedDir";
import { cacheDir } from "../conformance/crdFiles";
import { CHARTS, type ChartPin } from "../models/versions";
import { goModuleChartDir } from "../conformance/goModuleCharts";
import type { KubeObject } from "./kube";

export interface ReleaseToRender {
  /** Resource name in the plan (for messages). */
  readonly resource: string;
  readonly name: string;
  readonly namespace: string;
  /** Chart name as the plan has it (possibly an oci:// reference). */
  readonly chart: string;
  readonly version: string;
  readonly values: Record<string, unknown>;
  /** The release leaves out its chart's crds/ directory (Helm's --skip-crds; another release owns them). */
  readonly skipCrds?: boolean;
}

export interface RenderedObject {
  readonly object: KubeObject;
  /** Template the object came from (`# Source:` line), for messages. */
  readonly source: string;
  /** helm.sh/hook annotation value, when the object is a hook. */
  readonly hook?: string;
}

export class RenderError extends Error {}

/**
 * The chart's complete source: ../shared/helm-charts/<chart>/<version>/, else the Go module that ships
 * it, else a copy `helm pull` fetched from the chart's pinned repository into the cache (outside this
 * workspace, e.g. on a user's CI).
 */
export function chartSourceDir(chart: string, version: string, helm?: string): string {
  const name = chart.split("/").pop()!;
  const shared = path.join(sharedDir(), "helm-charts", name, version);
  if (fs.existsSync(path.join(shared, "Chart.yaml"))) return shared;
  const pin: ChartPin | undefined = Object.values(CHARTS).find(
    (c) => c.chart === name && c.version === version,
  );
  // A chart that ships inside a Go module (LeaderWorkerSet's): its source from the Go module cache.
  if (pin?.goModule) {
    const source = goModuleChartDir(pin);
    if ("error" in source) throw new RenderError(`${name}@${version}: ${source.error}`);
    return source.dir;
  }
  const cached = path.join(cacheDir(), "helm-charts", name, version);
  if (fs.existsSync(path.join(cached, name, "Chart.yaml"))) return path.join(cached, name);
  if (!pin || !helm) return shared;
  const oci = pin.repository.startsWith("oci://");
  const args = oci
    ? ["pull", `${pin.repository}/${pin.chart}`, "--version", version, "--untar", "--untardir", cached]
    : ["pull", pin.chart, "--repo", pin.repository, "--version", version, "--untar", "--untardir", cached];
  const pulled = spawnSync(helm, args, { encoding: "utf8" });
  if (pulled.status !== 0)
    throw new RenderError(
      `${name}@${version}: not in ${shared}, and helm pull from ${pin.repository} failed: ${pulled.stderr.trim()}`,
    );
  return path.join(cached, name);
}

export function renderRelease(
  helm: string,
  release: ReleaseToRender,
  apiVersions: readonly string[],
  kubeVersion: string,
): RenderedObject[] {
  const chartDir = chartSourceDir(release.chart, release.version, helm);
  if (!fs.existsSync(path.join(chartDir, "Chart.yaml")))
    throw new RenderError(
      `${release.resource}: no chart source at ${chartDir} (../shared/helm-charts/<chart>/<version>)`,
    );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-values-"));
  try {
    const valuesFile = path.join(tmp, "values.json");
    fs.writeFileSync(valuesFile, JSON.stringify(release.values));
    const args = [
      "template",
      release.name,
      chartDir,
      "--namespace",
      release.namespace,
      "--values",
      valuesFile,
      ...(release.skipCrds ? [] : ["--include-crds"]),
      "--skip-tests",
      "--kube-version",
      kubeVersion,
      ...apiVersions.flatMap((v) => ["--api-versions", v]),
    ];
    const run = spawnSync(helm, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (run.status !== 0)
      throw new RenderError(
        `${release.resource}: helm template ${release.chart}@${release.version} failed: ${(run.stderr || run.stdout).trim()}`,
      );
    return parseRendered(run.stdout);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function parseRendered(text: string): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new RenderError(`helm output is not YAML: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as KubeObject | null;
    if (!obj || typeof obj !== "object" || !obj.kind) continue;
    if (obj.kind.endsWith("List") && Array.isArray((obj as { items?: unknown }).items)) {
      for (const item of (obj as unknown as { items: KubeObject[] }).items)
        out.push({ object: item, source: "(List)" });
      continue;
    }
    const source = /# Source: (.*)/.exec(String(doc.commentBefore ?? ""))?.[1] ?? "";
    const hook = obj.metadata?.annotations?.["helm.sh/hook"];
    out.push({ object: obj, source, ...(hook ? { hook } : {}) });
  }
  return out;
}
