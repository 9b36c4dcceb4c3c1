/**
 * Every Helm value key the stack sets must exist in the chart's defaults at the pinned version:
 * Helm ignores unknown keys silently (except charts with a strict values.schema.json, where the
 * schema is checked too). Chart quirks are handled explicitly (../shared/charts/README.md).
 */
import Ajv from "ajv";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { sharedDir } from "./sharedDir";
import { findChartDir } from "./crdFiles";

/**
 * Keys templates read that the chart's values.yaml does not list, or subcharts whose defaults are not
 * in ../shared/charts. Each entry says why; everything else must be in the defaults.
 */
export const HELM_KEY_ALLOWLIST: ReadonlyArray<{ chart: string; prefix: string; reason: string }> = [
  {
    chart: "kube-prometheus-stack",
    prefix: "grafana.rbac.useExistingRole",
    reason:
      "a commented example in the grafana subchart's values.yaml (12.11.1, line 22); templates/rolebinding.yaml binds it",
  },
  {
    chart: "cluster-autoscaler",
    prefix: "extraArgs",
    reason: "open map rendered as --key=value flags; values.yaml lists only examples",
  },
  {
    chart: "gateway",
    prefix: "labels",
    reason:
      "an open map of labels for every resource and pod (templates/_helpers.tpl 11 and deployment.yaml 39 range over it); values.yaml holds one default entry",
  },
  {
    chart: "istiod",
    prefix: "meshConfig",
    reason: "Istio's MeshConfig API, passed through whole; values.yaml lists one example field",
  },
];

type Tree = Record<string, unknown>;

function isPlainObject(v: unknown): v is Tree {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `over` merged onto `base`, maps key by key (Helm's coalescing of a parent's values onto a subchart's). */
function mergeValues(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeValues(out[k] as Tree, v) : v;
  return out;
}

/**
 * Subcharts' defaults under their key (alias or name), read from the complete chart source in
 * ../shared/helm-charts/<chart>/<version>/charts/<name>/values.yaml; `missing` lists subcharts whose
 * source is not there (their keys cannot be checked).
 */
function subchartDefaults(dir: string, chartDir: string): { found: Tree; missing: string[] } {
  const chartFile = path.join(dir, "Chart.yaml");
  const deps = fs.existsSync(chartFile)
    ? (((parse(fs.readFileSync(chartFile, "utf8")) as Tree | null)?.dependencies ?? []) as Array<{
        name: string;
        alias?: string;
      }>)
    : [];
  const found: Tree = {};
  const missing: string[] = [];
  for (const dep of deps) {
    const file = path.join(sharedDir(), "helm-charts", chartDir, "charts", dep.name, "values.yaml");
    if (fs.existsSync(file))
      found[dep.alias ?? dep.name] = (parse(fs.readFileSync(file, "utf8")) ?? {}) as Tree;
    else missing.push(dep.alias ?? dep.name);
  }
  return { found, missing };
}

export function loadChartDefaults(chartDir: string): { defaults: Tree; schema?: Tree; unchecked: string[] } {
  const dir = findChartDir(chartDir);
  if (!dir)
    throw new Error(
      `no defaults for chart ${chartDir} in ${path.join(sharedDir(), "charts")} or the cache; run npm run crds`,
    );
  let text = fs.readFileSync(path.join(dir, "values.yaml"), "utf8");
  // knative-operator ships release-time placeholders; apply the release's own substitutions first.
  text = text.replace(/\{\{ tag \}\}/g, "v1.23.0").replace(/\{\{ version \}\}/g, "1.23.0");
  let defaults = (parse(text) ?? {}) as Tree;
  // Istio charts keep every default under _internal_defaults_do_not_set; users set them at top level.
  if (isPlainObject(defaults._internal_defaults_do_not_set))
    defaults = { ...defaults, ...(defaults._internal_defaults_do_not_set as Tree) };
  const subcharts = subchartDefaults(dir, chartDir);
  defaults = mergeValues(subcharts.found, defaults);
  const schemaFile = path.join(dir, "values.schema.json");
  const schema = fs.existsSync(schemaFile)
    ? (JSON.parse(fs.readFileSync(schemaFile, "utf8")) as Tree)
    : undefined;
  return { defaults, schema, unchecked: subcharts.missing };
}

/** Leaf key paths of a values tree (arrays and empty maps are leaves: Helm replaces them whole). */
function leafPaths(values: Tree, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [key, value] of Object.entries(values)) {
    const p = [...prefix, key];
    if (isPlainObject(value) && Object.keys(value).length > 0) out.push(...leafPaths(value, p));
    else out.push(p);
  }
  return out;
}

/** Problems with the keys of `values` against the chart defaults (and strict schema, if any). */
export function checkHelmValues(chart: string, chartDir: string, values: Tree): string[] {
  const { defaults, schema, unchecked } = loadChartDefaults(chartDir);
  const problems: string[] = [];
  for (const p of leafPaths(values)) {
    const dotted = p.join(".");
    if (unchecked.includes(p[0]!)) continue; // a subchart whose source is absent here
    if (
      HELM_KEY_ALLOWLIST.some(
        (a) => a.chart === chart && (dotted === a.prefix || dotted.startsWith(`${a.prefix}.`)),
      )
    )
      continue;
    let node: unknown = defaults;
    for (let i = 0; i < p.length; i++) {
      if (!isPlainObject(node)) break; // under a scalar/array/null default: Helm takes the user's value whole
      if (Object.keys(node).length === 0 && i > 0) break; // an open map such as nodeSelector: {}
      if (!(p[i]! in node)) {
        problems.push(
          `${chart}: value ${dotted} is not a key of the chart's values.yaml (${p.slice(0, i + 1).join(".")} unknown); Helm would ignore it`,
        );
        break;
      }
      node = node[p[i]!];
    }
  }
  if (schema) {
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    // Ajv knows draft-07 as http://json-schema.org/draft-07/schema#; the kserve-llmisvc-resources chart
    // names it https://, which Helm's validator accepts. Validate by the draft Ajv runs by default.
    const { $schema: _draft, ...body } = schema as Record<string, unknown>;
    const validate = ajv.compile(body);
    if (!validate(values)) {
      for (const e of validate.errors ?? []) {
        if (e.keyword === "additionalProperties")
          problems.push(
            `${chart}: values.schema.json rejects ${e.instancePath || "(root)"}/${String(e.params.additionalProperty)}`,
          );
        else if (e.keyword !== "required")
          problems.push(`${chart}: values.schema.json: ${e.instancePath} ${e.message ?? ""}`);
      }
    }
  }
  return problems;
}
