/**
 * Multi-node models in prod (models/serving/llmdPipelineParallel.ts, multiNode.ts): a replica whose pipeline stages sit on
 * different nodes exchanges activations on every token, so prod runs them on EFA pools.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { stackEnvironment } from "./environment";
import { LABELS } from "../../models/cluster/nodePools";
import { K8S, nameOf, predictorOf } from "./k8s";
import { nodeGroupOfPool } from "./pools";

type PodSpec = { nodeSelector?: Record<string, string> };

export const multiNodeOnEfaInProd: StackValidationPolicy = {
  name: "multi-node-on-efa-in-prod",
  description:
    "A model served across nodes (an LLMInferenceService's spec.worker, an InferenceService's predictor.workerSpec) runs on an EFA node group in prod. Applies to prod stacks only.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    if (stackEnvironment(args.resources) !== "prod") return;
    const spanning = args.resources.flatMap((r) => {
      if (r.type === K8S.llmisvc) {
        const spec = (r.props.spec ?? {}) as { worker?: PodSpec; template?: PodSpec };
        return spec.worker
          ? [
              {
                r,
                pool: spec.worker.nodeSelector?.[LABELS.pool] ?? spec.template?.nodeSelector?.[LABELS.pool],
              },
            ]
          : [];
      }
      if (r.type !== K8S.isvc) return [];
      const predictor = predictorOf(r.props);
      if (!predictor.workerSpec) return [];
      return [
        {
          r,
          pool: predictor.workerSpec.nodeSelector?.[LABELS.pool] ?? predictor.nodeSelector?.[LABELS.pool],
        },
      ];
    });
    for (const { r, pool } of spanning) {
      const group = nodeGroupOfPool(args.resources, pool);
      const nodeLabels = (group?.props.labels as Record<string, string> | undefined) ?? {};
      if (nodeLabels[LABELS.efa] !== "true")
        report(
          `${nameOf(r.props)}: served across nodes on pool "${pool ?? "?"}", which ${group ? "has no EFA (efa: true)" : "is no managed node group of this stack (EFA pools are managed node groups)"}`,
        );
    }
  },
};
