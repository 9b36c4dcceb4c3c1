/**
 * Names derived from config. Kubernetes names are never truncated (a too-long model name is a config
 * error), so two models can't collide; AWS names with tighter limits (IAM roles: 64) are shortened
 * with a hash of the full name, which keeps them stable and distinct.
 */
import { createHash } from "node:crypto";

/** Longest derived Kubernetes name is Knative's `<isvc>-predictor-00001-private` (name + 24 ≤ 63). */
export const MAX_MODEL_NAME_LENGTH = 39;

export function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Joins parts with '-'; when longer than `max`, keeps a prefix and appends a hash of the whole. */
export function boundedName(parts: readonly string[], max: number): string {
  const full = parts.filter((p) => p !== "").join("-");
  if (full.length <= max) return full;
  const hash = shortHash(full);
  return `${full.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** Name of the candidate InferenceService of a Standard-mode rollout. */
export function candidateName(model: string): string {
  return `${model}-canary`;
}

export type KServeComponent = "predictor" | "transformer" | "explainer";

/**
 * The Deployment and Service KServe creates for a component of an InferenceService in Standard mode:
 * `<isvc>-<component>` (kserve pkg/constants/constants.go PredictorServiceName and friends).
 */
export function componentName(isvc: string, component: KServeComponent): string {
  return `${isvc}-${component}`;
}

/** The Deployment KServe creates for an InferenceService's predictor in Standard mode. */
export function predictorDeploymentName(isvc: string): string {
  return componentName(isvc, "predictor");
}

/**
 * The Deployments KServe's llmisvc controller creates for an LLMInferenceService: `<name>-kserve` (decode,
 * or serving when prefill is not split off), `<name>-kserve-prefill` and the endpoint picker
 * `<name>-kserve-router-scheduler` (pkg/controller/v1alpha2/llmisvc/workload_single_node.go 511-517,
 * scheduler.go 1612-1614).
 */
export function llmdDeploymentName(model: string, role: "decode" | "prefill" | "scheduler"): string {
  return {
    decode: `${model}-kserve`,
    prefill: `${model}-kserve-prefill`,
    scheduler: `${model}-kserve-router-scheduler`,
  }[role];
}

/**
 * The LeaderWorkerSet KServe's llmisvc controller creates for a model over several nodes
 * (kmeta.ChildName(name, "-kserve-mn"), workload_multi_node.go 663-665; no hash below 63 characters).
 */
export function llmdLeaderWorkerSetName(model: string): string {
  return `${model}-kserve-mn`;
}
