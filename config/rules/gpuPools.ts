/**
 * GPU pool rules: sizes, one GPU model per pool, EFA where offered, on-demand capacity in prod.
 */
import type { PlatformInput } from "../schema";
import type { Problem } from "../problems";
import { amiTypeFor, poolGpu } from "../../models/cluster/nodePools";
import { CPU_POOL } from "../../models/cluster/karpenterCpuPool";

/** Every GPU pool, checked on its own. */
export function gpuPoolProblems(cfg: PlatformInput): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const env = cfg.environment;
  if (env === "local" && cfg.gpuPools.length > 0)
    add("gpuPools", "the local stack is CPU-only; remove gpuPools");
  const poolNames = new Set<string>();
  cfg.gpuPools.forEach((pool, i) => {
    const at = `gpuPools[${i}]`;
    if (poolNames.has(pool.name)) add(`${at}.name`, `duplicate pool name "${pool.name}"`);
    poolNames.add(pool.name);
    if (pool.minSize > pool.maxSize)
      add(`${at}.minSize`, `minSize (${pool.minSize}) exceeds maxSize (${pool.maxSize})`);
    if (
      pool.desiredSize !== undefined &&
      (pool.desiredSize < pool.minSize || pool.desiredSize > pool.maxSize)
    )
      add(
        `${at}.desiredSize`,
        `desiredSize (${pool.desiredSize}) must lie within [minSize, maxSize] = [${pool.minSize}, ${pool.maxSize}]`,
      );
    const gpuModels = new Set<string>();
    pool.instanceTypes.forEach((t, j) => {
      const ami = amiTypeFor(pool.os, t, true);
      if (ami.error) add(`${at}.instanceTypes[${j}]`, ami.error);
      const spec = poolGpu({ instanceTypes: [t] });
      if (spec) gpuModels.add(`${spec.model.name}x${spec.instance.gpus}`);
    });
    if (gpuModels.size > 1)
      add(
        `${at}.instanceTypes`,
        `all instance types of a pool must have the same GPU model and count (found ${[...gpuModels].join(", ")}); split them into several pools`,
      );
    if (
      (pool.efa || pool.placementGroup) &&
      !pool.instanceTypes.every((t) => poolGpu({ instanceTypes: [t] })?.instance.efa)
    ) {
      add(
        `${at}.efa`,
        "EFA and cluster placement groups are only offered for the largest sizes (g5/g6/g6e.48xlarge, p4d, p4de, p5, p5e, p5en)",
      );
    }
    problems.push(...karpenterPoolProblems(cfg, pool, at));
    if (pool.capacityType === "SPOT" && env === "prod")
      add(
        `${at}.capacityType`,
        "prod serves from on-demand capacity; spot GPU nodes are reclaimed with two minutes' notice mid-request",
      );
  });

  return problems;
}

/**
 * What a managed node group takes and a Karpenter NodePool cannot: a floor of nodes (Karpenter keeps
 * only the nodes pods need), a desired size, and EFA (the platform attaches EFA through the launch
 * template; its Karpenter node class does not yet). Prod pins the node image: with `@latest`, every
 * AWS release drifts and replaces every GPU node.
 */
function karpenterPoolProblems(
  cfg: PlatformInput,
  pool: PlatformInput["gpuPools"][number],
  at: string,
): Problem[] {
  if (cfg.cluster.mode !== "eks" || cfg.cluster.nodeAutoscaler !== "karpenter") return [];
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  if (pool.minSize > 0)
    add(
      `${at}.minSize`,
      `Karpenter keeps no minimum of nodes (NodePools launch what pending pods need); set minSize 0 and keep warm replicas with the models' minReplicas, or use cluster.nodeAutoscaler: cluster-autoscaler`,
    );
  if (pool.desiredSize !== undefined)
    add(`${at}.desiredSize`, "Karpenter pools have no desired size; remove it");
  if (pool.name === CPU_POOL)
    add(
      `${at}.name`,
      `"${CPU_POOL}" is the NodePool of CPU models under Karpenter; name the GPU pool otherwise`,
    );
  if (pool.efa)
    add(
      `${at}.efa`,
      "EFA pools need managed node groups (cluster.nodeAutoscaler: cluster-autoscaler); the Karpenter node class does not attach EFA interfaces",
    );
  if (cfg.environment === "prod" && !pool.releaseVersion)
    add(
      `${at}.releaseVersion`,
      "prod pins the node image under Karpenter (e.g. 1.34.4-20260714): unpinned, every AWS AMI release drifts and replaces every GPU node",
    );
  return problems;
}
