/**
 * GPU pools as Karpenter v1 objects: one EC2NodeClass (how a node is launched) and one NodePool (what
 * it may be and how it is disrupted) per pool, carrying the same labels, taint, disk, IMDS settings and
 * size limit as the managed node group the pool becomes under Cluster Autoscaler. Fields are Karpenter
 * 1.14.1's (../shared/helm-charts/karpenter/1.14.1/crds); the real API server checks them, CEL included,
 * in the e2e. Pure: AWS ids come in as inputs and pass through untouched.
 */
import type { Input } from "@pulumi/pulumi";
import type { GpuPoolConfig } from "../../config/schema";
import { lookupGpuInstance } from "../capacity/gpuInstances";
import { customObject, ENVIRONMENT_LABEL, PART_OF, type K8sObject } from "../k8s";
import { NODE_METADATA_OPTIONS } from "./instanceMetadata";
import {
  DEVICE_PLUGIN_LABEL,
  GPU_TAINT,
  gpuNodeLabels,
  hasInstanceStore,
  poolGpu,
  poolSubnets,
} from "./nodePools";

export const KARPENTER_API = { nodeClassGroup: "karpenter.k8s.aws" } as const;

/** Labels Karpenter itself puts on the nodes it launches (sigs.k8s.io/karpenter v1.14.1 pkg/apis/v1/labels.go). */
export const KARPENTER_LABELS = {
  nodePool: "karpenter.sh/nodepool",
  capacityType: "karpenter.sh/capacity-type",
  nodeClass: "karpenter.k8s.aws/ec2nodeclass",
} as const;

/** Karpenter's spelling of the EKS capacity types. */
const KARPENTER_CAPACITY_TYPE = { ON_DEMAND: "on-demand", SPOT: "spot" } as const;

/**
 * Disruption of GPU nodes. Consolidation only removes empty nodes (`WhenEmpty`): a node running a model
 * replica — serving, or minutes into loading its weights — is never drained to pack replicas tighter
 * (`WhenEmptyOrUnderutilized` would). Empty nodes go after 10 minutes, as Cluster Autoscaler's
 * scale-down-unneeded-time here. Drift (an AMI or node-class change) replaces one node at a time, like
 * the managed node groups' maxUnavailable 1, and waits on PodDisruptionBudgets. Nodes do not expire:
 * expiry is forceful (NodePool CRD: expireAfter), so node images change when config pins a new release.
 */
const GPU_POOL_DISRUPTION = {
  consolidationPolicy: "WhenEmpty",
  consolidateAfter: "10m",
  budgets: [{ nodes: "1" }],
} as const;

export interface NodeClassInputs {
  readonly clusterName: string;
  /** Name of the IAM role Karpenter's nodes take (the cluster's node role). */
  readonly nodeRoleName: Input<string>;
  readonly subnetIds: Input<string>[];
  /** The EKS-created cluster security group, the one managed node group nodes carry. */
  readonly securityGroupId: Input<string>;
  readonly tags: Record<string, string>;
  /** The pool's cluster placement group, when it asks for one. */
  readonly placementGroupName?: Input<string>;
}

/**
 * The EKS-optimized AMI alias: Karpenter picks the NVIDIA variant for GPU instance types from one alias
 * (EC2NodeClass amiSelectorTerms.alias). A pinned `releaseVersion` pins the image ("al2023@v20260714",
 * "bottlerocket@v1.68.0"); unpinned follows the latest and drifts every node when AWS publishes one.
 */
export function amiAlias(pool: Pick<GpuPoolConfig, "os" | "releaseVersion">): string {
  if (!pool.releaseVersion) return `${pool.os}@latest`;
  // EKS release versions: AL2023 "1.34.4-20260714" (date), Bottlerocket "1.68.0-<hash>" (OS version).
  const [head, tail] = pool.releaseVersion.split("-");
  return pool.os === "al2023" ? `al2023@v${tail ?? head}` : `bottlerocket@v${head}`;
}

function blockDevices(pool: GpuPoolConfig) {
  const data = {
    volumeSize: `${pool.diskSizeGiB}Gi`,
    volumeType: "gp3" as const,
    iops: 6000,
    throughput: 500,
    encrypted: true,
    deleteOnTermination: true,
  };
  // Bottlerocket keeps its OS on xvda and containers on xvdb; setting mappings replaces Karpenter's
  // defaults (4Gi + 20Gi), so both are given.
  return pool.os === "bottlerocket"
    ? [
        { deviceName: "/dev/xvda", ebs: { ...data, volumeSize: "4Gi", iops: 3000, throughput: 125 } },
        { deviceName: "/dev/xvdb", ebs: data },
      ]
    : [{ deviceName: "/dev/xvda", ebs: data }];
}

/** The objects' own labels: the platform's, and the stack's environment (policies read it). */
export function objectLabels(tags: Record<string, string>): Record<string, string> {
  const env = tags[ENVIRONMENT_LABEL];
  return { ...PART_OF, ...(env ? { [ENVIRONMENT_LABEL]: env } : {}) };
}

