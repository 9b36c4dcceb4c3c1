/**
 * Rules that keep a model's serving config from deploying into something that does nothing or cannot
 * run, each checked against what the pinned upstream components really do (cited per rule).
 */
import type { PlatformInput } from "./schema";
import type { DeploymentMode, ModelInput } from "../models/schema";
import { runtimeSpec } from "../models/serving/runtimes";
import { isStorageError, parseStorageUri } from "../models/serving/storage";
import { isKnownHuggingFaceServerFlag } from "../models/serving/vllmFlags";
import { suggestion } from "./suggest";

type Add = (path: string, message: string) => void;

/**
 * Scale to zero in Standard mode: at zero replicas a model's own series do not exist, and KEDA reads
 * an empty result as 0, so only a signal outside the model can wake it — the ingress gateway's
 * request metrics (models/serving/autoscaling.ts gatewayRequestsQuery), which need Prometheus and Istio.
 */
export function scaleToZeroProblems(
  model: ModelInput,
  at: string,
  mode: DeploymentMode,
  addons: PlatformInput["addons"],
  add: Add,
): void {
  if (model.autoscaling.minReplicas !== 0 || mode !== "Standard") return;
  if (!addons.monitoring.enabled || !addons.keda.enabled)
    add(
      `${at}.autoscaling.minReplicas`,
      "scale to zero in Standard mode wakes the model on requests seen at the ingress gateway, read from Prometheus by KEDA: enable addons.monitoring and addons.keda, or keep minReplicas >= 1",
    );
}

/**
 * KServe's request batcher batches only v1 `:predict` requests (kserve pkg/batcher/handler.go 223-227)
 * and fires a batch when maxBatchSize instances arrive or maxLatency passes; a pod that never holds
 * maxBatchSize concurrent requests waits maxLatency on every batch.
 */
export function batcherProblems(model: ModelInput, at: string, mode: DeploymentMode, add: Add): void {
  if (!model.batcher) return;
  const protocol = model.protocol ?? runtimeSpec(model.runtime, model.format).protocol;
  if (protocol !== "v1")
    add(
      `${at}.batcher`,
      `KServe's batcher batches only protocol v1 :predict requests; ${model.runtime} here speaks ${protocol}, so it would add latency and batch nothing${model.runtime === "triton" ? " (Triton batches on its own: dynamic_batching in config.pbtxt)" : ""}`,
    );
  const concurrency = model.autoscaling.triggers.find((t) => t.type === "concurrency");
  if (
    mode === "Knative" &&
    concurrency &&
    concurrency.type === "concurrency" &&
    model.batcher.maxBatchSize > concurrency.target
  )
    add(
      `${at}.batcher.maxBatchSize`,
      `${model.batcher.maxBatchSize} is above the concurrency target (${concurrency.target}) Knative keeps each pod at: batches would never fill and every one would wait maxLatencyMs`,
    );
}

/** KServe's TrainedModel webhook accepts s3://, gs://, http(s):// only (kserve pkg/agent/storage/provider.go 26-36). */
export function trainedModelStorageProblems(model: ModelInput, at: string, add: Add): void {
  (model.trainedModels ?? []).forEach((t, j) => {
    const parsed = parseStorageUri(t.storageUri);
    if (!isStorageError(parsed) && parsed.scheme !== "s3" && parsed.scheme !== "gs")
      add(
        `${at}.trainedModels[${j}].storageUri`,
        `KServe's model agent loads TrainedModels from s3:// or gs:// only (its webhook refuses ${parsed.scheme}://)`,
      );
  });
}

/** Every `--flag` in a vLLM model's args must be one the pinned server parses (unknown ones are dropped silently). */
export function engineFlagProblems(model: ModelInput, at: string, add: Add): void {
  if (model.runtime !== "vllm") return;
  const lists: Array<[string, readonly string[]]> = [
    [`${at}.args`, model.args],
    [`${at}.engine.extraArgs`, model.engine.extraArgs],
    [`${at}.rollout.candidate.args`, model.rollout?.candidate.args ?? []],
    [`${at}.rollout.candidate.engine.extraArgs`, model.rollout?.candidate.engine?.extraArgs ?? []],
  ];
  for (const [path, args] of lists)
    args.forEach((arg, k) => {
      if (!arg.startsWith("--")) return;
      const flag = arg.split("=")[0]!;
      if (!isKnownHuggingFaceServerFlag(flag))
        add(
          `${path}[${k}]`,
          `${flag} is not a flag of vLLM 0.24.0 or KServe's Hugging Face server${suggestion(flag, knownFlagsLike(flag))}; the server would drop it silently`,
        );
    });
}

function knownFlagsLike(flag: string): string[] {
  // Candidates for "did you mean": the same words with - and _ swapped are the common slip.
  const swapped = [flag.replace(/_/g, "-"), flag.replace(/-/g, "_").replace(/^__/, "--")];
  return swapped.filter(isKnownHuggingFaceServerFlag);
}

/** Autoscaling that cannot scale: triggers set, but no room between minReplicas and maxReplicas. */
export function autoscalingRangeProblems(model: ModelInput, at: string, add: Add): void {
  const a = model.autoscaling;
  if (a.triggers.length > 0 && a.maxReplicas === a.minReplicas)
    add(
      `${at}.autoscaling.maxReplicas`,
      `triggers are set but maxReplicas equals minReplicas (${a.minReplicas}): nothing would scale; raise maxReplicas or remove the triggers for a fixed size`,
    );
  for (const c of ["transformer", "explainer"] as const) {
    const comp = model[c];
    if (comp && comp.minReplicas > comp.maxReplicas)
      add(
        `${at}.${c}.minReplicas`,
        `minReplicas (${comp.minReplicas}) exceeds maxReplicas (${comp.maxReplicas})`,
      );
  }
}
