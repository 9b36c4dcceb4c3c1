/**
 * Instance metadata (IMDS) on every node the platform launches: IMDSv2 session tokens only, and a
 * response hop limit of 1, so the node itself reaches IMDS but a pod — one network hop further, behind
 * its veth — does not, and cannot take the node role's credentials (EKS Best Practices Guide, Security,
 * "Restrict access to the instance profile assigned to the worker node"; CIS Amazon EKS Benchmark
 * v1.8.0 3.x node hardening).
 *
 * No platform pod needs IMDS: credentials come from EKS Pod Identity's agent (a link-local address
 * the agent serves on the node, not IMDS); the AWS Load Balancer Controller and Cluster Autoscaler get
 * their region and VPC as chart values (models/addons); hostNetwork pods (aws-node, the Pod Identity
 * agent) are on the node's own hop; KServe's storage initializer uses boto3, whose region comes from
 * the environment or config only (botocore 1.44 configprovider.py:60) — IMDS is consulted just for
 * the opt-in "smart defaults" (session.py:230). The EBS CSI driver falls back to Kubernetes metadata
 * (the node's providerID and topology labels, which EKS nodes carry) when IMDS does not answer
 * (aws-ebs-csi-driver docs/install.md, "Metadata"; the fallback Karpenter relies on with its own
 * default hop limit of 1, aws/karpenter-provider-aws#7200); its attach limit is then estimated from
 * the instance type rather than read.
 */
export const NODE_METADATA_OPTIONS = {
  httpEndpoint: "enabled",
  httpTokens: "required",
  httpPutResponseHopLimit: 1,
} as const;
