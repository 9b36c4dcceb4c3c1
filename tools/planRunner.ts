/**
 * The offline plan: runs the real program (index.ts) for a stack under mocks, collects the Kubernetes
 * objects and Helm releases it registers, and checks them against the upstream APIs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import {
  checkConformance,
  type ConformanceReport,
  type PlannedObject,
  type PlannedRelease,
} from "../conformance";
import { PROJECT } from "../config/load";
import { OFFLINE_PLAN_ENV } from "../config/placeholders";
import { howToProvideSchemas, isComplete, schemaInventory } from "../conformance/schemaSources";
import { fetchMissingSchemas } from "./crds";
import type { StackCapacity } from "../models/capacity/stack";
import type { ModelTimeToReady } from "../models/capacity/timeToReady";
import type { CompatReport } from "../models/compat/checks";
import { runUnderMocks, type RecordedResource } from "./mockRuntime";
import { runPolicies, stackPolicyConfig, type PolicyInput, type Violation } from "../policy/offline";
import { readStackFile, type StackFileConfig } from "./stackFile";

export const ROOT = path.resolve(__dirname, "..");

export interface Plan {
  readonly stack: string;
  readonly resources: RecordedResource[];
  readonly outputs: Record<string, unknown>;
  readonly objects: PlannedObject[];
  readonly releases: PlannedRelease[];
  /** `schemas`: why some upstream schemas are missing here (then their objects are listed unverified). */
  readonly conformance: ConformanceReport & { readonly schemas?: string };
  /** The CrossGuard pack run over the planned resources with policy/config/<stack>.json. */
  readonly violations: Violation[];
}

let schemaAttempt: Promise<string | undefined> | undefined;
/**
 * Makes the upstream schemas available before checking (once per process): nothing to do with
 * ../shared present; otherwise a download from the pinned upstream URLs. Returns why some are still
 * missing, or undefined when all are here.
 */
export function ensureSchemas(): Promise<string | undefined> {
  schemaAttempt ??= (async () => {
    if (isComplete(schemaInventory())) return undefined;
    const { failed } = await fetchMissingSchemas();
    const left = schemaInventory();
    if (isComplete(left)) return undefined;
    const what = `${left.missingCrds.length} CRD(s) and ${left.missingCharts.length} chart default(s) missing`;
    const why = failed.length > 0 ? `; ${failed.length} download(s) failed, first: ${failed[0]}` : "";
    return `${what}${why}. ${howToProvideSchemas()}`;
  })();
  return schemaAttempt;
}

export function policyInputs(resources: readonly RecordedResource[]): PolicyInput[] {
  return resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    props: r.inputs,
    protect: r.protect,
    parent: r.parent || undefined,
    dependencies: r.dependsOn,
  }));
}

export function mandatoryViolations(plan: Pick<Plan, "violations">): Violation[] {
  return plan.violations.filter((v) => v.enforcementLevel === "mandatory");
}

function program(): () => Promise<Record<string, unknown>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(ROOT, "index.ts")) as () => Promise<Record<string, unknown>>;
}

export function plannedObjects(resources: readonly RecordedResource[]): PlannedObject[] {
  return resources
    .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh/"))
    .map((r) => ({
      resource: `${r.type}::${r.name}`,
      object: r.inputs as PlannedObject["object"],
      ...(r.type.endsWith("Patch") ? { patch: true } : {}),
    }));
}

export function plannedReleases(resources: readonly RecordedResource[]): PlannedRelease[] {
  return resources
    .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
    .map((r) => ({
      resource: `${r.type}::${r.name}`,
      chart: String(r.inputs.chart),
      version: String(r.inputs.version),
      values: (r.inputs.values ?? {}) as Record<string, unknown>,
    }));
}

/**
 * Plans one stack. `config` overrides the stack file (benchmarks, fuzzing); `revealSecrets` keeps the
 * (placeholder) secret values in the recorded inputs, for the e2e — such a plan is never written.
 */
