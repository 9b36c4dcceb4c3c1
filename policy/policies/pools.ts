/**
 * GPU pools as the policies see them, whichever autoscaler grows them: an EKS managed node group
 * (Cluster Autoscaler) or a Karpenter NodePool. One view, so cost and cluster policies hold for both.
 */
import type { PolicyResource } from "@pulumi/policy";
import { GPU_INSTANCES } from "../../models/capacity/gpuInstances";
import { LABELS } from "../../models/cluster/nodePools";

type Props = Record<string, unknown>;

export const POOL_TYPES = {
  nodeGroup: "aws:eks/nodeGroup:NodeGroup",
  nodePool: "kubernetes:karpenter.sh/v1:NodePool",
  nodeClass: "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
} as const;

export interface PoolView {
  readonly instanceTypes: string[];
  /** EKS spelling; undefined when the pool allows both. */
  readonly capacityType?: "ON_DEMAND" | "SPOT";
  /** GPUs the pool may grow to; Infinity when nothing bounds it. */
  readonly maxGpus: number;
}

interface Requirement {
  key?: string;
  operator?: string;
  values?: string[];
}

function requirementValues(props: Props, key: string): string[] | undefined {
  const spec = (props.spec as { template?: { spec?: { requirements?: Requirement[] } } } | undefined)
    ?.template?.spec;
  const req = (spec?.requirements ?? []).find((r) => r.key === key && r.operator === "In");
  return req?.values;
}

function nodeGroupView(props: Props): PoolView {
  const instanceTypes = (props.instanceTypes as string[] | undefined) ?? [];
  const max = ((props.scalingConfig as Props | undefined)?.maxSize as number | undefined) ?? 0;
  return {
    instanceTypes,
    capacityType: (props.capacityType as "ON_DEMAND" | "SPOT" | undefined) ?? "ON_DEMAND",
    maxGpus: (GPU_INSTANCES[instanceTypes[0] ?? ""]?.gpus ?? 0) * max,
  };
}

function nodePoolView(props: Props): PoolView {
  const instanceTypes = requirementValues(props, "node.kubernetes.io/instance-type") ?? [];
  const capacity = requirementValues(props, "karpenter.sh/capacity-type") ?? [];
  const limits = ((props.spec as Props | undefined)?.limits ?? {}) as Record<string, string | number>;
  const gpuLimit = limits["nvidia.com/gpu"];
  // No GPU instance type in the requirements: a CPU pool, whatever its limits.
  const gpu = instanceTypes.some((t) => (GPU_INSTANCES[t]?.gpus ?? 0) > 0) || instanceTypes.length === 0;
  return {
    instanceTypes,
    // Unset, Karpenter launches on-demand only (NodePool v1 default requirements).
    capacityType:
      capacity.length === 0
        ? "ON_DEMAND"
        : capacity.length === 1
          ? capacity[0] === "spot"
            ? "SPOT"
            : "ON_DEMAND"
          : undefined,
    maxGpus: !gpu ? 0 : gpuLimit === undefined ? Number.POSITIVE_INFINITY : Number(gpuLimit),
  };
}

/** The managed node group whose nodes carry the platform's pool label `pool`, if the stack has one. */
export function nodeGroupOfPool(
  resources: readonly PolicyResource[],
  pool: string | undefined,
): PolicyResource | undefined {
  if (pool === undefined) return undefined;
  return resources.find(
    (r) =>
      r.type === POOL_TYPES.nodeGroup &&
      ((r.props.labels as Record<string, string> | undefined) ?? {})[LABELS.pool] === pool,
  );
}

/** The pool a resource declares, or undefined for any other resource. */
export function poolView(type: string, props: Props): PoolView | undefined {
  if (type === POOL_TYPES.nodeGroup) return nodeGroupView(props);
  if (type === POOL_TYPES.nodePool) return nodePoolView(props);
  return undefined;
}

export function poolViews(resources: readonly PolicyResource[]): Array<{ name: string; view: PoolView }> {
  return resources.flatMap((r) => {
    const view = poolView(r.type, r.props);
    return view ? [{ name: r.name, view }] : [];
  });
}
