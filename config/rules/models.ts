/**
 * Per-model rules, one concern each: storage, runtime vs hardware, engine settings, autoscaling and
 * rollouts. Each returns every problem it finds with its key path under `at` (models[i]).
 */
import type { PlatformInput } from "../schema";
import type { Problem } from "../problems";
import { HPA_TRIGGERS, KEDA_TRIGGERS, KPA_TRIGGERS, isLlm, type ModelInput } from "../../models/schema";
import { defaultDeploymentMode } from "../../models/serving/resolve";
import { isStorageError, parseStorageUri } from "../../models/serving/storage";
import { effectiveMaxStep } from "../../models/rollout/schedule";
import { TRIGGER_RUNTIME } from "../../models/serving/autoscaling";
import {
  autoscalingRangeProblems,
  batcherProblems,
  engineFlagProblems,
  scaleToZeroProblems,
  trainedModelStorageProblems,
} from "../servingRules";

/** Storage URIs of the model, its candidate, TrainedModels and batch jobs; the Hugging Face token it names. */
export function storageProblems(cfg: PlatformInput, model: ModelInput, at: string): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const uris: Array<[string, string]> = [];
  if (model.storageUri) uris.push([`${at}.storageUri`, model.storageUri]);
  if (model.rollout) uris.push([`${at}.rollout.candidate.storageUri`, model.rollout.candidate.storageUri]);
  (model.trainedModels ?? []).forEach((t, j) =>
    uris.push([`${at}.trainedModels[${j}].storageUri`, t.storageUri]),
  );
  model.batchJobs.forEach((j, k) => {
    uris.push([`${at}.batchJobs[${k}].input`, j.input], [`${at}.batchJobs[${k}].output`, j.output]);
  });
  for (const [path, uri] of uris) {
    const parsed = parseStorageUri(uri);
    if (isStorageError(parsed)) add(path, parsed.error);
    else if (
      parsed.scheme === "hf" &&
      model.hfTokenSecret &&
      !cfg.secretNames.includes(model.hfTokenSecret)
    ) {
      add(
        `${at}.hfTokenSecret`,
        `no secret "${model.hfTokenSecret}" under inference-platform:secrets (have: ${cfg.secretNames.join(", ") || "none"}); set it with pulumi config set --secret --path 'secrets.${model.hfTokenSecret}'`,
      );
    }
  }

  return problems;
}

/** The runtime against the hardware: GPUs for LLMs, CPU for the tree models, pools that exist. */
export function hardwareProblems(cfg: PlatformInput, model: ModelInput, at: string): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const env = cfg.environment;
  const llm = isLlm(model);
  if (llm && !model.gpu)
    add(`${at}.gpu`, `${model.runtime} serves LLMs on NVIDIA GPUs; set gpu: {pool: <name>} or gpu: auto`);
  if (["sklearn", "xgboost", "lightgbm"].includes(model.runtime) && model.gpu)
    add(`${at}.gpu`, `${model.runtime} runs on CPU; remove gpu`);
  if (model.runtime === "triton" && !model.format)
    add(
      `${at}.format`,
      "Triton needs the model format of its repository: onnx, tensorrt, pytorch, tensorflow or triton",
    );
  if (model.runtime !== "triton" && model.format)
    add(`${at}.format`, `format applies to Triton only; ${model.runtime} has one format`);
  if (model.gpu && env === "local")
    add(`${at}.gpu`, "the local stack is CPU-only; remove gpu or deploy this model to dev");
  if (model.gpu && model.gpu !== "auto") {
    const gpu = model.gpu;
    if (!cfg.gpuPools.some((p) => p.name === gpu.pool))
      add(
        `${at}.gpu.pool`,
        `no GPU pool "${gpu.pool}" (pools: ${cfg.gpuPools.map((p) => p.name).join(", ") || "none"})`,
      );
  }
  // LLM runtimes other than vLLM are told by the multi-node rules (their replicas may be planned across nodes).
  if (model.gpu && model.gpu !== "auto" && model.gpu.nodes !== undefined && !isLlm(model))
    add(
      `${at}.gpu.nodes`,
      `only vLLM models span nodes (KServe's multi-node runtime is the Hugging Face server's vLLM backend); ${model.runtime} runs on one node per replica`,
    );
  if (model.gpu === "auto" && cfg.gpuPools.length === 0)
    add(`${at}.gpu`, "gpu: auto chooses among gpuPools, and there are none");
  if (!llm && model.architecture !== undefined)
    add(
      `${at}.architecture`,
      `architecture sizes LLM runtimes (vllm, tgi); ${model.runtime} does not use it`,
    );

  return problems;
}

