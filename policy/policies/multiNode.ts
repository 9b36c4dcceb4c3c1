/**
 * Multi-node models in prod (models/serving/multiNode.ts): a replica whose pipeline stages sit on
 * different nodes exchanges activations on every token, so prod runs them on EFA pools.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { stackEnvironment } from "./environment";
import { LABELS } from "../../models/cluster/nodePools";
import { K8S, nameOf, predictorOf } from "./k8s";
import { nodeGroupOfPool } from "./pools";

export const multiNodeOnEfaInProd: StackValidationPolicy = {
  name: "multi-node-on-efa-in-prod",
  description:
    "A model served across nodes (predictor.workerSpec) runs on an EFA node group in prod. Applies to prod stacks only.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    if (stackEnvironment(args.resources) !== "prod") return;
    for (const isvc of args.resources.filter((r) => r.type === K8S.isvc)) {
      const predictor = predictorOf(isvc.props);
      if (!predictor.workerSpec) continue;
      const pool = predictor.workerSpec.nodeSelector?.[LABELS.pool] ?? predictor.nodeSelector?.[LABELS.pool];
      const group = nodeGroupOfPool(args.resources, pool);
      const nodeLabels = (group?.props.labels as Record<string, string> | undefined) ?? {};
      if (nodeLabels[LABELS.efa] !== "true")
        report(
          `${nameOf(isvc.props)}: served across nodes on pool "${pool ?? "?"}", which ${group ? "has no EFA (efa: true)" : "is no managed node group of this stack (EFA pools are managed node groups)"}`,
        );
    }
  },
};
