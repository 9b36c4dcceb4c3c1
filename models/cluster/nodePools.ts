/**
 * Node pool decisions: AMI type per OS and instance family, the labels and taint GPU nodes carry,
 * and the Cluster Autoscaler node-template tags that let an empty GPU group scale from zero.
 * Pure data in, plain objects out; components/gpuNodeGroup.ts registers them.
 */
import type { GpuPoolConfig } from "../../config/schema";
import {
  GPU_MODELS,
  instanceFamily,
  lookupGpuInstance,
  NON_NVIDIA_ACCELERATOR_FAMILIES,
} from "../capacity/gpuInstances";

export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" } as const;
/** EKS API spelling of the same taint effect. */
export const GPU_TAINT_EKS = { key: GPU_TAINT.key, value: GPU_TAINT.value, effect: "NO_SCHEDULE" } as const;

export const LABELS = {
  pool: "inference-platform/pool",
  gpuPresent: "nvidia.com/gpu.present",
  gpuProduct: "nvidia.com/gpu.product",
  gpuMemory: "nvidia.com/gpu.memory",
  /** Cluster Autoscaler's AWS provider reads this label to know a node will have GPUs (GPULabel). */
  accelerator: "k8s.amazonaws.com/accelerator",
  /** Nodes with an EFA interface (pools with efa: true): the EFA device plugin runs there. */
  efa: "inference-platform/efa",
} as const;

/** Set on GPU nodes whose OS does not ship the device plugin (AL2023): the plugin's DaemonSet selects it. */
export const DEVICE_PLUGIN_LABEL = "inference-platform/nvidia-device-plugin";

export type AmiType =
  "AL2023_x86_64_NVIDIA" | "AL2023_x86_64_STANDARD" | "BOTTLEROCKET_x86_64_NVIDIA" | "BOTTLEROCKET_x86_64";

/** CPU families allowed for the system node group (x86_64, current generations). */
const CPU_FAMILY = /^(m|c|r)(5|5a|5n|6i|6a|7i|7a|8i)$/;

export interface AmiDecision {
  readonly amiType?: AmiType;
  readonly error?: string;
}

/** The AMI type of a pool: NVIDIA AMIs for NVIDIA GPU families, never for CPU families. */
export function amiTypeFor(
  os: "al2023" | "bottlerocket",
  instanceType: string,
  wantsGpu: boolean,
): AmiDecision {
  const family = instanceFamily(instanceType);
  const gpu = lookupGpuInstance(instanceType);
  if (wantsGpu) {
    if (!gpu) {
      const other = NON_NVIDIA_ACCELERATOR_FAMILIES[family];
      const why = other
        ? `${family} carries ${other} accelerators, not NVIDIA GPUs`
        : CPU_FAMILY.test(family)
          ? `${family} has no GPU`
          : `unknown GPU instance type`;
      return {
        error: `${instanceType}: ${why}; a GPU pool needs one of g5, g6, g6e, p4d, p4de, p5, p5e, p5en (sizes in models/capacity/gpuInstances.ts)`,
      };
    }
    return { amiType: os === "bottlerocket" ? "BOTTLEROCKET_x86_64_NVIDIA" : "AL2023_x86_64_NVIDIA" };
  }
  if (gpu)
    return { error: `${instanceType} is a GPU instance; CPU node groups must not use GPU instance types` };
  if (!CPU_FAMILY.test(family))
    return {
      error: `${instanceType}: unsupported CPU instance family (allowed: m/c/r generations 5, 5a, 5n, 6i, 6a, 7i, 7a, 8i)`,
    };
  return { amiType: os === "bottlerocket" ? "BOTTLEROCKET_x86_64" : "AL2023_x86_64_STANDARD" };
}

/** The GPU model of a pool (all its instance types must share one, so labels and capacity are exact). */
export function poolGpu(pool: Pick<GpuPoolConfig, "instanceTypes">) {
  const first = lookupGpuInstance(pool.instanceTypes[0] ?? "");
  return first ? { instance: first, model: GPU_MODELS[first.gpu] } : undefined;
}

export function gpuNodeLabels(pool: GpuPoolConfig): Record<string, string> {
  const gpu = poolGpu(pool);
  if (!gpu) throw new Error(`pool ${pool.name}: no GPU instance type`);
  return {
    [LABELS.pool]: pool.name,
    [LABELS.gpuPresent]: "true",
    [LABELS.gpuProduct]: gpu.model.name,
    [LABELS.gpuMemory]: String(Math.round(gpu.model.memoryGiB * 1024)),
    [LABELS.accelerator]: gpu.model.acceleratorLabel,
    ...(pool.efa ? { [LABELS.efa]: "true" } : {}),
  };
}

