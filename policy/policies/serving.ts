/**
 * GPU and serving policies: what every model pod needs to schedule on a GPU node and start safely.
 */
import { environmentOf } from "./environment";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { GPU_TAINT, LABELS } from "../../models/cluster/nodePools";
import { STORAGE_SCHEMES } from "../../models/schema";
import { imagePinProblem } from "../../models/serving/images";
import {
  annotations,
  deploymentMode,
  gpuLimit,
  isLlmIsvc,
  K8S,
  nameOf,
  podViews,
  quantity,
  type Container,
  predictorOf,
  type PodView,
  withDefaults,
} from "./k8s";

type Props = Record<string, unknown>;

function podPolicy(
  name: string,
  description: string,
  check: (view: PodView, props: Props, type: string, report: (m: string) => void) => void,
): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      for (const view of podViews(args.type, args.props as Props))
        check(view, args.props as Props, args.type, (m) =>
          report(`${nameOf(args.props as Props)} ${view.at}: ${m}`),
        );
    },
  };
}

const gpuContainers = (v: PodView): Container[] => v.containers.filter((c) => gpuLimit(c) > 0);

export const gpuRequestEqualsLimit = podPolicy(
  "gpu-request-equals-limit",
  "GPU containers request nvidia.com/gpu equal to their limit (extended resources cannot be overcommitted).",
  (view, _props, _type, report) => {
    for (const c of view.containers) {
      const req = quantity(c.resources?.requests?.["nvidia.com/gpu"]);
      const lim = quantity(c.resources?.limits?.["nvidia.com/gpu"]);
      if ((req ?? 0) > 0 || (lim ?? 0) > 0)
        if (req !== lim)
          report(`container ${c.name} requests ${req ?? "no"} GPUs but is limited to ${lim ?? "none"}`);
    }
  },
);

export const gpuPodsTolerateAndSelect = podPolicy(
  "gpu-pods-tolerate-and-select",
  "GPU pods tolerate the GPU taint and select a GPU pool, so they neither stay Pending nor land on the wrong nodes.",
  (view, _props, _type, report) => {
    if (gpuContainers(view).length === 0) return;
    const tolerates = (view.spec.tolerations ?? []).some(
      (t) =>
        t.key === GPU_TAINT.key &&
        (t.operator === "Exists" || t.value === GPU_TAINT.value) &&
        (!t.effect || t.effect === GPU_TAINT.effect),
    );
    if (!tolerates)
      report(
        `does not tolerate the ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect} taint of GPU nodes`,
      );
    const selector = view.spec.nodeSelector ?? {};
    if (!selector[LABELS.pool] && !selector[LABELS.gpuPresent] && !view.spec.affinity)
      report(`selects no GPU pool (nodeSelector ${LABELS.pool} or ${LABELS.gpuPresent}, or a node affinity)`);
  },
);

export const llmSharedMemory = podPolicy(
  "llm-shm-in-memory",
  "LLM and multi-GPU pods mount /dev/shm from an in-memory emptyDir (NCCL and tokenizer workers outgrow the 64 MiB default).",
  (view, props, type, report) => {
    // llm-d's presets mount their own in-memory /dev/shm (kserve-runtime-configs v0.20.0
    // files/llmisvcconfigs/resources.yaml 233, 304-308), merged in by the controller.
    if (type === K8S.llmisvc) return;
    const llm = type === K8S.isvc && view.at === "spec.predictor" && isLlmIsvc(props);
    const multiGpu = view.containers.some((c) => gpuLimit(c) > 1);
    if (!llm && !multiGpu) return;
    const memoryVolumes = new Set(
      (view.spec.volumes ?? []).filter((v) => v.emptyDir?.medium === "Memory").map((v) => v.name),
    );
    for (const c of view.containers.filter((c) => gpuLimit(c) > 0 || c.name === "kserve-container"))
      if (!(c.volumeMounts ?? []).some((m) => m.mountPath === "/dev/shm" && memoryVolumes.has(m.name)))
        report(`container ${c.name} has no /dev/shm from an emptyDir with medium: Memory`);
  },
);

export const llmStartupProbe: ResourceValidationPolicy = {
  name: "llm-startup-probe",
  description:
    "LLM predictors have a startup probe, so liveness checks do not kill a pod still loading weights.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== K8S.isvc || !isLlmIsvc(args.props as Props)) return;
    const predictor = podViews(args.type, args.props as Props).find((v) => v.at === "spec.predictor");
    const main = predictor?.containers[0];
    if (!main?.startupProbe) report(`${nameOf(args.props as Props)}: the LLM predictor has no startupProbe`);
  },
};

