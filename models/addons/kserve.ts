/**
 * KServe as three releases: CRDs, then controller + webhooks (after cert-manager), then the runtimes.
 * Standard-mode ingress objects are not created by KServe: the platform owns the VirtualServices
 * (needed for canary, A/B and shadow routing of Standard-mode models). Knative-mode models keep
 * KServe's own routing (Knative's VirtualService), which implements canaryTrafficPercent.
 */
import { tgiClusterServingRuntime } from "../serving/runtimes";
import { pipelineParallelPreset } from "../serving/llmdPipelineParallel";
import { CHARTS, IMAGES } from "../versions";
import type { AddonContext, AddonSpec } from "./types";
import { controllerAvailability, KSERVE_CONTROLLER } from "./highAvailability";

export function kserveCrd(): AddonSpec {
  return {
    name: "kserve-crd",
    namespace: "kserve",
    chart: CHARTS.kserveCrd,
    values: {},
    dependsOn: [],
    timeoutSeconds: 300,
    ownsCrds: true,
  };
}

export function kserveResources(ctx: AddonContext): AddonSpec {
  const availability = controllerAvailability(ctx, KSERVE_CONTROLLER, "kserve", { setReplicas: true });
  return {
    name: "kserve-resources",
    namespace: "kserve",
    chart: CHARTS.kserveResources,
    values: {
      kserve: {
        controller: {
          // The chart defaults to Knative; the platform's default is explicit (and set per model too).
          deploymentMode: ctx.addons.kserve.defaultDeploymentMode,
          gateway: {
            domain: ctx.domain,
            disableIngressCreation: true,
            ingressGateway: { className: "istio", gateway: "knative-serving/knative-ingress-gateway" },
          },
        },
        autoscaler: { scaleDownStabilizationWindowSeconds: "300" },
      },
    },
    dependsOn: [
      "cert-manager",
      "kserve-crd",
      "istiod",
      ...(ctx.usesKnative ? (["knative-operator"] as const) : []),
    ],
    timeoutSeconds: 600,
    patches: availability.patches,
    objects: availability.objects,
    ownsCrds: false,
  };
}

export function kserveRuntimeConfigs(ctx: Pick<AddonContext, "usesLlmd" | "usesMultiNodeLlmd">): AddonSpec {
  return {
    name: "kserve-runtime-configs",
    namespace: "kserve",
    chart: CHARTS.kserveRuntimeConfigs,
    values: {
      kserve: {
        servingruntime: {
          enabled: true,
          huggingfaceserver: { devShm: { enabled: true } },
          tritonserver: { tag: IMAGES.triton.tag },
        },
        // llm-d's well-known presets (LLMInferenceServiceConfigs in kserve: vLLM templates, scheduler,
        // route), which every LLMInferenceService merges (llmisvc config_merge.go 211-265).
        ...(ctx.usesLlmd ? { llmisvcConfigs: { enabled: true } } : {}),
      },
    },
    // Its ClusterServingRuntimes are admitted by KServe's webhook, its llm-d presets by the llmisvc
    // controller's (main.go 391-398): the controllers must be ready first.
    dependsOn: ["kserve-resources", ...(ctx.usesLlmd ? (["kserve-llmisvc-resources"] as const) : [])],
    timeoutSeconds: 300,
    // The pipeline-parallel preset KServe v0.20.0 asks for and does not ship (llmdPipelineParallel.ts),
    // admitted by the same webhook, before any model that merges it.
    objects: [tgiClusterServingRuntime(), ...(ctx.usesMultiNodeLlmd ? [pipelineParallelPreset()] : [])],
    ownsCrds: false,
  };
}
