/**
 * Multi-node models (a replica over several nodes, models/serving/multiNode.ts): what KServe's
 * multi-node serving accepts at v0.20, said before anything is deployed. Run on placed models: the
 * planner decides the node span when config leaves gpu.nodes out.
 */
import type { Problem } from "../problems";
import type { PlacedModels } from "../../models/plannedModel";
import { defaultDeploymentMode } from "../../models/serving/resolve";
import { oneNodeFixes } from "../../models/capacity/planner";
import { KSERVE_MULTI_NODE_DEFECT } from "../../models/versions";
import { isStorageError, parseStorageUri } from "../../models/serving/storage";

/** Storage the multi-node predictor accepts (inference_service_validation.go 406-412). */
const MULTI_NODE_SCHEMES = ["pvc", "oci"];

/** The URI's scheme, or undefined for no URI (a malformed one is reported by the storage rules). */
function schemeOf(uri: string | undefined): string | undefined {
  const parsed = uri === undefined ? undefined : parseStorageUri(uri);
  return parsed && !isStorageError(parsed) ? parsed.scheme : undefined;
}

function modelProblems(
  cfg: Pick<PlacedModels, "gpuPools" | "environment">,
  model: PlacedModels["models"][number],
  at: string,
): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${at}.${path}`, message });
  const nodes = model.gpu!.nodes!;
  const span = `a replica over ${nodes} nodes`;
  if (KSERVE_MULTI_NODE_DEFECT)
    add(
      "gpu",
      `${model.name} needs ${span} (tensor parallel ${model.gpu!.count} × pipeline parallel ${nodes}), but ${KSERVE_MULTI_NODE_DEFECT}; hold it on one node instead — ${oneNodeFixes(model, cfg.gpuPools)}`,
    );
  if (model.runtime !== "vllm")
    add(
      "runtime",
      `${span} needs runtime: vllm (KServe's multi-node runtime is the Hugging Face server's vLLM backend over Ray)`,
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
        `${span} reads its weights from pvc://<claim>/<path> (a ReadWriteMany volume every node mounts, e.g. FSx for Lustre) or an oci:// modelcar; KServe refuses ${schemeOf(uri) ?? "no"}:// for multi-node (inference_service_validation.go 406-412); see docs/multi-node.md`,
      );
  const { minReplicas, maxReplicas, triggers } = model.autoscaling;
  if (minReplicas !== 1 || (maxReplicas ?? minReplicas) !== 1 || triggers.length > 0)
    add(
      "autoscaling",
      `${span} runs as one replica without an autoscaler: KServe requires autoscalerClass none and always gives the head ${nodes - 1} worker pod(s), so a second head would have none (deployment_reconciler.go 90-128); set minReplicas: 1, maxReplicas: 1 and no triggers${cfg.environment === "prod" ? " (and, in prod, outageOnNodeLoss: losing any of its nodes stops it)" : ""}`,
    );
  if (model.adapters.length > 0)
    add("adapters", `${span} does not take LoRA adapters here: storageUris cannot reach its worker pods`);
  if (model.nodeCache)
    add("nodeCache", `${span} reads pvc:// or oci:// storage, which the node weight cache does not copy`);
  if (defaultDeploymentMode(model) === "Knative")
    add("deploymentMode", `${span} is served by KServe's raw Deployments; use deploymentMode: Standard`);
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
