/**
 * Cluster policies: the EKS control plane and the node groups, in both the forms the engine shows
 * them (the @pulumi/eks component's inputs, and the aws:eks resources it creates).
 */
import { BROAD_NODE_POLICIES } from "../../models/cluster/iam";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { GPU_INSTANCES } from "../../models/capacity/gpuInstances";
import { POD_IDENTITY_SESSION_TAGS } from "../../models/cluster/iam";

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
    "Nodes require IMDSv2 (session tokens) with a hop limit of 1, which keeps pods off the node's credentials.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const p = args.props as Props;
    if (args.type === LAUNCH_TEMPLATE) {
      const md = (p.metadataOptions ?? {}) as {
        httpTokens?: string;
        httpEndpoint?: string;
        httpPutResponseHopLimit?: number;
      };
      if (md.httpEndpoint !== "disabled" && md.httpTokens !== "required")
        report(`${args.name}: metadataOptions.httpTokens must be "required" (IMDSv2)`);
      // EC2's default hop limit is 1 when the field is unset; 2 or more lets pods reach IMDS.
      if (md.httpEndpoint !== "disabled" && (md.httpPutResponseHopLimit ?? 1) > 1)
        report(
          `${args.name}: metadataOptions.httpPutResponseHopLimit ${md.httpPutResponseHopLimit} lets pods reach the node's instance metadata and credentials; use 1`,
        );
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

const IAM_ROLE = "aws:iam/role:Role";

/**
 * Roles EKS Pod Identity assumes carry trust conditions naming the cluster, namespace and
 * ServiceAccount (the session tags Pod Identity sets): else any association in the account could use them.
 */
export const podIdentityTrustScoped: ResourceValidationPolicy = {
  name: "pod-identity-trust-scoped",
  description:
    "Pod Identity roles trust pods.eks.amazonaws.com only for their cluster, namespace and ServiceAccount (session-tag conditions).",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== IAM_ROLE) return;
    const raw = (args.props as Props).assumeRolePolicy;
    if (typeof raw !== "string") return; // unknown during preview: checked on the next run
    const doc = JSON.parse(raw) as {
      Statement?: Array<{
        Principal?: { Service?: string | string[] };
        Condition?: Record<string, Record<string, unknown>>;
      }>;
    };
    for (const st of doc.Statement ?? []) {
      const services = [st.Principal?.Service ?? []].flat();
      if (!services.includes("pods.eks.amazonaws.com")) continue;
      const equals = st.Condition?.StringEquals ?? {};
      const missing = Object.values(POD_IDENTITY_SESSION_TAGS).filter((k) => !(k in equals));
      if (missing.length > 0)
        report(
          `${args.name}: trusts EKS Pod Identity without ${missing.join(", ")} conditions: any Pod Identity association in the account could assume it`,
        );
    }
  },
};

export const noBroadManagedPolicies: ResourceValidationPolicy = {
  name: "no-broad-managed-policies",
  description:
    "No role gets AWS managed policies broader than a node needs (SSM parameter read on *, ECR read on every repository, admin).",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== "aws:iam/rolePolicyAttachment:RolePolicyAttachment") return;
    const arn = String((args.props as Record<string, unknown>).policyArn ?? "");
    if (BROAD_NODE_POLICIES.includes(arn))
      report(
        `${args.name}: attaches ${arn.split("/").pop()}; nodes need AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryPullOnly (SSM sessions: cluster.nodeSsmSessions)`,
      );
  },
};

export const nodeGroupsRollOneAtATime: ResourceValidationPolicy = {
  name: "node-groups-roll-one-at-a-time",
  description:
    "Managed node groups replace one node at a time (updateConfig.maxUnavailable 1), so an AMI or instance change never drains every replica at once.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== NODE_GROUP) return;
    const update = (
      args.props as { updateConfig?: { maxUnavailable?: number; maxUnavailablePercentage?: number } }
    ).updateConfig;
    if (update?.maxUnavailable !== 1)
      report(
        `${args.name}: updateConfig ${update ? JSON.stringify(update) : "unset"}; replace one node at a time (maxUnavailable: 1)`,
      );
  },
};

export const CLUSTER_POLICIES: ResourceValidationPolicy[] = [
  nodeGroupsRollOneAtATime,
  podIdentityTrustScoped,
  noBroadManagedPolicies,
  eksSecretsEncryption,
  eksEndpointNotWorldOpen,
  eksControlPlaneLogging,
  nodesRequireImdsv2,
  gpuNodeGroupsNvidiaAmi,
];
