/**
 * What a GPU pool's node group must run: every replica of every model and rollout candidate placed
 * on it, packed onto whole nodes (a replica's pod never spans nodes), at the models' minimum and maximum
 * replicas. Nodes are billed whole, so this — not each replica's share of a node — is the bill.
 */
import type { PoolHardware } from "./planner";
import type { TrackReplicas } from "../serving/traffic";

export interface PoolReplicas {
  readonly model: string;
  readonly track: TrackReplicas["track"];
  /** GPUs per node of a replica. */
  readonly gpusPerReplica: number;
  /** Nodes one replica spans (multi-node): each takes gpusPerReplica GPUs on its own node. */
  readonly nodesPerReplica: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Nodes of `gpusPerNode` GPUs that hold replicas of the given sizes: first-fit decreasing. Replica
 * sizes here divide the node (replicaGpuCounts), for which first-fit decreasing is optimal: every node
 * but the last is full.
 */
export function nodesFor(gpusPerNode: number, sizes: readonly number[]): number {
  const free: number[] = [];
  for (const size of [...sizes].sort((x, y) => y - x)) {
    if (size > gpusPerNode) return Number.POSITIVE_INFINITY;
    const node = free.findIndex((f) => f >= size);
    if (node === -1) free.push(gpusPerNode - size);
    else free[node]! -= size;
  }
  return free.length;
}

export interface PoolLoad {
  /** Nodes billed: the packed replicas' nodes, but never fewer than the pool's minimum size. */
  readonly nodes: number;
  /** Nodes the replicas alone need. */
  readonly packedNodes: number;
  readonly gpus: number;
  /** On-demand USD per hour of those whole nodes; null when the instance type is not sold on demand. */
  readonly dollarsPerHour: number | null;
}

export interface PoolCapacity {
  readonly pool: string;
  readonly instanceType: string;
  readonly gpusPerNode: number;
  readonly pricePerNodeHour: number | null;
  /** Nodes the pool keeps (minSize with a node autoscaler; else its fixed size). */
  readonly minNodes: number;
  /** Nodes the pool may grow to (maxSize with a node autoscaler; else its fixed size). */
  readonly maxNodes: number;
  readonly replicas: PoolReplicas[];
  readonly atMin: PoolLoad;
  readonly atMax: PoolLoad;
}

function load(
  hw: PoolHardware,
  minNodes: number,
  replicas: readonly PoolReplicas[],
  which: "min" | "max",
): PoolLoad {
  // A multi-node replica is nodesPerReplica pods, one per node (KServe's head and worker Deployments).
  const sizes = replicas.flatMap((r) => Array<number>(r[which] * r.nodesPerReplica).fill(r.gpusPerReplica));
  const packedNodes = nodesFor(hw.instance.gpus, sizes);
  const nodes = Math.max(minNodes, packedNodes);
  return {
    nodes,
    packedNodes,
    gpus: sizes.reduce((s, n) => s + n, 0),
    dollarsPerHour: hw.instance.pricePerHour === null ? null : nodes * hw.instance.pricePerHour,
  };
}

export function poolCapacity(
  hw: PoolHardware,
  size: { readonly minNodes: number; readonly maxNodes: number },
  replicas: readonly PoolReplicas[],
): PoolCapacity {
  return {
    pool: hw.name,
    instanceType: hw.instance.instanceType,
    gpusPerNode: hw.instance.gpus,
    pricePerNodeHour: hw.instance.pricePerHour,
    minNodes: size.minNodes,
    maxNodes: size.maxNodes,
    replicas: [...replicas],
    atMin: load(hw, size.minNodes, replicas, "min"),
    atMax: load(hw, size.minNodes, replicas, "max"),
  };
}