export async function planStack(
  stack: string,
  config?: StackFileConfig,
  opts: { revealSecrets?: boolean } = {},
): Promise<Plan> {
  const stackConfig = config ?? readStackFile(ROOT, stack);
  process.env[OFFLINE_PLAN_ENV] = "1";
  const region = stackConfig.config["aws:region"] ?? "us-west-2";
  const run = await runUnderMocks(program(), {
    project: PROJECT,
    stack,
    region,
    config: stackConfig.config,
    secretKeys: stackConfig.secretKeys,
    revealSecrets: opts.revealSecrets,
  });
  const objects = plannedObjects(run.resources);
  const releases = plannedReleases(run.resources);
  const conformance = { ...(await checkConformance(objects, releases)), schemas: await ensureSchemas() };
  const violations = await runPolicies(policyInputs(run.resources), stackPolicyConfig(stack));
  return {
    stack,
    resources: run.resources,
    outputs: run.outputs,
    objects,
    releases,
    conformance,
    violations,
  };
}

function fileName(parts: string[]): string {
  return parts.join("_").replace(/[^A-Za-z0-9._-]+/g, "-");
}

/** Writes resources.json, manifests/ and helm/ under out/<stack>/ (replaced whole each run). */
export function writePlan(plan: Plan, outDir = path.join(ROOT, "out", plan.stack)): string {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, "manifests"), { recursive: true });
  fs.mkdirSync(path.join(outDir, "helm"), { recursive: true });
  fs.writeFileSync(path.join(outDir, "resources.json"), `${JSON.stringify(plan.resources, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, "outputs.json"), `${JSON.stringify(plan.outputs, null, 2)}\n`);
  const reports: Record<string, unknown> = {
    "capacity.json": plan.outputs.capacity ?? null,
    "compat.json": plan.outputs.compat ?? null,
    "policy.json": plan.violations,
  };
  for (const [file, report] of Object.entries(reports))
    fs.writeFileSync(path.join(outDir, file), `${JSON.stringify(report, null, 2)}\n`);
  for (const { object } of plan.objects) {
    const name = fileName([
      object.kind.toLowerCase(),
      object.metadata?.namespace ?? "cluster",
      object.metadata?.name ?? "unnamed",
    ]);
    fs.writeFileSync(path.join(outDir, "manifests", `${name}.yaml`), stringify(object, { lineWidth: 0 }));
  }
  for (const release of plan.releases) {
    const name = fileName([release.resource.split("::")[1] ?? release.chart]);
    fs.writeFileSync(
      path.join(outDir, "helm", `${name}.yaml`),
      stringify({ chart: release.chart, version: release.version, values: release.values }, { lineWidth: 0 }),
    );
  }
  return outDir;
}

const usd = (x: number | null) => (x === null ? "n/a" : `$${x.toFixed(2)}`);

/** GPUs, memory and KV capacity per GPU model, and whole-node cost per pool, from the capacity planner. */
export function capacityLines(capacity: StackCapacity | undefined): string[] {
  if (!capacity || capacity.models.length === 0) return [];
  const lines = ["", `Capacity (on-demand ${capacity.pricing.region} prices of ${capacity.pricing.date}):`];
  for (const p of capacity.models) {
    const nodes = p.nodesPerReplica ? `${p.nodesPerReplica} nodes × ` : "";
    const where = `${nodes}${p.gpusPerReplica}× ${p.gpuModel} on ${p.instanceType} (pool ${p.pool}${p.autoPlaced ? ", auto" : ""})`;
    // Beside prefill pods, the stable track is llm-d's decode pods.
    const split = p.tracks.some((t) => t.track === "prefill");
    const replicas = p.tracks
      .map((t) => `${split && t.track === "stable" ? "decode" : t.track} ${t.min}..${t.max}`)
      .join(", ");
    const share = `replicas ${replicas}; GPU share ${usd(p.gpuShareHour)}/h per replica`;
    if (!p.llm) {
      lines.push(`  ${p.model}  ${where}  ${share}`);
      continue;
    }
    const m = p.llm.memory;
    const e = p.llm.engine;
    const derived = e.derived.length > 0 ? ` (derived: ${e.derived.join(", ")})` : "";
    lines.push(
      `  ${p.model}  ${p.llm.architecture} ${p.llm.precision}, KV ${p.llm.kvCacheDtype}  ${where}`,
      `      per GPU: ${m.usableGiB.toFixed(1)} GiB usable = ${m.weightsGiB.toFixed(1)} weights + ${m.activationGiB.toFixed(1)} activation + ${(m.nonTorchGiB + m.cudaGraphGiB).toFixed(1)} non-torch/graphs + ${m.kvCacheGiB.toFixed(1)} KV cache (${m.kvTokens} tokens); headroom ${p.llm.headroomGiB.toFixed(1)} GiB`,
      `      maxModelLen ${e.maxModelLen}, maxNumSeqs ${e.maxNumSeqs}, gpuMemoryUtilization ${e.gpuMemoryUtilization}${derived}; holds ${p.llm.concurrentSequences} full-length sequences`,
      ...p.llm.notes.map((n) => `      note: ${n}`),
      `      ${share}`,
    );
  }
  lines.push("  pools (whole nodes):");
  for (const l of capacity.pools) {
    const at = (x: typeof l.atMin) =>
      `${x.nodes} node(s), ${x.gpus}/${x.nodes * l.gpusPerNode} GPUs used, ${usd(x.dollarsPerHour)}/h`;
    lines.push(
      `    ${l.pool}  ${l.instanceType} (${l.gpusPerNode} GPU/node, ${usd(l.pricePerNodeHour)}/h, ${l.minNodes}..${l.maxNodes} nodes): at min ${at(l.atMin)}; at max ${at(l.atMax)}`,
    );
  }
  const t = capacity.totals;
  lines.push(
    `  total: ${t.gpusAtMinReplicas}..${t.gpusAtMaxReplicas} GPUs on ${t.nodesAtMinReplicas}..${t.nodesAtMaxReplicas} nodes, ${usd(t.dollarsPerHourAtMin)}..${usd(t.dollarsPerHourAtMax)}/h${t.unpricedPools.length > 0 ? ` (no on-demand price: ${t.unpricedPools.join(", ")})` : ""}`,
  );
  return lines;
}

/** Per model: predicted seconds to a serving replica, on a warm node and on a new one, step by step. */
export function timeToReadyLines(models: ModelTimeToReady[] | undefined): string[] {
  if (!models || models.length === 0) return [];
  const range = (r: { low: number; high: number; partial: boolean }) =>
    r.partial && r.high === 0
      ? "unknown"
      : `${r.partial ? "≥" : ""}${Math.round(r.low)}..${Math.round(r.high)} s`;
  const lines = [
    "",
    "Time to ready (new replica, fast..slow from published figures; ≥: a step has no figure):",
  ];
  for (const t of models) {
    const steps = t.steps
      .map((s) => `${s.step} ${s.low === undefined ? "?" : `${Math.round(s.low)}..${Math.round(s.high!)}`}`)
      .join(", ");
    lines.push(
      `  ${t.model}  warm node ${range(t.warm)}; new node ${range(t.cold)}; startup probe covers ${range(t.probe)}`,
      `      ${steps}${t.checkpointGiB === undefined ? "" : ` (checkpoint ${t.checkpointGiB.toFixed(1)} GiB)`}`,
    );
  }
  return lines;
}

/** Per model: image -> CUDA -> node driver, and the verdict. */
export function compatLines(compat: CompatReport | undefined): string[] {
  if (!compat || compat.models.length === 0) return [];
  const lines = ["", "Compatibility (image -> CUDA -> node driver):"];
  for (const m of compat.models) {
    const chain = m.driverBranch
      ? `CUDA ${m.cuda ?? "none"} -> R${m.driverBranch} (native CUDA ${m.nativeCuda}; ${m.driverBasis})`
      : m.cuda
        ? `CUDA ${m.cuda}`
        : "CPU";
    lines.push(`  ${m.model}  ${m.image} -> ${chain}: ${m.verdict.toUpperCase()}`);
    if (m.verdict !== "ok") for (const n of m.notes) lines.push(`      ${n}`);
  }
  for (const w of compat.warnings.filter((w) => !w.path.endsWith("image")))
    lines.push(`  WARNING ${w.path}: ${w.message}`);
  return lines;
}

/** The human summary: models, add-ons, conformance and resource counts. */
export function summarize(plan: Plan): string {
  const lines: string[] = [`Plan for stack "${plan.stack}"`, "", "Models:"];
  const isvcs = plan.objects.filter((o) => o.object.kind === "InferenceService");
  const routes = plan.objects.filter((o) => o.object.kind === "VirtualService");
  const scalers = plan.objects.filter((o) => o.object.kind === "ScaledObject");
  for (const { object } of isvcs) {
    const meta = object.metadata as {
      name: string;
      namespace: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    };
    const predictor = (object.spec as { predictor: Record<string, unknown> }).predictor;
    const model = predictor.model as { resources: { limits: Record<string, string> } };
    const perPod = model.resources.limits["nvidia.com/gpu"] ?? "0";
    // A multi-node replica: pipelineParallelSize pods (head and workers) of perPod GPUs each.
    const stages = (predictor.workerSpec as { pipelineParallelSize?: number } | undefined)
      ?.pipelineParallelSize;
    const gpus = stages && stages > 1 ? `${stages}×${perPod}` : perPod;
    const pool =
      (predictor.nodeSelector as Record<string, string> | undefined)?.["inference-platform/pool"] ?? "cpu";
    const mode = meta.annotations["serving.kserve.io/deploymentMode"];
    const scaler = scalers.find((s) => s.object.metadata?.name === meta.name);
    const scaling = scaler
      ? `KEDA ${(scaler.object.spec as { triggers: Array<{ name: string }> }).triggers.map((t) => t.name).join("+")}`
      : mode === "Knative"
        ? `KPA ${String(predictor.scaleMetric ?? "concurrency")}`
        : predictor.scaleMetric
          ? `HPA ${String(predictor.scaleMetric)}`
          : "fixed";
    let traffic = "";
    if (mode === "Knative" && predictor.canaryTrafficPercent !== undefined)
      traffic = `canary ${String(predictor.canaryTrafficPercent)}% (Knative)`;
    const vs = routes.find((r) => r.object.metadata?.name === meta.labels["inference-platform/model"]);
    if (vs && meta.labels["inference-platform/track"] === "stable") {
      const http = (
        vs.object.spec as {
          http: Array<{
            name: string;
            route: Array<{ destination: { host: string }; weight: number }>;
            mirrorPercentage?: { value: number };
          }>;
        }
      ).http;
      const def = http.find((h) => h.name === "default");
      const parts = (def?.route ?? []).map((r) => `${r.destination.host.split(".")[0]} ${r.weight}%`);
      if (def?.mirrorPercentage) parts.push(`mirror ${def.mirrorPercentage.value}%`);
      if (http.some((h) => h.name === "ab-candidate")) parts.push("A/B match → candidate");
      traffic = parts.join(", ");
    }
    lines.push(
      `  ${meta.namespace}/${meta.name}  runtime=${meta.labels["inference-platform/runtime"]} mode=${mode} gpus=${gpus} pool=${pool} replicas=${String(predictor.minReplicas)}..${String(predictor.maxReplicas)} scaling=${scaling}${traffic ? ` traffic=[${traffic}]` : ""}`,
    );
  }
  if (isvcs.length === 0) lines.push("  (none)");
  lines.push(...capacityLines(plan.outputs.capacity as StackCapacity | undefined));
  lines.push(...timeToReadyLines(plan.outputs.timeToReady as ModelTimeToReady[] | undefined));
  lines.push(...compatLines(plan.outputs.compat as CompatReport | undefined));
  lines.push("", "Add-ons (Helm releases):");
  for (const r of plan.releases) lines.push(`  ${r.resource.split("::")[1]}  ${r.chart}@${r.version}`);
  const c = plan.conformance;
  lines.push(
    "",
    `Conformance: ${c.checked.customResources} custom resources against upstream CRDs, ${c.checked.coreObjects} core objects, ${c.checked.releases} Helm releases' value keys — ${c.errors.length} error(s)`,
  );
  for (const e of c.errors) lines.push(`  ERROR ${e}`);
  if (c.unverified.length > 0)
    lines.push(
      `  NOT CHECKED: ${c.unverified.length} object(s) or release(s) have no upstream schema here${c.schemas ? ` (${c.schemas})` : ""}: ${[...new Set(c.unverified.map((u) => u.split(" ").slice(0, 2).join(" ")))].join(", ")}`,
    );
  lines.push("", `Policies (policy/config/${plan.stack}.json): ${plan.violations.length} violation(s)`);
  for (const level of ["mandatory", "advisory"] as const) {
    const vs = plan.violations.filter((v) => v.enforcementLevel === level);
    if (vs.length > 0)
      lines.push(`  ${level} (${vs.length}):`, ...vs.map((v) => `    [${v.policy}] ${v.message}`));
  }
  const counts = new Map<string, number>();
  for (const r of plan.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  lines.push("", `Resources: ${plan.resources.length}`);
  for (const [type, n] of [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
    lines.push(`  ${String(n).padStart(4)}  ${type}`);
  return lines.join("\n");
}