export const noLlmScaleToZero: ResourceValidationPolicy = {
  name: "no-llm-scale-to-zero",
  description: "LLMs keep at least one replica (a cold start takes minutes). Applies to prod stacks only.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== K8S.isvc || !isLlmIsvc(args.props as Props)) return;
    if (environmentOf(args.props) !== "prod") return;
    if ((predictorOf(args.props as Props).minReplicas ?? 1) < 1)
      report(`${nameOf(args.props as Props)}: an LLM scales to zero (minReplicas 0)`);
  },
};

export const trafficSplitsValid: ResourceValidationPolicy = {
  name: "traffic-splits-valid",
  description: "Canary percentages lie within 0-100 and every weighted route's weights sum to 100.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = args.props as Props;
    if (args.type === K8S.isvc) {
      const pct = predictorOf(props).canaryTrafficPercent;
      if (pct !== undefined && (pct < 0 || pct > 100 || !Number.isInteger(pct)))
        report(`${nameOf(props)}: canaryTrafficPercent ${pct} is not a whole number from 0 to 100`);
    }
    if (args.type === K8S.virtualService) {
      const http = ((props.spec as Props | undefined)?.http ?? []) as Array<{
        name?: string;
        route?: Array<{ weight?: number }>;
      }>;
      for (const [i, h] of http.entries()) {
        const routes = h.route ?? [];
        if (routes.length < 2 && routes.every((r) => r.weight === undefined)) continue;
        const sum = routes.reduce((s, r) => s + (r.weight ?? 0), 0);
        if (sum !== 100)
          report(
            `${nameOf(props)} http[${i}] (${h.name ?? "unnamed"}): route weights sum to ${sum}, not 100`,
          );
      }
    }
  },
};

export const deploymentModeFeatures: ResourceValidationPolicy = {
  name: "deployment-mode-features",
  description:
    "Features match the deployment mode: canaryTrafficPercent only in Knative mode, external (KEDA) autoscaling only in Standard mode.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== K8S.isvc) return;
    const props = args.props as Props;
    const mode = deploymentMode(props);
    const predictor = predictorOf(props);
    if (predictor.canaryTrafficPercent !== undefined && mode !== "Knative")
      report(
        `${nameOf(props)}: canaryTrafficPercent works only in Knative mode (this is ${mode}); Standard mode splits traffic with a VirtualService`,
      );
    const scaler = annotations(props)["serving.kserve.io/autoscalerClass"];
    if ((scaler === "external" || scaler === "keda") && mode !== "Standard")
      report(`${nameOf(props)}: autoscalerClass ${scaler} needs Standard mode (this is ${mode})`);
  },
};

const STORAGE_DEFAULTS = { allowedSchemes: [...STORAGE_SCHEMES] as string[] };

export const storageUriAllowlist: ResourceValidationPolicy = {
  name: "storage-uri-allowlist",
  description: "Models load from allowed storage schemes only.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedSchemes: { type: "array", items: { type: "string" }, default: STORAGE_DEFAULTS.allowedSchemes },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== K8S.isvc) return;
    const { allowedSchemes } = withDefaults(STORAGE_DEFAULTS, args.getConfig());
    for (const view of podViews(args.type, args.props as Props))
      for (const c of view.containers) {
        const uri = (c as { storageUri?: string }).storageUri;
        if (!uri) continue;
        const scheme = uri.split("://")[0]!;
        if (!allowedSchemes.includes(scheme))
          report(
            `${nameOf(args.props as Props)} ${view.at}: storage URI scheme "${scheme}" is not allowed (allowed: ${allowedSchemes.join(", ")})`,
          );
      }
  },
};

export const imagesPinned = podPolicy(
  "images-pinned",
  "Container images are pinned by tag or digest: no latest, no untagged.",
  (view, _props, _type, report) => {
    for (const c of view.containers) {
      if (!c.image) continue;
      const problem = imagePinProblem(c.image, "prod");
      if (problem) report(`container ${c.name}: ${problem.message}`);
    }
  },
);

export const requestsAndLimits = podPolicy(
  "requests-and-limits",
  "Every container sets CPU and memory requests and limits.",
  (view, _props, _type, report) => {
    for (const c of view.containers) {
      const missing = (["requests", "limits"] as const).flatMap((kind) =>
        (["cpu", "memory"] as const)
          .filter((r) => c.resources?.[kind]?.[r] === undefined)
          .map((r) => `${kind}.${r}`),
      );
      if (missing.length > 0) report(`container ${c.name} has no ${missing.join(", ")}`);
    }
  },
);

export const SERVING_POLICIES: ResourceValidationPolicy[] = [
  gpuRequestEqualsLimit,
  gpuPodsTolerateAndSelect,
  llmSharedMemory,
  llmStartupProbe,
  noLlmScaleToZero,
  trafficSplitsValid,
  deploymentModeFeatures,
  storageUriAllowlist,
  imagesPinned,
  requestsAndLimits,
];
