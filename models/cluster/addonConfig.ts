/**
 * Configuration of EKS managed add-ons (their `configurationValues`, validated by EKS against each
 * add-on version's schema).
 */

/**
 * vpc-cni: the network policy agent (`enableNetworkPolicy`) makes NetworkPolicies take effect; without
 * it EKS accepts them and enforces nothing (docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html).
 */
export function vpcCniConfiguration() {
  return { enableNetworkPolicy: "true" };
}

/** The EKS managed add-ons the platform installs (components/cluster.ts), by their EKS names. */
export const EKS_MANAGED_ADDONS = [
  "eks-pod-identity-agent",
  "vpc-cni",
  "kube-proxy",
  "coredns",
  "aws-ebs-csi-driver",
] as const;
