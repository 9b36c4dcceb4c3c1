/**
 * Node weight cache rules (models[].nodeCache, models/serving/weightCache.ts): what can be cached, and
 * whether a pool's nodes have the disk for it. Run on placed models: `gpu: auto` has a pool by then.
 */
import type { Problem } from "../problems";
import type { PlacedModels } from "../../models/plannedModel";
import { defaultDeploymentMode } from "../../models/serving/resolve";
import { checkpointBytes } from "../../models/capacity/timeToReady";
import { CACHED_VERSIONS, NODE_DISK_RESERVE_GIB } from "../../models/serving/weightCache";
import { hasInstanceStore } from "../../models/cluster/nodePools";
import { lookupGpuInstance } from "../../models/capacity/gpuInstances";

const CACHEABLE = ["s3://", "hf://", "gs://", "https://"];

/** GiB a model keeps on each node of its pool, or undefined when nobody can tell. */
function cachedGiB(model: PlacedModels["models"][number]): number | undefined {
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
    if (cached.length === 0) return;
    const total = cached.reduce((sum, m) => sum + (cachedGiB(m) ?? 0), 0);
    const needed = CACHED_VERSIONS * total + NODE_DISK_RESERVE_GIB;
    const disk = kubeletDiskGiB(pool);
    if (needed > disk.gib)
      problems.push({
        path: `gpuPools[${i}].${disk.key}`,
        message: `its nodes keep up to ${CACHED_VERSIONS} versions of ${total} GiB of cached weights (${cached.map((m) => m.name).join(", ")}) beside ${NODE_DISK_RESERVE_GIB} GiB of images and pods on ${disk.what} of ${Math.floor(disk.gib)} GiB; it needs ${needed} GiB: ${disk.fix}`,
      });
  });
  return problems;
}

/**
 * The disk the kubelet's directory (and so the cache) is on: the instance-store NVMe array where every
 * instance type of the pool has one (the smallest of them), else the root volume.
 */
function kubeletDiskGiB(pool: PlacedModels["gpuPools"][number]): {
  gib: number;
  key: string;
  what: string;
  fix: string;
} {
  if (hasInstanceStore(pool)) {
    const gb = Math.min(...pool.instanceTypes.map((t) => lookupGpuInstance(t)?.instanceStoreGB ?? 0));
    return {
      gib: (gb * 1e9) / 2 ** 30,
      key: "instanceTypes",
      what: "the instance-store array",
      fix: "choose instance types with more local NVMe, or cache fewer models",
    };
  }
  return { gib: pool.diskSizeGiB, key: "diskSizeGiB", what: "the root volume", fix: "raise diskSizeGiB" };
}

/**
 * A cache key is the storageUri: an unpinned Hugging Face repository (no `:<revision>`) may hold a
 * different revision on each node, fetched at different times.
 */
export function weightCacheWarnings(cfg: Pick<PlacedModels, "models">): Problem[] {
  return cfg.models.flatMap((m, i) =>
    m.nodeCache && m.storageUri?.startsWith("hf://") && !m.storageUri.includes(":", "hf://".length)
      ? [
          {
            path: `models[${i}].storageUri`,
            message: `cached on the nodes without a revision: nodes that fetch it at different times may hold different revisions; pin one (${m.storageUri}:<commit>)`,
          },
        ]
      : [],
  );
}