/**
 * Tags for the pool's Auto Scaling group. Managed node group tags don't propagate to the ASG, so the
 * component writes these with aws.autoscaling.Tag. Cluster Autoscaler ≥ 1.31 also reads labels and
 * taints through eks:DescribeNodegroup; the tags make scale-from-zero independent of that call.
 */
export function clusterAutoscalerTags(pool: GpuPoolConfig, clusterName: string): Record<string, string> {
  const prefix = "k8s.io/cluster-autoscaler/node-template";
  const tags: Record<string, string> = {
    "k8s.io/cluster-autoscaler/enabled": "true",
    [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned",
    [`${prefix}/taint/${GPU_TAINT.key}`]: `${GPU_TAINT.value}:${GPU_TAINT.effect}`,
  };
  for (const [key, value] of Object.entries(gpuNodeLabels(pool))) tags[`${prefix}/label/${key}`] = value;
  const gpu = poolGpu(pool);
  if (gpu) tags[`${prefix}/resources/nvidia.com/gpu`] = String(gpu.instance.gpus);
  // Pods of a multi-node model request the EFA interface: without it in the template, Cluster
  // Autoscaler would not scale the pool up from zero for them. One interface per node (the launch template's).
  if (pool.efa) tags[`${prefix}/resources/vpc.amazonaws.com/efa`] = "1";
  return tags;
}

/**
 * The subnets a pool launches into: a cluster placement group lives in one Availability Zone (EC2
 * user guide, "Placement groups": a cluster placement group can't span multiple AZs), so its pool gets
 * the first subnet only; launches in the others would fail.
 */
export function poolSubnets<T>(pool: Pick<GpuPoolConfig, "placementGroup">, subnets: readonly T[]): T[] {
  return pool.placementGroup ? subnets.slice(0, 1) : [...subnets];
}

/** Size of the managed node group; desired defaults to min so `pulumi up` never scales GPU nodes up. */
/**
 * Rolling replacement of a managed node group (new AMI, launch template or instance type): one node at a
 * time, each drained respecting PodDisruptionBudgets, so a GPU pool never loses every model replica at
 * once. EKS's own default is also 1 (EKS API NodegroupUpdateConfig); stated so a change is a decision.
 */
export const NODE_GROUP_UPDATE = { maxUnavailable: 1 } as const;

export function scalingConfig(pool: { minSize: number; maxSize: number; desiredSize?: number }) {
  return { minSize: pool.minSize, maxSize: pool.maxSize, desiredSize: pool.desiredSize ?? pool.minSize };
}

/** Every instance type of the pool has local NVMe: the node RAIDs it under containerd and the kubelet. */
export function hasInstanceStore(pool: Pick<GpuPoolConfig, "instanceTypes">): boolean {
  return pool.instanceTypes.every((t) => (lookupGpuInstance(t)?.instanceStoreGB ?? 0) > 0);
}

/**
 * User data that puts a GPU node's local NVMe (instance store) under containerd and the kubelet, so
 * multi-GB serving images and the model download cache live on fast local disk instead of the root
 * EBS volume. AL2023: nodeadm's NodeConfig `localStorage: RAID0` (as pulumi-eks' EFA example does);
 * Bottlerocket: the `apiclient ephemeral-storage` bootstrap commands. EKS merges this with the user
 * data it generates for managed node groups. Undefined when an instance type has no instance store.
 */
export function nodeLocalStorageUserData(
  pool: Pick<GpuPoolConfig, "os" | "instanceTypes">,
): string | undefined {
  if (!hasInstanceStore(pool) || pool.instanceTypes.length === 0) return undefined;
  const text =
    pool.os === "bottlerocket"
      ? [
          "[settings.bootstrap-commands.k8s-ephemeral-storage]",
          'commands = [["apiclient", "ephemeral-storage", "init"], ["apiclient", "ephemeral-storage", "bind", "--dirs", "/var/lib/containerd", "/var/lib/kubelet", "/var/log/pods"]]',
          "essential = true",
          'mode = "always"',
          "",
        ].join("\n")
      : [
          "MIME-Version: 1.0",
          'Content-Type: multipart/mixed; boundary="//"',
          "",
          "--//",
          "Content-Type: application/node.eks.aws",
          "",
          "---",
          "apiVersion: node.eks.aws/v1alpha1",
          "kind: NodeConfig",
          "spec:",
          "  instance:",
          "    localStorage:",
          "      strategy: RAID0",
          "",
          "--//--",
          "",
        ].join("\n");
  return Buffer.from(text, "utf8").toString("base64");
}
