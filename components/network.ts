/**
 * VPC for the cluster: private subnets for nodes, public subnets for load balancers, NAT per plan.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkPlan } from "../models/cluster/network";

export interface NetworkArgs {
  readonly cidr: string;
  readonly plan: NetworkPlan;
  readonly protect: boolean;
  readonly tags: Record<string, string>;
}

export class Network extends pulumi.ComponentResource {
  static readonly TYPE = "inference-platform:cluster:Network";
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Network.TYPE, name, {}, opts);
    const parent = { parent: this };
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { ...args.tags, Name: name },
      },
      { ...parent, protect: args.protect },
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: args.tags }, parent);
    const publicRt = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: args.tags },
      parent,
    );
    const subnets = args.plan.subnets.map((s) => {
      const kind = s.public ? "public" : "private";
      const subnet = new aws.ec2.Subnet(
        `${name}-${kind}-${s.zone}`,
        {
          vpcId: vpc.id,
          cidrBlock: s.cidr,
          availabilityZone: s.zone,
          mapPublicIpOnLaunch: false,
          tags: { ...args.tags, ...s.tags, Name: `${name}-${kind}-${s.zone}` },
        },
        parent,
      );
      return { plan: s, subnet };
    });
    const publicSubnets = subnets.filter((s) => s.plan.public);
    publicSubnets.forEach(
      ({ plan, subnet }) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-public-${plan.zone}`,
          { subnetId: subnet.id, routeTableId: publicRt.id },
          parent,
        ),
    );
    const nats = new Map<string, aws.ec2.NatGateway>();
    for (const zone of args.plan.natZones) {
      const subnet = publicSubnets.find((s) => s.plan.zone === zone)!.subnet;
      const eip = new aws.ec2.Eip(`${name}-nat-${zone}`, { domain: "vpc", tags: args.tags }, parent);
      nats.set(
        zone,
        new aws.ec2.NatGateway(
          `${name}-nat-${zone}`,
          { allocationId: eip.id, subnetId: subnet.id, tags: args.tags },
          parent,
        ),
      );
    }
    const firstNat = nats.get(args.plan.natZones[0] ?? "")!;
    subnets
      .filter((s) => !s.plan.public)
      .forEach(({ plan, subnet }) => {
        const nat = nats.get(plan.zone) ?? firstNat;
        const rt = new aws.ec2.RouteTable(
          `${name}-private-${plan.zone}`,
          { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: args.tags },
          parent,
        );
        new aws.ec2.RouteTableAssociation(
          `${name}-private-${plan.zone}`,
          { subnetId: subnet.id, routeTableId: rt.id },
          parent,
        );
      });
    this.vpcId = vpc.id;
    this.privateSubnetIds = subnets.filter((s) => !s.plan.public).map((s) => s.subnet.id);
    this.publicSubnetIds = publicSubnets.map((s) => s.subnet.id);
    this.registerOutputs({ vpcId: this.vpcId });
  }
}