/**
 * What every node class of the platform's sets the same way: the node role, the cluster's subnets
 * and security group, IMDSv2 with hop limit 1, and the stack's tags.
 */
export function nodeClassBase(name: string, inputs: NodeClassInputs, subnetIds = inputs.subnetIds) {
  return {
    role: inputs.nodeRoleName,
    subnetSelectorTerms: subnetIds.map((id) => ({ id })),
    securityGroupSelectorTerms: [{ id: inputs.securityGroupId }],
    metadataOptions: { ...NODE_METADATA_OPTIONS, httpProtocolIPv6: "disabled" as const },
    tags: { ...inputs.tags, Name: `${inputs.clusterName}-${name}` },
  };
}

/** A NodePool's requirements: these instance types and capacity type, x86-64 Linux. */
export function poolRequirements(
  instanceTypes: readonly string[],
  capacityType: keyof typeof KARPENTER_CAPACITY_TYPE,
) {
  return [
    { key: "node.kubernetes.io/instance-type", operator: "In" as const, values: [...instanceTypes] },
    {
      key: KARPENTER_LABELS.capacityType,
      operator: "In" as const,
      values: [KARPENTER_CAPACITY_TYPE[capacityType]],
    },
    { key: "kubernetes.io/arch", operator: "In" as const, values: ["amd64"] },
    { key: "kubernetes.io/os", operator: "In" as const, values: ["linux"] },
  ];
}

export function ec2NodeClass(pool: GpuPoolConfig, inputs: NodeClassInputs): K8sObject {
  // A cluster placement group lives in one zone (its first launch pins it): one subnet, or launches in
  // the other zones fail until Karpenter happens to pick that one.
  const subnets = poolSubnets(pool, inputs.subnetIds);
  return customObject("karpenter.k8s.aws/v1/EC2NodeClass", {
    metadata: { name: pool.name, labels: objectLabels(inputs.tags) },
    spec: {
      ...nodeClassBase(pool.name, inputs, subnets),
      amiSelectorTerms: [{ alias: amiAlias(pool) }],
      blockDeviceMappings: blockDevices(pool),
      ...(hasInstanceStore(pool) ? { instanceStorePolicy: "RAID0" } : {}),
      ...(inputs.placementGroupName ? { placementGroupSelector: { name: inputs.placementGroupName } } : {}),
    },
  });
}

/** Labels every node of the pool carries (the same as the managed node group's), set by the NodePool template. */
function karpenterTemplateLabels(pool: GpuPoolConfig): Record<string, string> {
  return {
    ...gpuNodeLabels(pool),
    ...(pool.os === "al2023" ? { [DEVICE_PLUGIN_LABEL]: "daemonset" } : {}),
  };
}

export function nodePool(pool: GpuPoolConfig, weight: number, tags: Record<string, string>): K8sObject {
  const gpus = poolGpu(pool)?.instance.gpus ?? 0;
  return customObject("karpenter.sh/v1/NodePool", {
    metadata: { name: pool.name, labels: objectLabels(tags) },
    spec: {
      weight,
      template: {
        metadata: { labels: karpenterTemplateLabels(pool) },
        spec: {
          nodeClassRef: { group: KARPENTER_API.nodeClassGroup, kind: "EC2NodeClass", name: pool.name },
          requirements: poolRequirements(pool.instanceTypes, pool.capacityType),
          taints: [{ ...GPU_TAINT }],
          expireAfter: "Never",
        },
      },
      disruption: GPU_POOL_DISRUPTION,
      // The pool's maxSize, as nodes and as GPUs (the resource Karpenter sums over its nodes).
      limits: { nodes: String(pool.maxSize), "nvidia.com/gpu": String(pool.maxSize * gpus) },
    },
  });
}

/**
 * NodePool weights: cheaper pools first (Karpenter tries higher weights first), as the Cluster
 * Autoscaler's priority expander orders the managed node groups.
 */
export function nodePoolWeights(pools: readonly GpuPoolConfig[]): Map<string, number> {
  const price = (p: GpuPoolConfig) =>
    lookupGpuInstance(p.instanceTypes[0] ?? "")?.pricePerHour ?? Number.MAX_VALUE;
  const sorted = [...pools].sort((a, b) => price(b) - price(a) || b.name.localeCompare(a.name));
  // NodePool CRD: weight 1..100.
  return new Map(sorted.map((p, i) => [p.name, i + 1]));
}

/** The objects for every GPU pool: node classes first (a NodePool names its class). */
export function karpenterPoolObjects(
  pools: readonly GpuPoolConfig[],
  inputs: Omit<NodeClassInputs, "placementGroupName"> & { placementGroups: Record<string, Input<string>> },
): K8sObject[] {
  const weights = nodePoolWeights(pools);
  return [
    ...pools.map((p) => ec2NodeClass(p, { ...inputs, placementGroupName: inputs.placementGroups[p.name] })),
    ...pools.map((p) => nodePool(p, weights.get(p.name)!, inputs.tags)),
  ];
}
