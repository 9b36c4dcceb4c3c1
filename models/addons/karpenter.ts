/**
 * Karpenter as the GPU pools' node autoscaler: its CRDs as their own release (Helm never upgrades a
 * chart's crds/ directory; the karpenter-crd chart keeps them in templates so they move with the pin),
 * the controller on the system nodes, and one EC2NodeClass and NodePool per GPU pool applied after it.
 * Chart: aws/karpenter-provider-aws charts/karpenter at v1.14.1 (../shared/helm-charts/karpenter/1.14.1).
 */
import { boundedName } from "../names";
import { karpenterPoolObjects } from "../cluster/karpenterPools";
import { cpuAmiAlias, cpuNodeClass, cpuNodePool } from "../cluster/karpenterCpuPool";
import { CHARTS } from "../versions";
import { HA_REPLICAS, highlyAvailable } from "./highAvailability";
import type { AddonContext, AddonSpec } from "./types";

export const KARPENTER_NAMESPACE = "kube-system";
export const KARPENTER_SA = "karpenter";

/** The SQS interruption queue's name (the chart's settings.interruptionQueue takes the name, not the URL). */
export function interruptionQueueName(clusterName: string): string {
  return boundedName([clusterName, "karpenter"], 80);
}

export function karpenterCrd(): AddonSpec {
  return {
    name: "karpenter-crd",
    namespace: KARPENTER_NAMESPACE,
    chart: CHARTS.karpenterCrd,
    values: {},
    dependsOn: [],
    timeoutSeconds: 300,
    ownsCrds: true,
  };
}

export function karpenter(ctx: AddonContext): AddonSpec {
  if (!ctx.karpenterNodes)
    throw new Error("karpenter needs the node role, subnets and security group of the cluster");
  return {
    name: "karpenter",
    namespace: KARPENTER_NAMESPACE,
    chart: CHARTS.karpenter,
    values: {
      // The chart's own anti-affinity, zone spread and budget (maxUnavailable 1) render with either count.
      replicas: highlyAvailable(ctx) ? HA_REPLICAS : 1,
      serviceAccount: { create: true, name: KARPENTER_SA },
      settings: {
        clusterName: ctx.clusterName,
        interruptionQueue: interruptionQueueName(ctx.clusterName),
      },
      controller: {
        // IMDS answers only the node's own hop (hop limit 1), so the AWS SDK cannot find the region there.
        env: [{ name: "AWS_REGION", value: ctx.region }],
        // Karpenter's getting-started sizing: it holds every instance type and price in memory.
        resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "1Gi" } },
      },
    },
    dependsOn: ["karpenter-crd"],
    timeoutSeconds: 300,
    skipCrds: true,
    objects: [
      ...karpenterPoolObjects(ctx.gpuPools, { clusterName: ctx.clusterName, ...ctx.karpenterNodes }),
      cpuNodeClass(
        ctx.systemNodeGroup,
        { clusterName: ctx.clusterName, ...ctx.karpenterNodes },
        cpuAmiAlias(ctx.gpuPools),
      ),
      cpuNodePool(ctx.systemNodeGroup, ctx.karpenterNodes.tags),
    ],
    ownsCrds: false,
  };
}
