/**
 * Fake nodes that look like a stack's node groups: the system group and, per GPU pool, nodes of the
 * pool's first instance type with its labels, GPU taint, allocatable CPU, memory and nvidia.com/gpu,
 * spread over the stack's zones. Each pool is registered at its maximum size (what the node autoscaler
 * would grow it to), so pods scheduled here are pods a full-size pool could hold. Under Karpenter a
 * pool's nodes carry what Karpenter would give them — the NodePool's template labels and taints, its
 * name, node class and capacity type — and nothing the managed node groups would add (EKS's
 * eks.amazonaws.com/* labels), so a model selecting those would stay Pending here as on AWS. An
 * existing-cluster stack (local) gets two generic worker nodes, like a small kind cluster.
 */
import type { PlatformConfig } from "../models/plannedConfig";
import { DEVICE_PLUGIN_LABEL } from "../models/addons/gpu";
import { GPU_TAINT, gpuNodeLabels, LABELS, poolSubnets } from "../models/cluster/nodePools";
import { EFA_RESOURCE } from "../models/serving/multiNode";
import { KARPENTER_LABELS, nodePool } from "../models/cluster/karpenterPools";
import { stackZones } from "../models/cluster/network";
import { nodeShape } from "../models/cluster/nodeShape";
import type { FakeNode } from "./cluster";

/** At most this many nodes per pool: enough for every replica the stock stacks can ask for. */
const MAX_NODES_PER_POOL = 8;

function shapeOf(instanceType: string) {
  const shape = nodeShape(instanceType);
  if (!shape)
    throw new Error(`no node shape for instance type ${instanceType} (models/cluster/nodeShape.ts)`);
  return shape;
}

/**
 * What the kubelet reports: the shape's CPU, memory and pods, the GPUs the NVIDIA device plugin
 * advertises and, on EFA pools, the one interface the launch template attaches (as the EFA device
 * plugin advertises it).
 */
function resources(instanceType: string, efa = false): Pick<FakeNode, "capacity" | "allocatable"> {
  const s = shapeOf(instanceType);
  const gpu: Record<string, string> = {
    ...(s.gpus > 0 ? { "nvidia.com/gpu": String(s.gpus) } : {}),
    ...(efa ? { [EFA_RESOURCE]: "1" } : {}),
  };
  return {
    capacity: {
      cpu: String(s.vcpu),
      memory: `${Math.round(s.memoryGiB * 1024)}Mi`,
      pods: String(s.allocatable.pods),
      "ephemeral-storage": "100Gi",
      ...gpu,
    },
    allocatable: {
      cpu: `${s.allocatable.cpuMillis}m`,
      memory: `${s.allocatable.memoryMiB}Mi`,
      pods: String(s.allocatable.pods),
      "ephemeral-storage": "90Gi",
      ...gpu,
    },
  };
}

function baseLabels(
  name: string,
  instanceType: string,
  zone: string,
  region: string,
): Record<string, string> {
  return {
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "node.kubernetes.io/instance-type": instanceType,
    "topology.kubernetes.io/zone": zone,
    "topology.kubernetes.io/region": region,
    type: "kwok",
  };
}

export function fakeNodes(cfg: PlatformConfig): FakeNode[] {
  if (cfg.cluster.mode === "existing") {
    return ["worker-0", "worker-1"].map((name) => ({
      name,
      labels: baseLabels(name, "m6i.2xlarge", "local-a", "local"),
      taints: [],
      ...resources("m6i.2xlarge"),
    }));
  }
  const zones = stackZones(cfg);
  const nodes: FakeNode[] = [];
  const sys = cfg.cluster.systemNodeGroup;
  const sysType = sys.instanceTypes[0]!;
  for (let i = 0; i < Math.min(sys.maxSize, MAX_NODES_PER_POOL); i++) {
    const name = `system-${i}`;
    nodes.push({
      name,
      labels: {
        ...baseLabels(name, sysType, zones[i % zones.length]!, cfg.region),
        [LABELS.pool]: "system",
        "eks.amazonaws.com/capacityType": "ON_DEMAND",
      },
      taints: [],
      ...resources(sysType),
    });
  }
  const karpenter = cfg.cluster.nodeAutoscaler === "karpenter";
  for (const pool of cfg.gpuPools) {
    const type = pool.instanceTypes[0]!;
    if (karpenter) {
      nodes.push(...karpenterNodes(pool, type, zones, cfg.region));
      continue;
    }
    // A placement-group pool launches in its first subnet's zone only (poolSubnets).
    const poolZones = poolSubnets(pool, zones);
    for (let i = 0; i < Math.min(pool.maxSize, MAX_NODES_PER_POOL); i++) {
      const name = `${pool.name}-${i}`;
      nodes.push({
        name,
        labels: {
          ...baseLabels(name, type, poolZones[i % poolZones.length]!, cfg.region),
          ...gpuNodeLabels(pool),
          ...(pool.os === "al2023" ? { [DEVICE_PLUGIN_LABEL]: "daemonset" } : {}),
          "eks.amazonaws.com/capacityType": pool.capacityType,
        },
        taints: [{ key: GPU_TAINT.key, value: GPU_TAINT.value, effect: GPU_TAINT.effect }],
        ...resources(type, pool.efa),
      });
    }
  }
  return nodes;
}

interface NodePoolTemplate {
  metadata: { name: string };
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        nodeClassRef: { name: string };
        requirements: Array<{ key: string; operator: string; values: string[] }>;
        taints: FakeNode["taints"];
      };
    };
  };
}

/**
 * The nodes Karpenter would launch for a pool, labelled as it labels them: the template's labels, its
 * NodePool and node class (sigs.k8s.io/karpenter v1.14.1 pkg/controllers/provisioning/scheduling/
 * nodeclaimtemplate.go 79-84), custom single-value requirements (96-106), and the launched instance's
 * well-known labels (instance type, capacity type: the first the requirements allow).
 */
function karpenterNodes(
  pool: PlatformConfig["gpuPools"][number],
  type: string,
  zones: readonly string[],
  region: string,
): FakeNode[] {
  const np = nodePool(pool, 1, {}) as unknown as NodePoolTemplate;
  const template = np.spec.template;
  const allowed = (key: string) =>
    template.spec.requirements.find((r) => r.key === key && r.operator === "In")?.values;
  const custom = Object.fromEntries(
    template.spec.requirements
      .filter(
        (r) =>
          r.operator === "In" &&
          r.values.length === 1 &&
          !r.key.includes("kubernetes.io/") &&
          !r.key.startsWith("karpenter."),
      )
      .map((r) => [r.key, r.values[0]!]),
  );
  const nodes: FakeNode[] = [];
  for (let i = 0; i < Math.min(pool.maxSize, MAX_NODES_PER_POOL); i++) {
    const name = `${pool.name}-${i}`;
    nodes.push({
      name,
      labels: {
        ...baseLabels(name, type, zones[i % zones.length]!, region),
        ...template.metadata.labels,
        ...custom,
        [KARPENTER_LABELS.nodePool]: np.metadata.name,
        [KARPENTER_LABELS.nodeClass]: template.spec.nodeClassRef.name,
        [KARPENTER_LABELS.capacityType]: allowed(KARPENTER_LABELS.capacityType)?.[0] ?? "on-demand",
      },
      taints: template.spec.taints,
      ...resources(type),
    });
  }
  return nodes;
}
