/**
 * An IAM role for one Kubernetes ServiceAccount through EKS Pod Identity: trust limited to the EKS
 * pods service, least-privilege policies, and the association. No static keys anywhere.
 * EKS managed add-ons associate the role themselves (aws.eks.Addon podIdentityAssociations): then
 * leave `namespace` out and no standalone association is made.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { boundedName } from "../models/names";

export const POD_IDENTITY_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
    },
  ],
});

export interface PodIdentityRoleArgs {
  /** Also prefixes the IAM role name, so stacks sharing an account never collide. */
  readonly clusterName: string;
  /** Namespace of the ServiceAccount; omit when an EKS managed add-on makes the association. */
  readonly namespace?: string;
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
        assumeRolePolicy: POD_IDENTITY_TRUST,
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
    if (args.namespace) {
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
