/**
 * Karpenter's AWS side: the controller's least-privilege policy, its interruption queue's policy and
 * the EventBridge rules that feed the queue. Statements, conditions and rules are Karpenter v1.14's own
 * (aws/karpenter-provider-aws website/content/en/v1.14/getting-started/getting-started-with-karpenter/
 * cloudformation.yaml: NodeLifecyclePolicy, IAMIntegrationPolicy, EKSIntegrationPolicy,
 * InterruptionPolicy, ResourceDiscoveryPolicy, KarpenterInterruptionQueue(Policy) and the five rules),
 * with PassRole narrowed to the one node role the platform's nodes use. Pure JSON text and data.
 */

export interface KarpenterAwsScope {
  readonly clusterName: string;
  readonly region: string;
  readonly accountId: string;
  /** ARN of the SQS interruption queue. */
  readonly queueArn: string;
  /** ARN of the role Karpenter's nodes take (passed to EC2 through the instance profile it creates). */
  readonly nodeRoleArn: string;
}

/** Tags Karpenter puts on what it creates, and the conditions that keep it to those resources. */
function ec2Statements(s: KarpenterAwsScope): object[] {
  const ec2 = (kind: string) => `arn:aws:ec2:${s.region}:*:${kind}/*`;
  const owned = { [`aws:ResourceTag/kubernetes.io/cluster/${s.clusterName}`]: "owned" };
  const requestOwned = {
    [`aws:RequestTag/kubernetes.io/cluster/${s.clusterName}`]: "owned",
    "aws:RequestTag/eks:eks-cluster-name": s.clusterName,
  };
  const launched = [
    "fleet",
    "instance",
    "volume",
    "network-interface",
    "launch-template",
    "spot-instances-request",
  ];
  return [
    {
      Sid: "AllowScopedEC2InstanceAccessActions",
      Effect: "Allow",
      Resource: [
        `arn:aws:ec2:${s.region}::image/*`,
        `arn:aws:ec2:${s.region}::snapshot/*`,
        ...["security-group", "subnet", "capacity-reservation", "placement-group"].map(ec2),
      ],
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
    },
    {
      Sid: "AllowScopedEC2LaunchTemplateAccessActions",
      Effect: "Allow",
      Resource: ec2("launch-template"),
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Condition: { StringEquals: owned, StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowScopedEC2InstanceActionsWithTags",
      Effect: "Allow",
      Resource: launched.map(ec2),
      Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
      Condition: { StringEquals: requestOwned, StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowScopedResourceCreationTagging",
      Effect: "Allow",
      Resource: launched.map(ec2),
      Action: "ec2:CreateTags",
      Condition: {
        StringEquals: {
          ...requestOwned,
          "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
        },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceTagging",
      Effect: "Allow",
      Resource: ec2("instance"),
      Action: "ec2:CreateTags",
      Condition: {
        StringEquals: owned,
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
        StringEqualsIfExists: { "aws:RequestTag/eks:eks-cluster-name": s.clusterName },
        "ForAllValues:StringEquals": {
          "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"],
        },
      },
    },
    {
      Sid: "AllowScopedDeletion",
      Effect: "Allow",
      Resource: [ec2("instance"), ec2("launch-template")],
      Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
      Condition: { StringEquals: owned, StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
    },
  ];
}

/** Instance profiles Karpenter creates per EC2NodeClass, and the one role it may pass to them. */
function iamStatements(s: KarpenterAwsScope): object[] {
  const profiles = `arn:aws:iam::${s.accountId}:instance-profile/*`;
  const cluster = `kubernetes.io/cluster/${s.clusterName}`;
  return [
    {
      Sid: "AllowPassingInstanceRole",
      Effect: "Allow",
      Resource: s.nodeRoleArn,
      Action: "iam:PassRole",
      Condition: { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"] } },
    },
    {
      Sid: "AllowScopedInstanceProfileCreationActions",
      Effect: "Allow",
      Resource: profiles,
      Action: ["iam:CreateInstanceProfile"],
      Condition: {
        StringEquals: {
          [`aws:RequestTag/${cluster}`]: "owned",
          "aws:RequestTag/eks:eks-cluster-name": s.clusterName,
          "aws:RequestTag/topology.kubernetes.io/region": s.region,
        },
        StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileTagActions",
      Effect: "Allow",
      Resource: profiles,
      Action: ["iam:TagInstanceProfile"],
      Condition: {
        StringEquals: {
          [`aws:ResourceTag/${cluster}`]: "owned",
          "aws:ResourceTag/topology.kubernetes.io/region": s.region,
          [`aws:RequestTag/${cluster}`]: "owned",
          "aws:RequestTag/eks:eks-cluster-name": s.clusterName,
          "aws:RequestTag/topology.kubernetes.io/region": s.region,
        },
        StringLike: {
          "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
          "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
        },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileActions",
      Effect: "Allow",
      Resource: profiles,
      Action: [
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:DeleteInstanceProfile",
      ],
      Condition: {
        StringEquals: {
          [`aws:ResourceTag/${cluster}`]: "owned",
          "aws:ResourceTag/topology.kubernetes.io/region": s.region,
        },
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowUnscopedInstanceProfileListAction",
      Effect: "Allow",
      Resource: "*",
      Action: "iam:ListInstanceProfiles",
    },
    {
      Sid: "AllowInstanceProfileReadActions",
      Effect: "Allow",
      Resource: profiles,
      Action: "iam:GetInstanceProfile",
    },
  ];
}

/** Discovery (images, subnets, prices), the cluster endpoint and the interruption queue. */
function readStatements(s: KarpenterAwsScope): object[] {
  const clusterArn = `arn:aws:eks:${s.region}:${s.accountId}:cluster/${s.clusterName}`;
  return [
    {
      Sid: "AllowAPIServerEndpointDiscovery",
      Effect: "Allow",
      Resource: clusterArn,
      Action: "eks:DescribeCluster",
    },
    {
      Sid: "AllowInterruptionQueueActions",
      Effect: "Allow",
      Resource: s.queueArn,
      Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
    },
    {
      Sid: "AllowRegionalReadActions",
      Effect: "Allow",
      Resource: "*",
      Action: [
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribePlacementGroups",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
      ],
      Condition: { StringEquals: { "aws:RequestedRegion": s.region } },
    },
    {
      Sid: "AllowSSMReadActions",
      Effect: "Allow",
      Resource: `arn:aws:ssm:${s.region}::parameter/aws/service/*`,
      Action: "ssm:GetParameter",
    },
    { Sid: "AllowPricingReadActions", Effect: "Allow", Resource: "*", Action: "pricing:GetProducts" },
  ];
}

/**
 * The controller's policy, one document (≈6 KB, inside IAM's 10,240-character inline limit). Left out:
 * Karpenter's ZonalShiftPolicy, used only with settings.enableZonalShift, which the platform keeps off.
 */
export function karpenterControllerPolicy(scope: KarpenterAwsScope): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [...ec2Statements(scope), ...iamStatements(scope), ...readStatements(scope)],
  });
}

/** The interruption queue: EventBridge may send to it, nothing may reach it over plain HTTP. */
export function interruptionQueuePolicy(queueArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Id: "EC2InterruptionPolicy",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
        Action: "sqs:SendMessage",
        Resource: queueArn,
      },
      {
        Sid: "DenyHTTP",
        Effect: "Deny",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": false } },
        Principal: "*",
      },
    ],
  });
}

/** Messages are useless after a few minutes: an interruption has happened by then. */
export const INTERRUPTION_QUEUE = { messageRetentionSeconds: 300, sqsManagedSseEnabled: true } as const;

/**
 * The events Karpenter acts on: scheduled maintenance, spot interruption and rebalance warnings,
 * instance state changes and capacity-reservation interruptions (cloudformation.yaml, *Rule). Keyed by
 * a stable short name (resource names derive from it).
 */
export const INTERRUPTION_EVENTS: Record<string, { source: string; detailType: string }> = {
  "scheduled-change": { source: "aws.health", detailType: "AWS Health Event" },
  "spot-interruption": { source: "aws.ec2", detailType: "EC2 Spot Instance Interruption Warning" },
  rebalance: { source: "aws.ec2", detailType: "EC2 Instance Rebalance Recommendation" },
  "instance-state-change": { source: "aws.ec2", detailType: "EC2 Instance State-change Notification" },
  "capacity-reservation-interruption": {
    source: "aws.ec2",
    detailType: "EC2 Capacity Reservation Instance Interruption Warning",
  },
};

export function interruptionEventPattern(event: { source: string; detailType: string }): string {
  return JSON.stringify({ source: [event.source], "detail-type": [event.detailType] });
}
