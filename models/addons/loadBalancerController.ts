/**
 * AWS Load Balancer Controller: the only thing on EKS that acts on a Service annotated
 * `service.beta.kubernetes.io/aws-load-balancer-type: external` (the ingress gateway's NLB). Without it
 * the Service never gets an address and the gateway release waits until it times out. Installed before
 * the gateway; region and VPC are given explicitly because pods cannot reach the instance metadata
 * service (IMDSv2 hop limit) to discover them.
 */
import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";

export const LOAD_BALANCER_CONTROLLER_SA = "aws-load-balancer-controller";

export function loadBalancerController(ctx: AddonContext): AddonSpec {
  return {
    name: "aws-load-balancer-controller",
    namespace: "kube-system",
    chart: CHARTS.awsLoadBalancerController,
    values: {
      clusterName: ctx.clusterName,
      region: ctx.region,
      ...(ctx.vpcId ? { vpcId: ctx.vpcId } : {}),
      serviceAccount: { create: true, name: LOAD_BALANCER_CONTROLLER_SA },
      // Two replicas and a disruption budget: a gateway Service change must never wait on one pod.
      replicaCount: 2,
      podDisruptionBudget: { maxUnavailable: 1 },
      // Only Services the platform annotates: never take over other LoadBalancer Services by default.
      enableServiceMutatorWebhook: false,
    },
    dependsOn: [],
    timeoutSeconds: 600,
    ownsCrds: true,
  };
}
