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

/** The stack's zones: the configured ones, else the region's first 3 (prod) or 2. */
export function stackZones(cfg: {
  region: string;
  environment: string;
  network: { availabilityZones?: readonly string[] };
}): string[] {
  return cfg.network.availabilityZones
    ? [...cfg.network.availabilityZones]
    : defaultZones(cfg.region, cfg.environment === "prod" ? 3 : 2);
}

/** The most zones the layout holds: private subnets take a quarter each and the last quarter holds the public ones. */
export const MAX_ZONES = 3;
/** AWS VPC netmasks run /16 to /28 (VPC user guide, "VPC CIDR blocks"); public /(n+8) subnets must be /28 or larger. */
const MIN_VPC_PREFIX = 16;
const MAX_VPC_PREFIX = 20;

/**
 * What is wrong with a network layout, before anything is planned from it: a VPC CIDR the layout
 * cannot carve (misaligned, too small, larger than AWS allows), and zone lists it cannot hold.
 */
export function networkProblems(args: {
  cidr: string;
  zones: readonly string[];
  explicitZones: boolean;
}): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const [base = "", lenText = ""] = args.cidr.split("/");
  const len = Number(lenText);
  const size = 2 ** (32 - len);
  if (ipToInt(base) % size !== 0) {
    const network = `${intToIp(ipToInt(base) - (ipToInt(base) % size))}/${len}`;
    problems.push({
      path: "network.cidr",
      message: `${args.cidr} has host bits set; the network address is ${network}`,
    });
  }
  if (len < MIN_VPC_PREFIX || len > MAX_VPC_PREFIX)
    problems.push({
      path: "network.cidr",
      message: `a /${len} VPC is not allowed: AWS takes /${MIN_VPC_PREFIX} to /28, and the subnet layout (private /${len + 2} per zone, public /${len + 8}) needs /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX}`,
    });
  const at = args.explicitZones ? "network.availabilityZones" : "environment";
  const seen = new Set<string>();
  args.zones.forEach((zone, i) => {
    if (seen.has(zone) && args.explicitZones)
      problems.push({ path: `${at}[${i}]`, message: `${zone} is listed twice` });
    seen.add(zone);
  });
  if (seen.size > MAX_ZONES)
    problems.push({
      path: at,
      message: `${seen.size} zones, at most ${MAX_ZONES}: each takes a quarter of the VPC for its private subnet and the last quarter holds the public subnets`,
    });
  return problems;
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
  // A zone's subnets take the slot of its place in the sorted zone list, not in the list as written:
  // reordering `network.availabilityZones` must not move (replace) a subnet. The default zones are
  // already sorted, so their CIDRs are what they always were.
  const zones = [...args.zones].sort();
  const subnets: SubnetPlan[] = [];
  zones.forEach((zone, slot) => {
    subnets.push({
      zone,
      cidr: cidrSubnet(args.cidr, 2, slot),
      public: false,
      tags: { ...clusterTag, "kubernetes.io/role/internal-elb": "1" },
    });
  });
  zones.forEach((zone, slot) => {
    subnets.push({
      zone,
      cidr: cidrSubnet(args.cidr, 8, 255 - slot),
      public: true,
      tags: { ...clusterTag, "kubernetes.io/role/elb": "1" },
    });
  });
  return { zones, subnets, natZones: args.natPerZone ? zones : zones.slice(0, 1) };
}
