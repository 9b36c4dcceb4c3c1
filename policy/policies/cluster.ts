/**
 * Cluster policies: the EKS control plane and the node groups, in both the forms the engine shows
 * them (the @pulumi/eks component's inputs, and the aws:eks resources it creates).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { GPU_INSTANCES } from "../../models/capacity/gpuInstances";

type Props = Record<string, unknown>;
const EKS_COMPONENT = "eks:index:Cluster";
const EKS_CLUSTER = "aws:eks/cluster:Cluster";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const WORLD = "0.0.0.0/0";
export const REQUIRED_LOG_TYPES = ["api", "audit", "authenticator"];

export const eksSecretsEncryption: ResourceValidationPolicy = {
  name: "eks-secrets-encryption",
  description: "EKS encrypts Kubernetes secrets with a KMS key.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const p = args.props as Props;
    if (args.type === EKS_COMPONENT && !p.encryptionConfigKeyArn)
      report(
        `${args.name}: no encryptionConfigKeyArn; Kubernetes secrets would be stored unencrypted by a customer key`,
      );
    if (args.type === EKS_CLUSTER) {
      const configs = (p.encryptionConfig ? [p.encryptionConfig].flat() : []) as Array<{
        resources?: string[];
      }>;
      if (!configs.some((c) => c.resources?.includes("secrets")))
        report(`${args.name}: no encryptionConfig for secrets`);
    }
  },
};

export const eksEndpointNotWorldOpen: ResourceValidationPolicy = {
  name: "eks-endpoint-not-world-open",
  description:
    "The public API endpoint is off or limited to listed CIDRs (never 0.0.0.0/0). Mandatory in prod.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const p = args.props as Props;
    let publicAccess: unknown;
    let cidrs: unknown;
    if (args.type === EKS_COMPONENT) [publicAccess, cidrs] = [p.endpointPublicAccess, p.publicAccessCidrs];
    else if (args.type === EKS_CLUSTER) {
      const vpc = (p.vpcConfig ?? {}) as Props;
      [publicAccess, cidrs] = [vpc.endpointPublicAccess, vpc.publicAccessCidrs];
    } else return;
    if (publicAccess === false) return;
    const list = (cidrs as string[] | undefined) ?? [];
    if (list.length === 0 || list.includes(WORLD))
      report(
        `${args.name}: the public API endpoint is open to ${WORLD}; list the allowed CIDRs or turn it off`,
      );
  },
};

export const eksControlPlaneLogging: ResourceValidationPolicy = {
  name: "eks-control-plane-logging",
  description: `Control-plane logging includes ${REQUIRED_LOG_TYPES.join(", ")}.`,
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== EKS_COMPONENT && args.type !== EKS_CLUSTER) return;
    const types = ((args.props as Props).enabledClusterLogTypes as string[] | undefined) ?? [];
    const missing = REQUIRED_LOG_TYPES.filter((t) => !types.includes(t));
    if (missing.length > 0) report(`${args.name}: control-plane logs missing: ${missing.join(", ")}`);
  },
};

export const nodesRequireImdsv2: ResourceValidationPolicy = {
  name: "nodes-require-imdsv2",
  description:
    "Nodes require IMDSv2 (session tokens), with a hop limit that keeps pods off the node's credentials.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const p = args.props as Props;
    if (args.type === LAUNCH_TEMPLATE) {
      const md = (p.metadataOptions ?? {}) as { httpTokens?: string; httpEndpoint?: string };
      if (md.httpEndpoint !== "disabled" && md.httpTokens !== "required")
        report(`${args.name}: metadataOptions.httpTokens must be "required" (IMDSv2)`);
    }
    if (args.type === NODE_GROUP && !p.launchTemplate)
      report(
        `${args.name}: a managed node group without a launch template gets EKS's default, which allows IMDSv1`,
      );
  },
};

export function isGpuInstanceType(t: string): boolean {
  return t in GPU_INSTANCES || /^(g[0-9]|p[0-9])/.test(t);
}

export const gpuNodeGroupsNvidiaAmi: ResourceValidationPolicy = {
  name: "gpu-node-groups-nvidia-ami",
  description: "GPU node groups use an NVIDIA AMI type (drivers and container toolkit), CPU groups do not.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== NODE_GROUP) return;
    const p = args.props as { instanceTypes?: string[]; amiType?: string };
    const gpu = (p.instanceTypes ?? []).some(isGpuInstanceType);
    const nvidia = (p.amiType ?? "").includes("NVIDIA");
    if (gpu && !nvidia)
      report(
        `${args.name}: GPU instance types with AMI type ${p.amiType ?? "(default)"}; use an NVIDIA AMI type`,
      );
    if (!gpu && nvidia) report(`${args.name}: an NVIDIA AMI type on CPU instance types`);
  },
};

export const CLUSTER_POLICIES: ResourceValidationPolicy[] = [
  eksSecretsEncryption,
  eksEndpointNotWorldOpen,
  eksControlPlaneLogging,
  nodesRequireImdsv2,
  gpuNodeGroupsNvidiaAmi,
];
