/**
 * Node weight cache rules (models[].nodeCache, models/serving/weightCache.ts): what can be cached, and
 * whether a pool's nodes have the disk for it. Run on placed models: `gpu: auto` has a pool by then.
 */
import type { Problem } from "../problems";
import type { PlacedModels } from "../../models/plannedModel";
import { defaultDeploymentMode } from "../../models/serving/resolve";
import { checkpointBytes } from "../../models/capacity/timeToReady";
import { NODE_DISK_RESERVE_GIB } from "../../models/serving/weightCache";

const CACHEABLE = ["s3://", "hf://", "gs://", "https://"];

/** GiB a model keeps on each node of its pool, or undefined when nobody can tell. */
export function cachedGiB(model: PlacedModels["models"][number]): number | undefined {
  const bytes = checkpointBytes(model);
  return model.nodeCache?.sizeGiB ?? (bytes === undefined ? undefined : Math.ceil(bytes / 2 ** 30));
}

function modelProblems(model: PlacedModels["models"][number], at: string): Problem[] {
  const problems: Problem[] = [];
  const add = (message: string) => problems.push({ path: `${at}.nodeCache`, message });
  if (!model.gpu) add("the cache lives on the nodes of the model's GPU pool; CPU models have none");
  if (defaultDeploymentMode(model) === "Knative")
    add(
      "Knative refuses hostPath volumes (knative.dev/serving v0.50.0 k8s_validation.go: kubernetes.podspec-volumes-hostpath is off); use deploymentMode: Standard",
    );
  const uri = model.storageUri ?? "";
  if (!CACHEABLE.some((p) => uri.startsWith(p)))
    add(
      `caches what KServe's storage initializer downloads (${CACHEABLE.join(", ")}); ${uri ? `${uri.split("://")[0]}:// needs no download` : "a multi-model server has no storageUri"}`,
    );
  if (cachedGiB(model) === undefined)
    add("set nodeCache.sizeGiB: the planner cannot tell this model's checkpoint size");
  return problems;
}

export function weightCacheProblems(cfg: Pick<PlacedModels, "models" | "gpuPools">): Problem[] {
  const problems: Problem[] = [];
  cfg.models.forEach((m, i) => {
    if (m.nodeCache) problems.push(...modelProblems(m, `models[${i}]`));
  });
  cfg.gpuPools.forEach((pool, i) => {
    const cached = cfg.models.filter((m) => m.nodeCache && m.gpu?.pool === pool.name);
    const total = cached.reduce((sum, m) => sum + (cachedGiB(m) ?? 0), 0);
    if (cached.length > 0 && total + NODE_DISK_RESERVE_GIB > pool.diskSizeGiB)
      problems.push({
        path: `gpuPools[${i}].diskSizeGiB`,
        message: `its nodes keep ${total} GiB of cached weights (${cached.map((m) => m.name).join(", ")}) beside ${NODE_DISK_RESERVE_GIB} GiB of images and system; raise diskSizeGiB to at least ${total + NODE_DISK_RESERVE_GIB}`,
      });
  });
  return problems;
}
