/**
 * Karpenter node pools held to what the managed node groups are held to — NVIDIA node images, IMDSv2
 * with hop limit 1, one node replaced at a time — plus what only Karpenter can get wrong: consolidation
 * that drains busy GPU nodes, and (prod) node images that follow `@latest` and drift every node.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { environmentOf } from "./environment";
import { poolView, POOL_TYPES } from "./pools";
import { isGpuInstanceType } from "./cluster";

type Props = Record<string, unknown>;
interface NodeClassSpec {
  amiSelectorTerms?: Array<{ alias?: string; id?: string; name?: string }>;
  metadataOptions?: { httpTokens?: string; httpEndpoint?: string; httpPutResponseHopLimit?: number };
}
interface Disruption {
  consolidationPolicy?: string;
  budgets?: Array<{ nodes?: string; schedule?: string }>;
}

const specOf = <T>(props: Props) => (props.spec ?? {}) as T;

export const karpenterNodeClassesSafe: ResourceValidationPolicy = {
  name: "karpenter-node-classes-safe",
  description:
    "Karpenter EC2NodeClasses use an EKS-optimized AMI alias (NVIDIA variant for GPU types), IMDSv2 with hop limit 1, and in prod a pinned AMI version.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== POOL_TYPES.nodeClass) return;
    const spec = specOf<NodeClassSpec>(args.props as Props);
    const aliases = (spec.amiSelectorTerms ?? []).map((t) => t.alias).filter((a): a is string => !!a);
    if (aliases.length === 0)
      report(
        `${args.name}: amiSelectorTerms select a custom AMI; use an al2023@ or bottlerocket@ alias so GPU types get EKS's NVIDIA image`,
      );
    if (environmentOf(args.props) === "prod" && aliases.some((a) => a.endsWith("@latest")))
      report(
        `${args.name}: ${aliases.join(", ")} in prod: every AMI release drifts and replaces every node; pin a version`,
      );
    // Karpenter's own default is tokens required and hop limit 1; checked when set.
    const md = spec.metadataOptions ?? {};
    if (md.httpEndpoint !== "disabled" && md.httpTokens !== undefined && md.httpTokens !== "required")
      report(`${args.name}: metadataOptions.httpTokens must be "required" (IMDSv2)`);
    if (md.httpEndpoint !== "disabled" && (md.httpPutResponseHopLimit ?? 1) > 1)
      report(
        `${args.name}: metadataOptions.httpPutResponseHopLimit ${md.httpPutResponseHopLimit} lets pods reach the node's credentials; use 1`,
      );
  },
};

export const karpenterGpuPoolsDisruptGently: ResourceValidationPolicy = {
  name: "karpenter-gpu-pools-disrupt-gently",
  description:
    "GPU NodePools consolidate only empty nodes (never drain a replica serving or loading weights) and disrupt one node at a time.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const pool = poolView(args.type, args.props as Props);
    if (args.type !== POOL_TYPES.nodePool || !pool?.instanceTypes.some(isGpuInstanceType)) return;
    const disruption = specOf<{ disruption?: Disruption }>(args.props as Props).disruption ?? {};
    // NodePool CRD default: WhenEmptyOrUnderutilized.
    const policy = disruption.consolidationPolicy ?? "WhenEmptyOrUnderutilized";
    if (policy !== "WhenEmpty")
      report(
        `${args.name}: consolidationPolicy ${policy} drains GPU nodes that still run replicas to pack them tighter; use WhenEmpty`,
      );
    // CRD default: one budget of 10% of nodes; an always-on budget of "1" (or "0") caps it at one.
    const capped = (disruption.budgets ?? []).some(
      (b) => !b.schedule && (b.nodes === "1" || b.nodes === "0"),
    );
    if (!capped)
      report(
        `${args.name}: disruption budgets ${JSON.stringify(disruption.budgets ?? "unset (10%)")}; replace one node at a time (nodes: "1")`,
      );
  },
};

export const KARPENTER_POLICIES: ResourceValidationPolicy[] = [
  karpenterNodeClassesSafe,
  karpenterGpuPoolsDisruptGently,
];
