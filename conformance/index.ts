/**
 * Conformance of a plan with the upstream APIs: every custom resource against its CRD schema, every
 * core object against the Kubernetes schema, every Helm value key against the chart's defaults.
 */
import { CHARTS } from "../models/versions";
import { validateCustomResource } from "./crdSchema";
import { isCoreKind, validateCoreObject } from "./coreKinds";
import { checkHelmValues } from "./helmValues";
import { findChartDir } from "./crdFiles";
import { knativePodSpecProblems } from "./knativePodSpec";

export interface PlannedObject {
  readonly resource: string;
  readonly object: {
    apiVersion: string;
    kind: string;
    metadata?: { name?: string; namespace?: string };
  } & Record<string, unknown>;
  /** A partial object server-side applied onto an existing one (a Pulumi `*Patch` resource). */
  readonly patch?: boolean;
}

export interface PlannedRelease {
  readonly resource: string;
  readonly chart: string;
  readonly version: string;
  readonly values: Record<string, unknown>;
}

export interface ConformanceReport {
  readonly errors: string[];
  /** Objects and releases whose upstream schema is not available here (listed, never silently passed). */
  readonly unverified: string[];
  readonly checked: { customResources: number; coreObjects: number; releases: number };
}

export function chartDirFor(chart: string, version: string): string | undefined {
  const name = chart.split("/").pop();
  return Object.values(CHARTS).find((c) => c.chart === name && c.version === version)?.defaultsDir;
}

export async function checkConformance(
  objects: readonly PlannedObject[],
  releases: readonly PlannedRelease[],
): Promise<ConformanceReport> {
  const errors: string[] = [];
  const unverified: string[] = [];
  const checked = { customResources: 0, coreObjects: 0, releases: 0 };
  for (const { resource, object, patch } of objects) {
    const label = `${object.apiVersion} ${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata?.name ?? "?"} (${resource})`;
    if (isCoreKind(object.apiVersion)) {
      checked.coreObjects++;
      for (const p of await validateCoreObject(object, { partial: patch })) errors.push(`${label}: ${p}`);
      continue;
    }
    const problems = validateCustomResource(object);
    if (problems === undefined) {
      unverified.push(label);
      continue;
    }
    checked.customResources++;
    for (const p of problems) errors.push(`${label}: ${p}`);
  }
  // Knative-mode InferenceServices: KServe hands the predictor's pod fields to Knative, which refuses
  // fields outside its mask (the stack's KnativeServing decides which flagged fields it allows).
  const knativeServing = objects.find((o) => o.object.kind === "KnativeServing")?.object as
    { spec?: { config?: { features?: Record<string, string> } } } | undefined;
  const features = knativeServing?.spec?.config?.features ?? {};
  for (const { resource, object } of objects) {
    const annotations = (object.metadata as { annotations?: Record<string, string> } | undefined)
      ?.annotations;
    if (object.kind !== "InferenceService" || annotations?.["serving.kserve.io/deploymentMode"] !== "Knative")
      continue;
    const predictor = (object as { spec?: { predictor?: Record<string, unknown> } }).spec?.predictor ?? {};
    for (const p of knativePodSpecProblems(predictor, features))
      errors.push(
        `${object.apiVersion} ${object.kind} ${object.metadata?.namespace}/${object.metadata?.name} (${resource}): ${p}`,
      );
  }
  for (const release of releases) {
    const dir = chartDirFor(release.chart, release.version);
    if (!dir) {
      errors.push(
        `${release.resource}: chart ${release.chart}@${release.version} is not a pinned chart (models/versions.ts)`,
      );
      continue;
    }
    if (!findChartDir(dir)) {
      unverified.push(
        `Helm values of ${release.chart}@${release.version} (${release.resource}): no chart defaults`,
      );
      continue;
    }
    checked.releases++;
    for (const p of checkHelmValues(release.chart.split("/").pop()!, dir, release.values))
      errors.push(`${release.resource}: ${p}`);
  }
  return { errors, unverified, checked };
}
