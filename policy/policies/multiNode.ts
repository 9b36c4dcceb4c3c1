/**
 * Multi-node models in prod (models/serving/llmdPipelineParallel.ts, multiNode.ts): a replica whose pipeline stages sit on
 * different nodes exchanges activations on every token, so prod runs them on EFA pools.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { stackEnvironment } from "./environment";
import { LABELS } from "../../models/cluster/nodePools";
import { K8S, llmdRoles, nameOf, predictorOf } from "./k8s";
import { nodeGroupOfPool } from "./pools";

type PodSpec = { nodeSelector?: Record<string, string> };

export const multiNodeOnEfaInProd: StackValidationPolicy = {
  name: "multi-node-on-efa-in-prod",
  description:
    "A model served across nodes (an LLMInferenceService's spec.worker, an InferenceService's predictor.workerSpec) runs on an EFA node group in prod. Applies to prod stacks only.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    if (stackEnvironment(args.resources) !== "prod") return;
    // The pool of each model's worker pods (an LLMInferenceService's LeaderWorkerSet workers, an
    // InferenceService's Ray workers).
    const spanning = args.resources.flatMap((r) => {
      const worker =
        r.type === K8S.llmisvc
          ? (llmdRoles(r.props).find((role) => role.role === "worker")?.template as PodSpec | undefined)
          : r.type === K8S.isvc
            ? predictorOf(r.props).workerSpec
            : undefined;
      return worker ? [{ r, pool: worker.nodeSelector?.[LABELS.pool] }] : [];
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
