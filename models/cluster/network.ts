/**
 * Network plan: zones, subnet CIDRs and tags for an EKS VPC. Public subnets hold load balancers,
 * private subnets hold nodes. Pure: the component registers what this returns.
 */
export interface SubnetPlan {
  readonly zone: string;
  readonly cidr: string;
  readonly public: boolean;
  readonly tags: Record<string, string>;
}

export interface NetworkPlan {
  readonly zones: string[];
  readonly subnets: SubnetPlan[];
  /** Zones that get a NAT gateway (one in dev, one per zone in prod). */
  readonly natZones: string[];
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The i-th subnet of `newBits` more bits inside `cidr` (like Terraform's cidrsubnet). */
export function cidrSubnet(cidr: string, newBits: number, index: number): string {
  const [base, lenText] = cidr.split("/");
  const len = Number(lenText);
  const newLen = len + newBits;
  if (newLen > 28) throw new Error(`cannot carve /${newLen} subnets out of ${cidr}`);
  if (index >= 2 ** newBits)
    throw new Error(`subnet index ${index} out of range for ${cidr} with ${newBits} new bits`);
  const start = ipToInt(base ?? "0.0.0.0") + index * 2 ** (32 - newLen);
  return `${intToIp(start)}/${newLen}`;
}

export function defaultZones(region: string, count: number): string[] {
  return ["a", "b", "c", "d"].slice(0, count).map((suffix) => `${region}${suffix}`);
}

/**
 * Private subnets take the first quarters of the VPC (nodes and pods need the addresses: VPC CNI
 * gives every pod a VPC IP); public subnets take small /24-sized slices at the end.
 */
export function planNetwork(args: {
  cidr: string;
  zones: string[];
  clusterName: string;
  natPerZone: boolean;
}): NetworkPlan {
  const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" };
  const subnets: SubnetPlan[] = [];
  args.zones.forEach((zone, i) => {
    subnets.push({
      zone,
      cidr: cidrSubnet(args.cidr, 2, i),
      public: false,
      tags: { ...clusterTag, "kubernetes.io/role/internal-elb": "1" },
    });
  });
  args.zones.forEach((zone, i) => {
    subnets.push({
      zone,
      cidr: cidrSubnet(args.cidr, 8, 255 - i),
      public: true,
      tags: { ...clusterTag, "kubernetes.io/role/elb": "1" },
    });
  });
  return { zones: args.zones, subnets, natZones: args.natPerZone ? args.zones : args.zones.slice(0, 1) };
}
