/**
 * An IAM role for one Kubernetes ServiceAccount through EKS Pod Identity: trust limited to the EKS
 * pods service acting for this cluster, namespace and ServiceAccount (models/cluster/iam.ts),
 * least-privilege policies, and the association. No static keys anywhere.
 * EKS managed add-ons associate the role themselves (aws.eks.Addon podIdentityAssociations): then
 * set `associatedByAddon` and no standalone association is made.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityTrustPolicy } from "../models/cluster/iam";
import { boundedName } from "../models/names";

export interface PodIdentityRoleArgs {
  /** Also prefixes the IAM role name, so stacks sharing an account never collide. */
  readonly clusterName: string;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  /** An EKS managed add-on makes the association itself (aws.eks.Addon podIdentityAssociations). */
  readonly associatedByAddon?: boolean;
  readonly serviceAccount: string;
  /** Inline policy JSON. */
  readonly policy?: pulumi.Input<string>;
  /** AWS-managed policy ARNs. */
  readonly managedPolicyArns?: string[];
  readonly tags: Record<string, string>;
  /** The eks-pod-identity-agent add-on: associations only work once it runs. */
  readonly agent?: pulumi.Resource;
}

export class PodIdentityRole extends pulumi.ComponentResource {
  static readonly TYPE = "inference-platform:iam:PodIdentityRole";
  readonly roleArn: pulumi.Output<string>;
  readonly association?: aws.eks.PodIdentityAssociation;

  constructor(name: string, args: PodIdentityRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(PodIdentityRole.TYPE, name, {}, opts);
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: boundedName([args.clusterName, name], 64),
        assumeRolePolicy: podIdentityTrustPolicy(args.clusterName, args.namespace, args.serviceAccount),
        tags: args.tags,
      },
      { parent: this },
    );
    if (args.policy)
      new aws.iam.RolePolicy(`${name}-policy`, { role: role.name, policy: args.policy }, { parent: this });
    (args.managedPolicyArns ?? []).forEach(
      (arn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-managed-${i}`,
          { role: role.name, policyArn: arn },
          { parent: this },
        ),
    );
    if (!args.associatedByAddon) {
      this.association = new aws.eks.PodIdentityAssociation(
        `${name}-association`,
        {
          clusterName: args.clusterName,
          namespace: args.namespace,
          serviceAccount: args.serviceAccount,
          roleArn: role.arn,
          tags: args.tags,
        },
        { parent: this, dependsOn: args.agent ? [args.agent] : [] },
      );
    }
    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
