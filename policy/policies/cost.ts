/**
 * Cost policies: which GPU instance types a stack may use, and how many GPUs a model and a stack may claim.
 */
import { environmentOf } from "./environment";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { GPU_INSTANCES } from "../../models/capacity/gpuInstances";
import { isGpuInstanceType } from "./cluster";
import { gpuLimit, K8S, llmdRoles, nameOf, podViews, predictorOf, withDefaults } from "./k8s";
import { poolView, poolViews } from "./pools";

type Props = Record<string, unknown>;
const COST_DEFAULTS = {
  allowedInstanceTypes: Object.keys(GPU_INSTANCES),
  maxGpusPerModel: 32,
  maxGpusPerStack: 64,
};

export const gpuInstanceAllowlist: ResourceValidationPolicy = {
  name: "gpu-instance-allowlist",
  description:
    "GPU pools (managed node groups or Karpenter NodePools) use instance types from the stack's allow-list.",
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
    const pool = poolView(args.type, args.props as Props);
    if (!pool) return;
    const { allowedInstanceTypes } = withDefaults(COST_DEFAULTS, args.getConfig());
    for (const t of pool.instanceTypes)
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
    if (args.type !== K8S.isvc && args.type !== K8S.llmisvc) return;
    const { maxGpusPerModel } = withDefaults(COST_DEFAULTS, args.getConfig());
    const props = args.props as Props;
    const views = podViews(args.type, props);
    const gpusOf = (at: string) =>
      views
        .filter((v) => v.at === at)
        .flatMap((v) => v.containers)
        .reduce((s, c) => s + gpuLimit(c), 0);
    if (args.type === K8S.llmisvc) {
      // llm-d: decode pods at their maximum, and prefill pods.
      const roles = llmdRoles(props).map((r) => ({ role: r.role, gpus: gpusOf(r.at) * r.maxReplicas }));
      const total = roles.reduce((s, r) => s + r.gpus, 0);
      if (total > maxGpusPerModel)
        report(
          `${nameOf(props)}: ${total} GPUs (${roles.map((r) => `${r.role} ${r.gpus}`).join(", ")}); the limit is ${maxGpusPerModel}`,
        );
      return;
    }
    const predictor = predictorOf(props);
    // A multi-node replica: the head and pipelineParallelSize − 1 worker pods.
    const worker = predictor.workerSpec;
    const perReplica =
      gpusOf("spec.predictor") +
      gpusOf("spec.predictor.workerSpec") * ((worker?.pipelineParallelSize ?? 1) - 1);
    const total = perReplica * (predictor.maxReplicas ?? predictor.minReplicas ?? 1);
    if (total > maxGpusPerModel)
      report(
        `${nameOf(props)}: up to ${total} GPUs (${perReplica} × ${predictor.maxReplicas ?? 1} replicas); the limit is ${maxGpusPerModel}`,
      );
  },
};

export const maxGpusPerStack: StackValidationPolicy = {
  name: "max-gpus-per-stack",
  description:
    "The stack's GPU pools can grow to at most maxGpusPerStack GPUs (a NodePool without a GPU limit is unbounded).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: { maxGpusPerStack: { type: "integer", default: COST_DEFAULTS.maxGpusPerStack } },
  },
  validateStack: (args, report) => {
    const { maxGpusPerStack } = withDefaults(COST_DEFAULTS, args.getConfig());
    const pools = poolViews(args.resources).filter((p) => p.view.maxGpus > 0);
    const total = pools.reduce((s, p) => s + p.view.maxGpus, 0);
    if (total > maxGpusPerStack)
      report(
        `GPU pools can grow to ${total} GPUs (${pools
          .map(
            (p) =>
              `${p.name} ${Number.isFinite(p.view.maxGpus) ? p.view.maxGpus : "unbounded: no nvidia.com/gpu limit"}`,
          )
          .join(", ")}); the limit is ${maxGpusPerStack}`,
      );
  },
};

export const devSpotGpuPools: ResourceValidationPolicy = {
  name: "dev-spot-gpu-pools",
  description: "Dev GPU pools run on spot capacity (advisory; dev stacks only: prod serves from on-demand).",
  enforcementLevel: "advisory",
  validateResource: (args, report) => {
    const pool = poolView(args.type, args.props as Props);
    if (!pool || environmentOf(args.props) !== "dev") return;
    if (pool.instanceTypes.some(isGpuInstanceType) && pool.capacityType !== "SPOT")
      report(
        `${args.name}: a dev GPU pool on ${pool.capacityType ?? "on-demand and spot"} capacity; spot costs about a third`,
      );
  },
};

export const COST_RESOURCE_POLICIES: ResourceValidationPolicy[] = [
  gpuInstanceAllowlist,
  maxGpusPerModel,
  devSpotGpuPools,
];
export const COST_STACK_POLICIES: StackValidationPolicy[] = [maxGpusPerStack];
