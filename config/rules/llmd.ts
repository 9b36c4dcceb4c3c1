/**
 * llm-d models (models[].llmd, models/serving/llmInferenceService.ts): what KServe v0.20.0's
 * LLMInferenceService and the platform's wiring of it accept, said before anything is deployed.
 */
import type { Problem } from "../problems";
import type { PlatformInput } from "../schema";
import type { ModelInput } from "../../models/schema";
import { isStorageError, parseStorageUri } from "../../models/serving/storage";

/**
 * Storage the llmisvc controller fetches: pvc:// mounted, oci:// as a modelcar, hf:// and s3:// through
 * the storage initializer (pkg/controller/v1alpha2/llmisvc/workload_storage.go 131-203).
 */
const LLMD_SCHEMES = ["hf", "s3", "pvc", "oci"];

/** Adapters the llmisvc controller fetches: hf:// and s3:// by the storage initializer, pvc:// mounted. */
const LLMD_ADAPTER_SCHEMES = ["hf", "s3", "pvc"];

/** Flags llm-d's preset gives `vllm serve` itself. */
const PRESET_FLAGS = [
  "--port",
  "--served-model-name",
  "--served_model_name",
  "--tensor-parallel-size",
  "--tensor_parallel_size",
  "-tp",
];

/** Which of a preset's own `vllm serve` flags the model's `args` and `engine.extraArgs` give again. */
export function presetFlagsGiven(
  model: Pick<ModelInput, "args" | "engine">,
  presetFlags: readonly string[],
): Array<{ key: "args" | "engine.extraArgs"; taken: string[] }> {
  return (
    [
      ["args", model.args],
      ["engine.extraArgs", model.engine.extraArgs],
    ] as const
  )
    .map(([key, flags]) => ({
      key,
      taken: flags.filter((f) => presetFlags.some((p) => f === p || f.startsWith(`${p}=`))),
    }))
    .filter((given) => given.taken.length > 0);
}

export function llmdProblems(cfg: PlatformInput, model: ModelInput, at: string): Problem[] {
  if (!model.llmd) return [];
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `${at}.${path}`, message });
  if (model.runtime !== "vllm")
    add("runtime", `llmd serves vLLM (llm-d's presets run vllm serve); this model is ${model.runtime}`);
  if (model.deploymentMode === "Knative")
    add(
      "deploymentMode",
      "llmd models are Deployments the llmisvc controller owns; leave deploymentMode out",
    );
  if (!model.gpu) add("gpu", "llmd serves on GPUs: set gpu (a pool, or auto)");
  const parsed = model.storageUri ? parseStorageUri(model.storageUri) : undefined;
  if (parsed && !isStorageError(parsed) && !LLMD_SCHEMES.includes(parsed.scheme))
    add(
      "storageUri",
      `llmd fetches ${LLMD_SCHEMES.map((s) => `${s}://`).join(", ")} (llmisvc workload_storage.go 131-203), not ${parsed.scheme}://`,
    );
  // Decode pods scale on the platform's ScaledObject between min and max (models/serving/autoscaling.ts),
  // not to zero: the wake-up trigger counts gateway requests to an InferenceService's Service, and an
  // llm-d route sends them to an InferencePool instead.
  if (model.autoscaling.minReplicas < 1)
    add(
      "autoscaling.minReplicas",
      "llmd models keep at least one decode pod: scaling from zero needs a wake-up signal, and the platform's (gateway requests to the model's Service) does not see llm-d's route, which goes to an InferencePool; set minReplicas to 1 or more",
    );
  if (model.rollout)
    add(
      "rollout",
      "llmd models are not rolled out by the platform yet: KServe v0.20 weights the LLMInferenceServices of one router.route.group only on its shared model-based routes (router_group_routing.go 29-72), which need the ingress config's modelBasedRoutingHeaderName and a body-based router the platform does not install; each model's own /<namespace>/<name>/ paths are never split. Roll out by replacing the model, or serve it without llmd",
    );
  model.adapters.forEach((adapter, j) => {
    const parsed = parseStorageUri(adapter.storageUri);
    if (!isStorageError(parsed) && !LLMD_ADAPTER_SCHEMES.includes(parsed.scheme))
      add(
        `adapters[${j}].storageUri`,
        `llmd fetches LoRA adapters from ${LLMD_ADAPTER_SCHEMES.map((s) => `${s}://`).join(", ")} (llmisvc workload_lora.go 95-113), not ${parsed.scheme}://`,
      );
  });
  if (model.nodeCache)
    add(
      "nodeCache",
      "llmd pods download through KServe's storage initializer; the node weight cache does not feed them",
    );
  if (model.sessionAffinityHeader)
    add(
      "sessionAffinityHeader",
      "llmd routes by llm-d's endpoint picker (prefix-cache aware), not by a session header",
    );
  // The preset's command sets these itself (kserve-runtime-configs v0.20.0 resources.yaml 2560-2566);
  // given again in VLLM_ADDITIONAL_ARGS they would move vLLM off the port the pool and probes use.
  for (const { key, taken } of presetFlagsGiven(model, PRESET_FLAGS))
    add(
      key,
      `llm-d's preset already passes ${taken.join(", ")} (its port, served name and parallelism come from the LLMInferenceService); leave them out`,
    );
  const prefill = model.llmd.prefill;
  if (prefill && prefill.replicas === 1 && cfg.environment === "prod" && !model.autoscaling.outageOnNodeLoss)
    add(
      "llmd.prefill.replicas",
      "prod runs at least 2 prefill pods, spread across nodes, so one node loss does not stop the model; or accept the outage with autoscaling.outageOnNodeLoss: '<why>'",
    );
  if (!model.engine.prefixCaching)
    add(
      "engine.prefixCaching",
      "llmd's endpoint picker routes each prompt to the pod holding its prefix in KV cache; with prefix caching off that routing buys nothing: leave prefixCaching on, or serve the model without llmd",
    );
  for (const part of ["transformer", "explainer", "batcher"] as const)
    if (model[part]) add(part, `an LLMInferenceService has no ${part}`);
  if (!cfg.addons.istio.enabled)
    add(
      "llmd",
      "llmd routes through the platform's Istio ingress gateway (Gateway API); enable addons.istio",
    );
  return problems;
}
