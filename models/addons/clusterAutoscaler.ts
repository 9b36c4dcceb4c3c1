/**
 * Cluster Autoscaler for the managed node groups: auto-discovery by tag, a priority expander that
 * prefers the cheapest GPU pool, and flags that let GPU groups scale from and back to zero.
 */
import { HA_REPLICAS, highlyAvailable } from "./highAvailability";
import { lookupGpuInstance } from "../capacity/gpuInstances";
import { CHARTS, CLUSTER_AUTOSCALER_TAGS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";

export const CLUSTER_AUTOSCALER_SA = "cluster-autoscaler";

/** Priority expander config: cheaper pools get higher priority (CA picks the highest that fits). */
export function expanderPriorities(ctx: AddonContext): Record<string, string[]> {
  const priced = ctx.gpuPools.map((p) => ({
    pool: p.name,
    price: lookupGpuInstance(p.instanceTypes[0] ?? "")?.pricePerHour ?? Number.MAX_SAFE_INTEGER,
  }));
  priced.sort((a, b) => b.price - a.price || a.pool.localeCompare(b.pool));
  const out: Record<string, string[]> = { "1": [".*"] };
  priced.forEach((p, i) => {
    // MNG ASGs are named eks-<nodegroup name>-<uuid>, and node group names start <cluster>-<pool>-.
    out[String(10 * (i + 2))] = [`^eks-${ctx.clusterName}-${p.pool}-.*`];
  });
  return out;
}

export function clusterAutoscaler(ctx: AddonContext): AddonSpec {
  return {
    name: "cluster-autoscaler",
    namespace: "kube-system",
    chart: CHARTS.clusterAutoscaler,
    values: {
      // Leader election is on in the binary; the chart's budget (maxUnavailable: 1) renders by default.
      replicaCount: highlyAvailable(ctx) ? HA_REPLICAS : 1,
      cloudProvider: "aws",
      awsRegion: ctx.region,
      autoDiscovery: { clusterName: ctx.clusterName },
      rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_SA } },
      // Cluster Autoscaler must match the cluster's minor version.
      // Config validation (models/compat) refuses a Kubernetes version without a known release.
      image: { tag: CLUSTER_AUTOSCALER_TAGS[ctx.kubernetesVersion] },
      expanderPriorities: expanderPriorities(ctx),
      extraArgs: {
        expander: "priority,least-waste",
        "balance-similar-node-groups": true,
        // Model pods use emptyDir (/dev/shm, caches): without this, GPU nodes would never scale down.
        "skip-nodes-with-local-storage": false,
        "scale-down-gpu-utilization-threshold": 0.5,
        "scale-down-unneeded-time": "10m",
        // Large GPU instances take a while to boot and join.
        "max-node-provision-time": "25m",
      },
    },
    dependsOn: [],
    timeoutSeconds: 300,
    ownsCrds: false,
  };
}
