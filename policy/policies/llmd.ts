/**
 * llm-d models (KServe LLMInferenceService, models/serving/llmInferenceService.ts) need their add-ons
 * in the same stack: without the llmisvc controller nothing reconciles them, without llm-d's presets
 * it stops at PresetsCombined=False (llmisvc config_merge.go 157-160), without Gateway API's CRDs at
 * its start it never routes (controller.go 428-454), without istiod's Inference Extension support the
 * gateway refuses the InferencePool (istio 1.30.3 conversion.go 1137-1143), and without the Gateway its
 * route names the route is refused (router_validation.go 231-270).
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { GATEWAY_API } from "../../models/versions";
import { K8S, nameOf } from "./k8s";
import { PIPELINE_PARALLEL_PRESET } from "../../models/serving/llmdPipelineParallel";

const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
const MANIFEST = "kubernetes:yaml/v2:ConfigFile";
const PRESET = "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceServiceConfig";

type Values = Record<string, unknown>;
const at = (values: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Values)[k] : undefined), values);

function releaseOf(resources: readonly PolicyResource[], chart: string): PolicyResource | undefined {
  return resources.find(
    (r) => r.type === K8S.helmRelease && String(r.props.chart).split("/").pop() === chart,
  );
}

/** What an llm-d stack lacks, each with what it breaks. */
export function missingLlmdAddons(resources: readonly PolicyResource[]): string[] {
  const missing: string[] = [];
  if (!releaseOf(resources, "kserve-llmisvc-crd")) missing.push("the kserve-llmisvc-crd release (its CRDs)");
  if (!releaseOf(resources, "kserve-llmisvc-resources"))
    missing.push("the kserve-llmisvc-resources release (the llmisvc controller and webhooks)");
  const presets = releaseOf(resources, "kserve-runtime-configs");
  if (at(presets?.props.values, "kserve", "llmisvcConfigs", "enabled") !== true)
    missing.push("llm-d's presets (kserve-runtime-configs kserve.llmisvcConfigs.enabled)");
  const istiod = releaseOf(resources, "istiod");
  if (at(istiod?.props.values, "env", "ENABLE_GATEWAY_API_INFERENCE_EXTENSION") !== "true")
    missing.push('istiod\'s InferencePool support (env ENABLE_GATEWAY_API_INFERENCE_EXTENSION: "true")');
  if (!resources.some((r) => r.type === MANIFEST && r.props.file === GATEWAY_API.url))
    missing.push(`Gateway API's CRDs (${GATEWAY_API.url})`);
  return missing;
}

/**
 * What a stack with a model over several nodes (spec.worker) lacks: LeaderWorkerSet, whose CRD the
 * llmisvc controller must find at its start (controller.go 454-456) and whose pod webhook places each
 * pod in its group; and the pipeline-parallel preset KServe v0.20.0 does not ship (config_merge.go
 * 253-264: without it, PresetsCombined=False, ConfigNotFound).
 */
export function missingMultiNodeAddons(resources: readonly PolicyResource[]): string[] {
  const missing: string[] = [];
  if (!releaseOf(resources, "lws"))
    missing.push("the lws release (LeaderWorkerSet's controller, CRD and webhooks)");
  const preset = resources.some(
    (r) =>
      r.type === PRESET &&
      at(r.props, "metadata", "name") === PIPELINE_PARALLEL_PRESET &&
      at(r.props, "metadata", "namespace") === "kserve",
  );
  if (!preset) missing.push(`the ${PIPELINE_PARALLEL_PRESET} preset in kserve (LLMInferenceServiceConfig)`);
  return missing;
}

export const llmdNeedsItsAddons: StackValidationPolicy = {
  name: "llm-d-needs-its-addons",
  description:
    "An LLMInferenceService comes with the llmisvc controller, llm-d's presets, Gateway API's CRDs, istiod's InferencePool support and the Gateway its route names; one over several nodes also with LeaderWorkerSet and the pipeline-parallel preset.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const services = args.resources.filter((r) => r.type === K8S.llmisvc);
    if (services.length === 0) return;
    const spanning = services.filter((s) => at(s.props, "spec", "worker") !== undefined);
    const missing = [
      ...missingLlmdAddons(args.resources),
      ...(spanning.length > 0 ? missingMultiNodeAddons(args.resources) : []),
    ];
    if (missing.length > 0)
      report(
        `${services.map((s) => nameOf(s.props)).join(", ")} served through llm-d without ${missing.join("; ")}`,
      );
    const gateways = new Set(
      args.resources
        .filter((r) => r.type === GATEWAY)
        .map((r) => `${at(r.props, "metadata", "namespace")}/${at(r.props, "metadata", "name")}`),
    );
    for (const s of services) {
      const refs =
        (at(s.props, "spec", "router", "gateway", "refs") as Array<{ name: string; namespace?: string }>) ??
        [];
      const ns = String(at(s.props, "metadata", "namespace"));
      for (const ref of refs)
        if (!gateways.has(`${ref.namespace ?? ns}/${ref.name}`))
          report(
            `${nameOf(s.props)}: routes through Gateway ${ref.namespace ?? ns}/${ref.name}, which this stack does not create`,
          );
    }
  },
};
