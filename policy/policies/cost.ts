/**
 * Cost policies: which GPU instance types a stack may use, and how many GPUs a model and a stack may claim.
 */
import { environmentOf } from "./environment";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { GPU_INSTANCES } from "../../models/capacity/gpuInstances";
import { isGpuInstanceType } from "./cluster";
import { gpuLimit, K8S, nameOf, podViews, predictorOf, withDefaults } from "./k8s";

type Props = Record<string, unknown>;
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const COST_DEFAULTS = {
  allowedInstanceTypes: Object.keys(GPU_INSTANCES),
  maxGpusPerModel: 32,
  maxGpusPerStack: 64,
};

export const gpuInstanceAllowlist: ResourceValidationPolicy = {
  name: "gpu-instance-allowlist",
  description: "GPU node groups use instance types from the stack's allow-list.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedInstanceTypes: {
        type: "array",
        items: { type: "string" },
        default: COST_DEFAULTS.allowedInstanceTypes,
      },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== NODE_GROUP) return;
    const { allowedInstanceTypes } = withDefaults(COST_DEFAULTS, args.getConfig());
    for (const t of ((args.props as Props).instanceTypes as string[] | undefined) ?? [])
      if (isGpuInstanceType(t) && !allowedInstanceTypes.includes(t))
        report(
          `${args.name}: ${t} is not an allowed GPU instance type here (allowed: ${allowedInstanceTypes.join(", ")})`,
        );
  },
};

export const maxGpusPerModel: ResourceValidationPolicy = {
  name: "max-gpus-per-model",
  description: "A model claims at most maxGpusPerModel GPUs at its maximum replicas.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: { maxGpusPerModel: { type: "integer", default: COST_DEFAULTS.maxGpusPerModel } },
  },
  validateResource: (args, report) => {
    if (args.type !== K8S.isvc) return;
    const { maxGpusPerModel } = withDefaults(COST_DEFAULTS, args.getConfig());
    const props = args.props as Props;
    const predictor = predictorOf(props);
    const perReplica = podViews(args.type, props)
      .filter((v) => v.at === "spec.predictor")
      .flatMap((v) => v.containers)
      .reduce((s, c) => s + gpuLimit(c), 0);
    const total = perReplica * (predictor.maxReplicas ?? predictor.minReplicas ?? 1);
    if (total > maxGpusPerModel)
      report(
        `${nameOf(props)}: up to ${total} GPUs (${perReplica} × ${predictor.maxReplicas ?? 1} replicas); the limit is ${maxGpusPerModel}`,
      );
  },
};

function groupGpus(props: Props): number {
  const type = ((props.instanceTypes as string[] | undefined) ?? [])[0] ?? "";
  const max = ((props.scalingConfig as Props | undefined)?.maxSize as number | undefined) ?? 0;
  return (GPU_INSTANCES[type]?.gpus ?? 0) * max;
}

export const maxGpusPerStack: StackValidationPolicy = {
  name: "max-gpus-per-stack",
  description: "The stack's GPU node groups can grow to at most maxGpusPerStack GPUs.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: { maxGpusPerStack: { type: "integer", default: COST_DEFAULTS.maxGpusPerStack } },
  },
  validateStack: (args, report) => {
    const { maxGpusPerStack } = withDefaults(COST_DEFAULTS, args.getConfig());
    const groups = args.resources.filter((r) => r.type === NODE_GROUP);
    const total = groups.reduce((s, g) => s + groupGpus(g.props), 0);
    if (total > maxGpusPerStack)
      report(
        `GPU node groups can grow to ${total} GPUs (${groups
          .filter((g) => groupGpus(g.props) > 0)
          .map((g) => `${g.name} ${groupGpus(g.props)}`)
          .join(", ")}); the limit is ${maxGpusPerStack}`,
      );
  },
};

export const devSpotGpuPools: ResourceValidationPolicy = {
  name: "dev-spot-gpu-pools",
  description: "Dev GPU pools run on spot capacity (advisory; dev stacks only: prod serves from on-demand).",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    if (args.type !== NODE_GROUP || environmentOf(args.props) !== "dev") return;
    const p = args.props as { instanceTypes?: string[]; capacityType?: string };
    if ((p.instanceTypes ?? []).some(isGpuInstanceType) && p.capacityType !== "SPOT")
      report(
        `${args.name}: a dev GPU pool on ${p.capacityType ?? "ON_DEMAND"} capacity; spot costs about a third`,
      );
  },
};

export const COST_RESOURCE_POLICIES: ResourceValidationPolicy[] = [
  gpuInstanceAllowlist,
  maxGpusPerModel,
  devSpotGpuPools,
];
export const COST_STACK_POLICIES: StackValidationPolicy[] = [maxGpusPerStack];
