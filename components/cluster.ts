/**
 * The EKS cluster: KMS-encrypted secrets, API authentication with access entries, control-plane logs,
 * a private endpoint (public limited to configured CIDRs), the EKS managed add-ons, and the system
 * node group. The cluster, its KMS key and the VPC are protected when config says so (prod default).
 */
import { nodeRolePolicies } from "../models/cluster/iam";
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../config/schema";
import { amiTypeFor, NODE_GROUP_UPDATE, scalingConfig } from "../models/cluster/nodePools";
import { eksKubeconfig } from "../models/cluster/kubeconfig";
import { vpcCniConfiguration } from "../models/cluster/addonConfig";
import { PodIdentityRole } from "./podIdentityRole";
import { NODE_METADATA_OPTIONS } from "../models/cluster/instanceMetadata";
import { adminAccessKeys } from "../models/cluster/accessEntries";

export interface EksClusterArgs {
  readonly config: ClusterConfig;
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<string>[];
  readonly publicSubnetIds: pulumi.Input<string>[];
  readonly protect: boolean;
  readonly tags: Record<string, string>;
}

export class EksCluster extends pulumi.ComponentResource {
  static readonly TYPE = "inference-platform:cluster:EksCluster";
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidcIssuer: pulumi.Output<string>;
  readonly nodeRole: aws.iam.Role;
  readonly nodeSecurityGroupId: pulumi.Output<string>;
  /** The security group EKS creates for the cluster: managed node groups' nodes carry it (and Karpenter's). */
  readonly eksClusterSecurityGroupId: pulumi.Output<string>;
  /** The eks-pod-identity-agent add-on (Pod Identity associations need it first). */
  readonly podIdentityAgent: aws.eks.Addon;
  readonly systemNodeGroup: aws.eks.NodeGroup;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(EksCluster.TYPE, name, {}, opts);
    const cfg = args.config;
    const parent = { parent: this };
    const key = new aws.kms.Key(
      `${name}-secrets`,
      {
        description: `EKS secrets encryption for ${cfg.name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: args.tags,
      },
      { ...parent, protect: args.protect },
    );
    new aws.kms.Alias(`${name}-secrets`, { name: `alias/eks/${cfg.name}`, targetKeyId: key.keyId }, parent);

    this.nodeRole = new aws.iam.Role(
      `${name}-node`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
        tags: args.tags,
      },
      parent,
    );
    // Indexed names: the first two kept their names when the policies were narrowed.
    nodeRolePolicies(cfg.nodeSsmSessions).forEach(
      (arn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${i}`,
          { role: this.nodeRole.name, policyArn: arn },
          parent,
        ),
    );

    const accessEntries = Object.fromEntries(
      adminAccessKeys(cfg.adminRoleArns).map(({ key, arn }) => [
        key,
        {
          principalArn: arn,
          accessPolicies: {
            admin: {
              policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
              accessScope: { type: "cluster" },
            },
          },
        },
      ]),
    );
    const cluster = new eks.Cluster(
      `${name}-eks`,
      {
        name: cfg.name,
        version: cfg.kubernetesVersion,
        vpcId: args.vpcId,
        privateSubnetIds: args.privateSubnetIds,
        publicSubnetIds: args.publicSubnetIds,
        authenticationMode: eks.AuthenticationMode.Api,
        accessEntries,
        encryptionConfigKeyArn: key.arn,
        enabledClusterLogTypes: cfg.logTypes,
        endpointPrivateAccess: cfg.endpoint.privateAccess,
        endpointPublicAccess: cfg.endpoint.publicAccess,
        // An empty list would be sent to EKS as "no CIDRs"; leave it unset for EKS's default instead.
        publicAccessCidrs:
          cfg.endpoint.publicAccess && cfg.endpoint.publicAccessCidrs.length > 0
            ? cfg.endpoint.publicAccessCidrs
            : undefined,
        skipDefaultNodeGroup: true,
        instanceRoles: [this.nodeRole],
        nodeAssociatePublicIpAddress: false,
        createOidcProvider: true,
        // The platform manages every add-on as an EKS managed add-on below (visible in plans and policies).
        bootstrapSelfManagedAddons: false,
        useDefaultVpcCni: true,
        corednsAddonOptions: { enabled: false },
        kubeProxyAddonOptions: { enabled: false },
        tags: args.tags,
      },
      { ...parent, protect: args.protect },
    );

