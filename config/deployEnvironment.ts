/**
 * Switches for where the program itself runs, read from the environment rather than stack config
 * (they describe the machine, not the stack): both exist for running the real Pulumi engine against a
 * cluster without the internet, as the engine e2e does; a normal deployment sets neither.
 *
 * - INFERENCE_PLATFORM_LOCAL_CHARTS=<dir>: install each Helm release from <dir>/<chart>/<version>/ (e.g.
 *   ../shared/helm-charts) instead of its pinned repository (a chart that ships in a Go module, such as
 *   LeaderWorkerSet's, from the Go module cache when <dir> lacks it).
 * - INFERENCE_PLATFORM_KUBERNETES_PROVIDER_VERSION=<x.y.z>: the Kubernetes provider plugin version to use
 *   instead of the one @pulumi/kubernetes asks for (a plugin built here may be another release).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ChartPin } from "../models/versions";
import type { Problem } from "./problems";
import { goModuleChartDir } from "../conformance/goModuleCharts";

export interface DeployEnvironment {
  readonly localChartsDir?: string;
  readonly kubernetesProviderVersion?: string;
}

export const LOCAL_CHARTS_ENV = "INFERENCE_PLATFORM_LOCAL_CHARTS";
export const PROVIDER_VERSION_ENV = "INFERENCE_PLATFORM_KUBERNETES_PROVIDER_VERSION";

export function readDeployEnvironment(
  env: NodeJS.ProcessEnv,
  charts: readonly ChartPin[],
): { value: DeployEnvironment; problems: Problem[] } {
  const problems: Problem[] = [];
  const dir = env[LOCAL_CHARTS_ENV];
  if (dir !== undefined) {
    // Charts that ship in a Go module come from the Go module cache when the folder lacks them.
    const missing = charts.filter(
      (c) => !c.goModule && !fs.existsSync(path.join(dir, c.chart, c.version, "Chart.yaml")),
    );
    if (missing.length > 0)
      problems.push({
        path: LOCAL_CHARTS_ENV,
        message: `${dir} lacks ${missing.map((c) => `${c.chart}/${c.version}/Chart.yaml`).join(", ")} (expected <dir>/<chart>/<version>/, like ../shared/helm-charts)`,
      });
  }
  const version = env[PROVIDER_VERSION_ENV];
  if (version !== undefined && !/^\d+\.\d+\.\d+$/.test(version))
    problems.push({
      path: PROVIDER_VERSION_ENV,
      message: `"${version}" is not a plugin version such as 4.25.0`,
    });
  return {
    value: {
      ...(dir ? { localChartsDir: path.resolve(dir) } : {}),
      ...(version ? { kubernetesProviderVersion: version } : {}),
    },
    problems,
  };
}

/** Where a release's chart comes from: its pinned repository, or the local chart directory. */
export function releaseChart(
  pin: ChartPin,
  deploy: DeployEnvironment,
): { chart: string; repositoryOpts?: { repo: string } } {
  if (deploy.localChartsDir) {
    const local = path.join(deploy.localChartsDir, pin.chart, pin.version);
    if (!pin.goModule || fs.existsSync(path.join(local, "Chart.yaml"))) return { chart: local };
    const source = goModuleChartDir(pin);
    if ("error" in source) throw new Error(`${LOCAL_CHARTS_ENV}: ${source.error}`);
    return { chart: source.dir };
  }
  if (pin.repository.startsWith("oci://")) return { chart: `${pin.repository}/${pin.chart}` };
  return { chart: pin.chart, repositoryOpts: { repo: pin.repository } };
}
