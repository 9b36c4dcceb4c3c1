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