/** Engine settings only where the runtime reads them. */
export function engineProblems(model: ModelInput, at: string): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const llm = isLlm(model);
  const engine = model.engine;
  if (!llm) {
    for (const key of [
      "quantization",
      "maxModelLen",
      "gpuMemoryUtilization",
      "maxNumSeqs",
      "maxNumBatchedTokens",
      "tensorParallelSize",
      "speculative",
    ] as const) {
      if (engine[key] !== undefined)
        add(
          `${at}.engine.${key}`,
          `engine settings apply to LLM runtimes (vllm, tgi); ${model.runtime} does not use ${key}`,
        );
    }
  }
  if (model.runtime !== "vllm" && engine.loadFormat !== "auto")
    add(
      `${at}.engine.loadFormat`,
      `${engine.loadFormat} is a vLLM load format; ${model.runtime} reads checkpoints its own way`,
    );
  if (model.runtime === "tgi" && engine.dtype === "float32")
    add(`${at}.engine.dtype`, "TGI serves float16 or bfloat16 only");
  if (model.runtime === "tgi" && engine.speculative && engine.speculative.method !== "ngram")
    add(
      `${at}.engine.speculative.method`,
      `TGI supports n-gram speculation (--speculate) and Medusa heads baked into the model; ${engine.speculative.method} needs vllm`,
    );
  if (model.batcher && llm)
    add(
      `${at}.batcher`,
      `${model.runtime} batches continuously on its own (engine.maxNumSeqs); the KServe request batcher would only add latency`,
    );

  return problems;
}

/** Replicas and triggers against the deployment mode and the add-ons that serve them. */
export function autoscalingProblems(cfg: PlatformInput, model: ModelInput, at: string): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const env = cfg.environment;
  const addons = cfg.addons;
  const mode = defaultDeploymentMode(model);
  const llm = isLlm(model);
  const scaling = model.autoscaling;
  if (scaling.minReplicas > scaling.maxReplicas)
    add(
      `${at}.autoscaling.minReplicas`,
      `minReplicas (${scaling.minReplicas}) exceeds maxReplicas (${scaling.maxReplicas})`,
    );
  if (scaling.minReplicas === 0 && llm && env === "prod")
    add(
      `${at}.autoscaling.minReplicas`,
      "prod never scales an LLM to zero: a cold start (node boot + image pull + weight load) takes minutes; use minReplicas >= 1",
    );
  if (scaling.minReplicas === 1 && env === "prod" && !scaling.outageOnNodeLoss)
    add(
      `${at}.autoscaling.minReplicas`,
      "prod runs at least 2 replicas, spread across nodes, so one node loss does not stop the model; or accept the outage with autoscaling.outageOnNodeLoss: '<why>'",
    );
  if (mode === "Knative" && addons.knative.enabled === false)
    add(`${at}.deploymentMode`, "Knative mode needs addons.knative.enabled (true or auto)");
  scaling.triggers.forEach((t, j) => {
    const path = `${at}.autoscaling.triggers[${j}].type`;
    if ((KEDA_TRIGGERS as readonly string[]).includes(t.type)) {
      if (mode !== "Standard")
        add(
          path,
          `${t.type} scales through KEDA, which KServe supports only in Standard mode (this model is ${mode}); use concurrency or rps, or deploymentMode: Standard`,
        );
      if (!addons.keda.enabled) add(path, `${t.type} scales through KEDA; enable addons.keda`);
      if (t.type === "gpuUtilization" && !(addons.dcgmExporter.enabled && addons.monitoring.enabled))
        add(
          path,
          "gpuUtilization reads DCGM_FI_DEV_GPU_UTIL; enable addons.dcgmExporter and addons.monitoring",
        );
      if (t.type === "gpuUtilization" && !model.gpu) add(path, "gpuUtilization needs a GPU model");
      const exporter = TRIGGER_RUNTIME[t.type];
      if (exporter && model.runtime !== exporter)
        add(path, `${t.type} reads ${exporter}'s own metrics; ${model.runtime} does not export them`);
      if (t.type !== "gpuUtilization" && !addons.monitoring.enabled)
        add(path, `${t.type} is read from Prometheus; enable addons.monitoring`);
    } else if ((KPA_TRIGGERS as readonly string[]).includes(t.type)) {
      if (mode !== "Knative")
        add(
          path,
          `${t.type} is a Knative (KPA) metric; this model is ${mode}. Use a KEDA trigger (e.g. queueDepth) or deploymentMode: Knative`,
        );
    } else if ((HPA_TRIGGERS as readonly string[]).includes(t.type)) {
      if (model.gpu)
        add(path, `${t.type} does not reflect GPU load; GPU models scale on queue depth or GPU utilization`);
    }
  });
  const kpaCount = scaling.triggers.filter((t) =>
    (KPA_TRIGGERS as readonly string[]).includes(t.type),
  ).length;
  if (kpaCount > 1)
    add(`${at}.autoscaling.triggers`, "Knative's KPA scales on one metric (concurrency or rps), not several");
  scaleToZeroProblems(model, at, mode, addons, add);
  batcherProblems(model, at, mode, add);
  trainedModelStorageProblems(model, at, add);
  engineFlagProblems(model, at, add);
  autoscalingRangeProblems(model, at, add);
  if (model.deploymentMode === "Knative" && model.gpu && llm)
    add(
      `${at}.deploymentMode`,
      "LLMs run in Standard mode: Knative's request timeouts and progress deadline fight multi-minute loads, and KEDA queue-depth scaling needs Standard",
    );

  return problems;
}

