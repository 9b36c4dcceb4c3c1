/**
 * Least-privilege IAM policy documents for platform controllers (JSON text, registered by components).
 */

/** The session tags EKS Pod Identity sets when it assumes a role (EKS User Guide, pod-id-abac.html). */
export const POD_IDENTITY_SESSION_TAGS = {
  cluster: "aws:RequestTag/eks-cluster-name",
  namespace: "aws:RequestTag/kubernetes-namespace",
  serviceAccount: "aws:RequestTag/kubernetes-service-account",
} as const;

/**
 * Trust policy of a role for one ServiceAccount through EKS Pod Identity: the EKS pods service may
 * assume it and tag the session, and only for this cluster, namespace and ServiceAccount — conditions
 * on the session tags Pod Identity sets. Without them any Pod Identity association in the account
 * could use the role (Amazon EKS User Guide, "Create IAM role with trust policy required by EKS Pod
 * Identity", Setting Conditions).
 */
export function podIdentityTrustPolicy(
  clusterName: string,
  namespace: string,
  serviceAccount: string,
): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowEksAuthToAssumeRoleForPodIdentity",
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: {
            [POD_IDENTITY_SESSION_TAGS.cluster]: clusterName,
            [POD_IDENTITY_SESSION_TAGS.namespace]: namespace,
            [POD_IDENTITY_SESSION_TAGS.serviceAccount]: serviceAccount,
          },
        },
      },
    ],
  });
}

/**
 * The node role's AWS managed policies, as few as a node needs: join the cluster (AmazonEKSWorkerNodePolicy)
 * and pull images (AmazonEC2ContainerRegistryPullOnly: ecr:BatchGetImage, GetDownloadUrlForLayer,
 * GetAuthorizationToken — not ReadOnly's describe and list calls on every repository). SSM Session Manager only
 * when asked, with AmazonSSMManagedEC2InstanceDefaultPolicy: AmazonSSMManagedInstanceCore would also
 * grant ssm:GetParameter(s) on every parameter (AWS managed policy references).
 */
export const NODE_ROLE_POLICIES = {
  join: "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
  pull: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
  ssmSessions: "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy",
} as const;

/** Managed policies a node role must not carry: broader than any node needs. */
export const BROAD_NODE_POLICIES = [
  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
  "arn:aws:iam::aws:policy/AdministratorAccess",
];

export function nodeRolePolicies(ssmSessions: boolean): string[] {
  return [
    NODE_ROLE_POLICIES.join,
    NODE_ROLE_POLICIES.pull,
    ...(ssmSessions ? [NODE_ROLE_POLICIES.ssmSessions] : []),
  ];
}

/** Cluster Autoscaler: read everything it must, write only to ASGs tagged for this cluster. */
export function clusterAutoscalerPolicy(clusterName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Describe",
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
        ],
        Resource: "*",
      },
      {
        Sid: "ScaleOwnGroups",
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: "*",
        Condition: {
          StringEquals: {
            [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned",
            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
          },
        },
      },
    ],
  });
}

/** Prometheus remote-write and KEDA queries against one AMP workspace. */
export function ampPolicy(workspaceArn: string, actions: readonly string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: [...actions], Resource: workspaceArn }],
  });
}

/** What the AWS Load Balancer Controller reads, and the service-linked role ELB needs once. */
function lbcReadStatements(): object[] {
  return [
    {
      Sid: "ServiceLinkedRole",
      Effect: "Allow",
      Action: ["iam:CreateServiceLinkedRole"],
      Resource: "*",
      Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
    },
    {
      Sid: "Describe",
      Effect: "Allow",
      Action: [
        "ec2:DescribeAccountAttributes",
        "ec2:DescribeAddresses",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeVpcs",
        "ec2:DescribeVpcPeeringConnections",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeTags",
        "ec2:DescribeRouteTables",
        "ec2:GetSecurityGroupsForVpc",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeCapacityReservation",
      ],
      Resource: "*",
    },
  ];
}

/** Security groups: created tagged, then managed only while they carry the controller's tag. */
function lbcSecurityGroupStatements(ownedBy: (tag: string) => object): object[] {
  return [
    {
      Sid: "CreateOwnSecurityGroups",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup"],
      Resource: "*",
    },
    {
      Sid: "TagNewSecurityGroups",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: "arn:aws:ec2:*:*:security-group/*",
      Condition: {
        StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
        Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
      },
    },
    {
      Sid: "ManageOwnSecurityGroups",
      Effect: "Allow",
      Action: [
        "ec2:CreateTags",
        "ec2:DeleteTags",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup",
      ],
      Resource: "arn:aws:ec2:*:*:security-group/*",
      Condition: ownedBy("elbv2.k8s.aws/cluster"),
    },
    {
      // Node security groups: the controller opens the NLB's traffic to the targets.
      Sid: "OpenTargetsToLoadBalancer",
      Effect: "Allow",
      Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
      Resource: "*",
    },
  ];
}

/** Load balancers, listeners and target groups: created tagged, then managed only while tagged. */
function lbcLoadBalancerStatements(ownedBy: (tag: string) => object): object[] {
  return [
    {
      Sid: "CreateTaggedLoadBalancers",
      Effect: "Allow",
      Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
      Resource: "*",
      Condition: { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } },
    },
    {
      Sid: "TagOnCreate",
      Effect: "Allow",
      Action: ["elasticloadbalancing:AddTags"],
      Resource: [
        "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
        "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
      ],
      Condition: {
        StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
        Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
      },
    },
    {
      Sid: "ManageOwnLoadBalancers",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:SetIpAddressType",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyCapacityReservation",
      ],
      Resource: "*",
      Condition: ownedBy("elbv2.k8s.aws/cluster"),
    },
    {
      Sid: "Listeners",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyListenerAttributes",
      ],
      Resource: "*",
    },
    {
      Sid: "Targets",
      Effect: "Allow",
      Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
      Resource: "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
    },
  ];
}

/**
 * AWS Load Balancer Controller, for the NLB of the ingress gateway Service only (the platform creates
 * no ALB Ingress): the actions of the controller's published policy (kubernetes-sigs/
 * aws-load-balancer-controller docs/install/iam_policy.json, v2.17.1) that NLB Services use — reads,
 * its own security groups and load balancers identified by the `elbv2.k8s.aws/cluster` /
 * `service.k8s.aws/cluster` tags it sets — without the ALB-only WAF, Shield, Cognito and ACM grants.
 */
export function loadBalancerControllerPolicy(): string {
  const ownedBy = (tag: string) => ({ Null: { [`aws:ResourceTag/${tag}`]: "false" } });
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      ...lbcReadStatements(),
      ...lbcSecurityGroupStatements(ownedBy),
      ...lbcLoadBalancerStatements(ownedBy),
    ],
  });
}