    this.clusterName = pulumi.output(cfg.name);
    this.oidcIssuer = cluster.oidcIssuer;
    this.nodeSecurityGroupId = cluster.nodeSecurityGroupId;
    this.eksClusterSecurityGroupId = cluster.eksCluster
      .apply((c) => c.vpcConfig)
      .apply((v) => v.clusterSecurityGroupId);
    const kc = cluster.kubeconfigJson.apply(
      (text) =>
        JSON.parse(text) as {
          clusters: Array<{ cluster: { server: string; "certificate-authority-data": string } }>;
        },
    );
    this.kubeconfig = pulumi.secret(
      kc.apply((k) =>
        eksKubeconfig({
          clusterName: cfg.name,
          endpoint: k.clusters[0]!.cluster.server,
          certificateAuthority: k.clusters[0]!.cluster["certificate-authority-data"],
          region: args.region,
        }),
      ),
    );

    const addon = (
      addonName: string,
      extra: Partial<aws.eks.AddonArgs> = {},
      dependsOn: pulumi.Resource[] = [],
    ) =>
      new aws.eks.Addon(
        `${name}-${addonName}`,
        {
          clusterName: cfg.name,
          addonName,
          addonVersion:
            cfg.addonVersions[addonName] ??
            aws.eks.getAddonVersionOutput({ addonName, kubernetesVersion: cfg.kubernetesVersion }).version,
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "PRESERVE",
          tags: args.tags,
          ...extra,
        },
        { ...parent, dependsOn: [cluster, ...dependsOn] },
      );

    this.podIdentityAgent = addon("eks-pod-identity-agent");
    // Add-ons that call AWS get their own role, associated by the add-on itself.
    const addonWithRole = (
      addonName: string,
      serviceAccount: string,
      policyArn: string,
      dependsOn: pulumi.Resource[] = [],
      extra: Partial<aws.eks.AddonArgs> = {},
    ) => {
      const role = new PodIdentityRole(
        `${name}-${addonName}`,
        {
          clusterName: cfg.name,
          namespace: "kube-system",
          serviceAccount,
          associatedByAddon: true,
          managedPolicyArns: [policyArn],
          tags: args.tags,
        },
        { ...parent, dependsOn: [cluster] },
      );
      return addon(
        addonName,
        { ...extra, podIdentityAssociations: [{ roleArn: role.roleArn, serviceAccount }] },
        [this.podIdentityAgent, ...dependsOn],
      );
    };
    // The VPC CNI's network policy agent enforces NetworkPolicies (off by default: they would be ignored).
    const vpcCni = addonWithRole("vpc-cni", "aws-node", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy", [], {
      configurationValues: JSON.stringify(vpcCniConfiguration()),
    });
    addon("kube-proxy");

    const sys = cfg.systemNodeGroup;
    const sysAmi = amiTypeFor("al2023", sys.instanceTypes[0] ?? "", false);
    const sysLt = new aws.ec2.LaunchTemplate(
      `${name}-system`,
      {
        metadataOptions: NODE_METADATA_OPTIONS,
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: {
              volumeSize: sys.diskSizeGiB,
              volumeType: "gp3",
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ],
        tagSpecifications: [{ resourceType: "instance", tags: { ...args.tags, Name: `${cfg.name}-system` } }],
      },
      parent,
    );
    this.systemNodeGroup = new aws.eks.NodeGroup(
      `${name}-system`,
      {
        clusterName: cfg.name,
        nodeGroupNamePrefix: `${cfg.name}-system-`,
        nodeRoleArn: this.nodeRole.arn,
        subnetIds: args.privateSubnetIds,
        instanceTypes: sys.instanceTypes,
        amiType: sysAmi.amiType,
        capacityType: "ON_DEMAND",
        scalingConfig: scalingConfig(sys),
        updateConfig: NODE_GROUP_UPDATE,
        launchTemplate: { id: sysLt.id, version: pulumi.interpolate`${sysLt.latestVersion}` },
        labels: { "inference-platform/pool": "system" },
        tags: args.tags,
      },
      { ...parent, dependsOn: [cluster, vpcCni], ignoreChanges: ["scalingConfig.desiredSize"] },
    );
    addon("coredns", {}, [this.systemNodeGroup]);
    addonWithRole(
      "aws-ebs-csi-driver",
      "ebs-csi-controller-sa",
      "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
      [this.systemNodeGroup],
    );

    this.registerOutputs({ clusterName: this.clusterName, oidcIssuer: this.oidcIssuer });
  }
}
