/**
 * KServe multi-model serving: many small models loaded by one server's pods (its model agent pulls each
 * TrainedModel), so hundreds of models do not each need a pod. Triton and KServe's sklearn server
 * support it (KServe docs, "Multi Model Serving").
 */
import type { K8sObject } from "../k8s";
import { customObject, PART_OF } from "../k8s";
import type { Runtime, TrainedModelConfig } from "../schema";
import type { ModelConfig } from "../plannedModel";

export const MULTI_MODEL_RUNTIMES: readonly Runtime[] = ["triton", "sklearn"];

export function trainedModel(
  host: Pick<ModelConfig, "name" | "namespace" | "runtime" | "format">,
  t: TrainedModelConfig,
): K8sObject {
  return customObject("serving.kserve.io/v1alpha1/TrainedModel", {
    metadata: {
      name: t.name,
      namespace: host.namespace,
      labels: { ...PART_OF, "inference-platform/model": host.name },
    },
    spec: {
      inferenceService: host.name,
      model: {
        storageUri: t.storageUri,
        framework: t.framework ?? (host.runtime === "triton" ? (host.format ?? "triton") : host.runtime),
        memory: t.memory,
      },
    },
  });
}
