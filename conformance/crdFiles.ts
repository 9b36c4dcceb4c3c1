/**
 * Where CRD files are found: ../shared/crds (INFERENCE_PLATFORM_SHARED), then the cache that
 * `npm run crds` fills (INFERENCE_PLATFORM_CACHE/crds, default .cache/crds). Also the pure splitting
 * of upstream bundles into one file per CRD, named `<group>_<plural>.yaml` like upstream's own files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { sharedDir } from "./sharedDir";

export function cacheDir(): string {
  return process.env.INFERENCE_PLATFORM_CACHE ?? path.resolve(__dirname, "..", ".cache");
}

/**
 * ../shared/crds (KServe, KEDA, Istio, Knative Serving), ../shared/crds-extra (the other kinds the plan
 * emits), the charts that ship their CRDs in crds/ (Karpenter), then the download cache.
 */
export function crdSearchPath(): string[] {
  return [
    path.join(sharedDir(), "crds"),
    path.join(sharedDir(), "crds-extra"),
    path.join(sharedDir(), "helm-charts"),
    path.join(cacheDir(), "crds"),
  ];
}

/** A chart's defaults folder (`<chart>/<version>`): ../shared/charts, else the cache `npm run crds` fills. */
export function findChartDir(defaultsDir: string): string | undefined {
  return [path.join(sharedDir(), "charts"), path.join(cacheDir(), "charts")]
    .map((dir) => path.join(dir, defaultsDir))
    .find((candidate) => fs.existsSync(path.join(candidate, "values.yaml")));
}

/** The first existing copy of a CRD file (relative name from CRD_FILES), or undefined. */
export function findCrdFile(file: string): string | undefined {
  return crdSearchPath()
    .map((dir) => path.join(dir, file))
    .find((candidate) => fs.existsSync(candidate));
}

export interface CrdDocument {
  /** `<dir>/<group>_<plural>.yaml` */
  readonly file: string;
  readonly text: string;
}

/**
 * The CustomResourceDefinitions in a downloaded file (a single CRD or a bundle with other kinds),
 * each with its exact source text so the cached file is byte-identical to upstream's document.
 */
export function splitCrdBundle(dir: string, text: string): CrdDocument[] {
  const out: CrdDocument[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
    const crd = doc.toJS() as {
      kind?: string;
      spec?: { group?: string; names?: { plural?: string } };
    } | null;
    if (crd?.kind !== "CustomResourceDefinition") continue;
    const group = crd.spec?.group;
    const plural = crd.spec?.names?.plural;
    if (!group || !plural)
      throw new Error("a CustomResourceDefinition without spec.group or spec.names.plural");
    const [start, , end] = doc.range;
    out.push({ file: `${dir}/${group}_${plural}.yaml`, text: `---\n${text.slice(start, end).trimEnd()}\n` });
  }
  return out;
}
