/**
 * Under Karpenter the managed system node group keeps its size (nothing scales it: Cluster Autoscaler
 * is not installed), so models without GPUs get a NodePool of their own on the system node group's
 * instance types: Knative- or HPA-scaled CPU models can grow past the system nodes, and empty nodes go.
 */
import type { ClusterConfig, GpuPoolConfig } from "../../config/schema";
import { customObject, type K8sObject } from "../k8s";
import { LABELS } from "./nodePools";
import {
  amiAlias,
  KARPENTER_API,
  nodeClassBase,
  objectLabels,
  poolRequirements,
  type NodeClassInputs,
} from "./karpenterPools";

/** The CPU NodePool's (and node class's) name; no GPU pool may take it under Karpenter. */
export const CPU_POOL = "cpu";

type SystemNodes = Pick<ClusterConfig["systemNodeGroup"], "instanceTypes" | "maxSize" | "diskSizeGiB">;

/**
 * The AL2023 image: the same release the GPU pools pin (AL2023 standard and NVIDIA images are released
 * together, one date), else the latest.
 */
export function cpuAmiAlias(gpuPools: readonly GpuPoolConfig[]): string {
  const pinned = gpuPools.find((p) => p.os === "al2023" && p.releaseVersion);
  return pinned ? amiAlias(pinned) : "al2023@latest";
}

export function cpuNodeClass(sys: SystemNodes, inputs: NodeClassInputs, alias: string): K8sObject {
  return customObject("karpenter.k8s.aws/v1/EC2NodeClass", {
    metadata: { name: CPU_POOL, labels: objectLabels(inputs.tags) },
    spec: {
      ...nodeClassBase(CPU_POOL, inputs),
      amiSelectorTerms: [{ alias }],
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeSize: `${sys.diskSizeGiB}Gi`,
            volumeType: "gp3" as const,
            encrypted: true,
            deleteOnTermination: true,
          },
        },
      ],
    },
  });
}

/**
 * CPU models' nodes: on-demand, the system group's instance types, at most as many nodes as the system
 * group's maxSize. CPU replicas are cheap to move, so Karpenter may also consolidate underused nodes,
 * one at a time.
 */
export function cpuNodePool(sys: SystemNodes, tags: Record<string, string>): K8sObject {
  return customObject("karpenter.sh/v1/NodePool", {
    metadata: { name: CPU_POOL, labels: objectLabels(tags) },
    spec: {
      weight: 1,
      template: {
        metadata: { labels: { [LABELS.pool]: CPU_POOL } },
        spec: {
          nodeClassRef: { group: KARPENTER_API.nodeClassGroup, kind: "EC2NodeClass", name: CPU_POOL },
          requirements: poolRequirements(sys.instanceTypes, "ON_DEMAND"),
        },
      },
      disruption: {
        consolidationPolicy: "WhenEmptyOrUnderutilized",
        consolidateAfter: "5m",
        budgets: [{ nodes: "1" }],
      },
      limits: { nodes: String(sys.maxSize) },
    },
  });
}