/** Rollout modes, matches and steps. */
export function rolloutProblems(cfg: PlatformInput, model: ModelInput, at: string): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const env = cfg.environment;
  const mode = defaultDeploymentMode(model);
  const r = model.rollout;
  if (r) {
    if (mode === "Knative" && r.mode !== "canary")
      add(
        `${at}.rollout.mode`,
        `${r.mode} needs platform-owned routing (two InferenceServices and an Istio VirtualService), which the platform builds in Standard mode only; Knative mode supports canary`,
      );
    if (r.mode === "ab" && !r.match)
      add(`${at}.rollout.match`, "A/B routing needs match: {header | cookie, value}");
    if (r.match && !r.match.header && !r.match.cookie) add(`${at}.rollout.match`, "set header or cookie");
    if (r.match && r.match.header && r.match.cookie)
      add(`${at}.rollout.match`, "set header or cookie, not both");
    if (r.mode !== "ab" && r.match) add(`${at}.rollout.match`, `match applies to mode ab, not ${r.mode}`);
    if (r.mode === "blueGreen" && r.percent !== 0)
      add(
        `${at}.rollout.percent`,
        "blue/green switches all traffic with rollout.active; percent must stay 0",
      );
    const steps = r.steps;
    for (let s = 1; s < steps.length; s++)
      if (steps[s]! <= steps[s - 1]!)
        add(`${at}.rollout.steps`, `steps must increase (got ${steps.join(", ")})`);
    const maxStep = effectiveMaxStep(r, env);
    const from = (k: number) => (k === 0 ? 0 : steps[k - 1]!);
    const big = maxStep === undefined ? -1 : steps.findIndex((v, k) => v - from(k) > maxStep);
    if (big >= 0)
      add(
        `${at}.rollout.steps`,
        `step ${big + 1} (${from(big)} -> ${steps[big]}%) exceeds the max step of ${maxStep} points${r.maxStep === undefined ? " (prod's default; set rollout.maxStep to change it)" : ""}`,
      );
    if (r.maxStep !== undefined && env !== "prod")
      add(`${at}.rollout.maxStep`, `maxStep guards prod rollouts; ${env} does not enforce it`);
  }
  return problems;
}

const ADAPTER_SCHEMES = ["s3://", "hf://", "gs://", "https://", "pvc://"];

/** LoRA adapters: vLLM only, downloadable, named apart from each other and from the model. */
export function adapterProblems(model: ModelInput, at: string): Problem[] {
  if (model.adapters.length === 0) return [];
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${at}.${path}`, message });
  if (model.runtime !== "vllm")
    add(
      "adapters",
      `LoRA adapters are served by vLLM (--enable-lora); ${model.runtime} is not wired for them`,
    );
  if (model.trainedModels) add("adapters", "a multi-model server (trainedModels) takes no LoRA adapters");
  if (model.deploymentMode === "Knative")
    add(
      "adapters",
      "adapters download through the predictor's storageUris, whose init container Knative mode refuses unless its init-container feature is on; use Standard",
    );
  const seen = new Set<string>([model.name]);
  model.adapters.forEach((a, j) => {
    if (seen.has(a.name))
      add(
        `adapters[${j}].name`,
        `"${a.name}" is already served by this model (${a.name === model.name ? "the base model's name" : "another adapter"}); requests pick an adapter by its name`,
      );
    seen.add(a.name);
    if (!ADAPTER_SCHEMES.some((p) => a.storageUri.startsWith(p)))
      add(
        `adapters[${j}].storageUri`,
        `must be one of ${ADAPTER_SCHEMES.join(", ")} (what KServe's storage initializer fetches)`,
      );
  });
  return problems;
}
