/**
 * Multi-node models (a replica over several nodes): what the platform serves at KServe v0.20 — an llm-d
 * model whose LLMInferenceService runs as a LeaderWorkerSet on the platform's pipeline-parallel preset
 * (models/serving/llmdPipelineParallel.ts) — said before anything is deployed. Run on placed models:
 * the planner decides the node span when config leaves gpu.nodes out.
 */
import type { Problem } from "../problems";
import type { PlacedModels } from "../../models/plannedModel";
import { oneNodeFixes } from "../../models/capacity/planner";
import { KSERVE_MULTI_NODE_DEFECT } from "../../models/versions";
import { isStorageError, parseStorageUri } from "../../models/serving/storage";
import { presetFlagsGiven } from "./llmd";

/**
 * Storage every pod of a group reads without a copy of its own: a shared claim or a modelcar (KServe's
 * InferenceService path refuses the rest too, inference_service_validation.go 406-412).
 */
const MULTI_NODE_SCHEMES = ["pvc", "oci"];

/** The URI's scheme, or undefined for no URI (a malformed one is reported by the storage rules). */
function schemeOf(uri: string | undefined): string | undefined {
  const parsed = uri === undefined ? undefined : parseStorageUri(uri);
  return parsed && !isStorageError(parsed) ? parsed.scheme : undefined;
}

/** Flags the pipeline-parallel preset gives `vllm serve` itself (models/serving/llmdPipelineParallel.ts). */
const PIPELINE_PRESET_FLAGS = [
  "--pipeline-parallel-size",
  "--pipeline_parallel_size",
  "-pp",
  "--nnodes",
  "-n",
  "--node-rank",
  "-r",
  "--master-addr",
  "--master-port",
  "--headless",
  "--distributed-executor-backend",
];

function modelProblems(
  cfg: Pick<PlacedModels, "gpuPools" | "environment">,
  model: PlacedModels["models"][number],
  at: string,
): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${at}.${path}`, message });
  const nodes = model.gpu!.nodes!;
  const span = `a replica over ${nodes} nodes`;
  const layout = `tensor parallel ${model.gpu!.count} × pipeline parallel ${nodes}`;
  // Only KServe's LLMInferenceService path (a LeaderWorkerSet) serves it at the pinned version.
  if (!model.llmd)
    add(
      "gpu",
      `${model.name} needs ${span} (${layout}): serve it through llm-d with \`llmd: {}\` (KServe's LLMInferenceService runs it as a LeaderWorkerSet, docs/multi-node.md) — as an InferenceService it cannot run, since ${KSERVE_MULTI_NODE_DEFECT} — or hold it on one node: ${oneNodeFixes(model, cfg.gpuPools)}`,
    );
  if (model.runtime !== "vllm")
    add(
      "runtime",
      `${span} needs runtime: vllm (vLLM splits it tensor × pipeline parallel across the nodes)`,
    );
  const uris: Array<[string, string | undefined]> = [
    ["storageUri", model.storageUri],
    ...(model.rollout
      ? [["rollout.candidate.storageUri", model.rollout.candidate.storageUri] as [string, string]]
      : []),
  ];
  for (const [path, uri] of uris)
    if (uri !== undefined && !MULTI_NODE_SCHEMES.includes(schemeOf(uri) ?? ""))
      add(
        path,
        `${span} reads its weights from pvc://<claim>/<path> (a ReadWriteMany volume every node mounts, e.g. FSx for Lustre) or an oci:// modelcar: from ${schemeOf(uri) ?? "no"}:// each of its ${nodes} pods would download the whole checkpoint into its own emptyDir (llmisvc workload_storage.go 396-460); see docs/multi-node.md`,
      );
  const { minReplicas, maxReplicas, triggers } = model.autoscaling;
  if (minReplicas < 1 || (maxReplicas ?? minReplicas) !== minReplicas || triggers.length > 0)
    add(
      "autoscaling",
      `${span} runs a fixed number of replicas (LeaderWorkerSet groups of ${nodes} pods): the platform's autoscaler scales Deployments, and a group is not one; set maxReplicas equal to minReplicas (1 or more) and no triggers`,
    );
  if (model.adapters.length > 0)
    add(
      "adapters",
      `${span} does not take LoRA adapters here (untried with a LeaderWorkerSet's worker pods)`,
    );
  if (model.nodeCache)
    add("nodeCache", `${span} reads pvc:// or oci:// storage, which the node weight cache does not copy`);
  if (model.llmd?.prefill)
    add(
      "llmd.prefill",
      `${span} is not split into prefill and decode pods here: that needs the prefill and decode pipeline-parallel presets too (config_merge.go 235-251), which the platform does not write`,
    );
  for (const { key, taken } of presetFlagsGiven(model, PIPELINE_PRESET_FLAGS))
    add(
      key,
      `the pipeline-parallel preset already passes ${taken.join(", ")} (the layout comes from the LLMInferenceService, each node's rank from LeaderWorkerSet); leave them out`,
    );
  const pool = cfg.gpuPools.find((p) => p.name === model.gpu!.pool);
  if (pool && cfg.environment === "prod" && !(pool.efa && pool.placementGroup)) {
    const i = cfg.gpuPools.indexOf(pool);
    problems.push({
      path: `gpuPools[${i}]`,
      message: `prod serves ${model.name} over ${nodes} nodes of pool "${pool.name}": its pipeline stages exchange activations on every token, so the pool needs efa: true and placementGroup: true (EFA instance types in one cluster placement group)`,
    });
  }
  return problems;
}

export function multiNodeProblems(cfg: PlacedModels): Problem[] {
  return cfg.models.flatMap((model, i) =>
    (model.gpu?.nodes ?? 1) > 1 ? modelProblems(cfg, model, `models[${i}]`) : [],
  );
}
