/**
 * Stack-level policies: relations between resources — identities, autoscalers, routing, GPU fit and
 * protection — that no single resource shows.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { stackEnvironment } from "./environment";
import { GPU_INSTANCES, GPU_MODELS } from "../../models/capacity/gpuInstances";
import { resolveArchitecture } from "../../models/capacity/planner";
import { replicaMemory } from "../../models/capacity/memory";
import { profileBatch } from "../../models/capacity/vllmAccounting";
import { LABELS } from "../../models/cluster/nodePools";
import type { ModelInput } from "../../models/schema";
import { ARCHITECTURE_ANNOTATION } from "../../models/serving/inferenceService";
import { cudaVerdict, imageCuda, nodeDriver } from "../../models/compat/checks";
import { nodeGroupOfPool } from "./pools";
import {
  annotations,
  type Container,
  deploymentMode,
  flag,
  gpuLimit,
  isLlmIsvc,
  K8S,
  labels,
  llmdRoles,
  nameOf,
  podViews,
  predictorOf,
} from "./k8s";
import { llmdDeploymentName, predictorDeploymentName } from "../../models/names";

type Props = Record<string, unknown>;
const POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation";

const meta = (r: PolicyResource) => (r.props.metadata ?? {}) as { name?: string; namespace?: string };
const isvcs = (resources: PolicyResource[]) => resources.filter((r) => r.type === K8S.isvc);

export const isvcServiceAccountAndRole: StackValidationPolicy = {
  name: "isvc-identity",
  description:
    "Every InferenceService's ServiceAccount exists and, for s3:// models, has an AWS role (Pod Identity or IRSA).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const isvc of isvcs(args.resources)) {
      const ns = meta(isvc).namespace ?? "default";
      const sa = predictorOf(isvc.props).serviceAccountName;
      if (!sa) {
        report(
          `${nameOf(isvc.props)}: no serviceAccountName (the namespace's default account would run the model)`,
        );
        continue;
      }
      const account = args.resources.find(
        (r) =>
          r.type === K8S.serviceAccount && meta(r).name === sa && (meta(r).namespace ?? "default") === ns,
      );
      if (!account) {
        report(`${nameOf(isvc.props)}: ServiceAccount ${ns}/${sa} is not part of the stack`);
        continue;
      }
      const s3 = podViews(isvc.type, isvc.props).some((v) =>
        v.containers.some((c) => ((c as { storageUri?: string }).storageUri ?? "").startsWith("s3://")),
      );
      const irsa = annotations(account.props)["eks.amazonaws.com/role-arn"];
      const podIdentity = args.resources.some(
        (r) => r.type === POD_IDENTITY && r.props.namespace === ns && r.props.serviceAccount === sa,
      );
      if (s3 && !irsa && !podIdentity)
        report(`${nameOf(isvc.props)}: loads from s3:// but ServiceAccount ${ns}/${sa} has no AWS role`);
    }
  },
};

export const llmHasAutoscaler: StackValidationPolicy = {
  name: "llm-has-autoscaler",
  description:
    "Every Standard-mode LLM that may scale has an autoscaler (a KEDA ScaledObject on its predictor, or on an llm-d model's decode Deployment).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const isvc of isvcs(args.resources)) {
      if (!isLlmIsvc(isvc.props) || deploymentMode(isvc.props) !== "Standard") continue;
      const p = predictorOf(isvc.props);
      if ((p.maxReplicas ?? 1) <= (p.minReplicas ?? 1)) continue;
      const target = predictorDeploymentName(String(meta(isvc).name));
      const scaled = scaledObjectsOn(args.resources, meta(isvc).namespace, target).length > 0;
      if (!scaled && annotations(isvc.props)["serving.kserve.io/autoscalerClass"] !== "hpa")
        report(
          `${nameOf(isvc.props)}: ${p.minReplicas ?? 1}..${p.maxReplicas} replicas but no ScaledObject targets ${target}`,
        );
    }
    // llm-d: decode pods between two bounds need the platform's ScaledObject on `<name>-kserve`.
    for (const llmisvc of args.resources.filter((r) => r.type === K8S.llmisvc)) {
      const decode = llmdRoles(llmisvc.props)[0]!;
      if (decode.maxReplicas <= decode.minReplicas) continue;
      const target = llmdDeploymentName(String(meta(llmisvc).name), "decode");
      if (!scaledObjectsOn(args.resources, meta(llmisvc).namespace, target).length)
        report(
          `${nameOf(llmisvc.props)}: ${decode.minReplicas}..${decode.maxReplicas} decode replicas but no ScaledObject targets ${target}`,
        );
    }
  },
};

function scaledObjectsOn(
  resources: readonly PolicyResource[],
  namespace: string | undefined,
  deployment: string,
): PolicyResource[] {
  return resources.filter(
    (r) =>
      r.type === K8S.scaledObject &&
      meta(r).namespace === namespace &&
      ((r.props.spec as Props | undefined)?.scaleTargetRef as Props | undefined)?.name === deployment,
  );
}

export const rolloutHasRouting: StackValidationPolicy = {
  name: "rollout-has-routing",
  description:
    "Every Standard-mode candidate (canary, A/B, blue/green, shadow) has a VirtualService routing to it.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const isvc of isvcs(args.resources)) {
      if (
        labels(isvc.props)["inference-platform/track"] !== "candidate" ||
        deploymentMode(isvc.props) !== "Standard"
      )
        continue;
      const host = `${meta(isvc).name}-predictor.${meta(isvc).namespace}.svc.cluster.local`;
      const routed = args.resources.some(
        (r) => r.type === K8S.virtualService && JSON.stringify(r.props.spec ?? {}).includes(`"${host}"`),
      );
      if (!routed)
        report(
          `${nameOf(isvc.props)}: a candidate InferenceService that no VirtualService routes to (${host})`,
        );
    }
  },
};

export const kedaTargetsStandardMode: StackValidationPolicy = {
  name: "keda-targets-standard-mode",
  description:
    "KEDA ScaledObjects target the predictor of a Standard-mode InferenceService (KServe supports KEDA there only), or the decode Deployment of an LLMInferenceService that leaves its replicas to them.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const so of args.resources.filter((r) => r.type === K8S.scaledObject)) {
      const target = ((so.props.spec as Props | undefined)?.scaleTargetRef as Props | undefined)?.name as
        string | undefined;
      const isvc = isvcs(args.resources).find(
        (i) => meta(i).namespace === meta(so).namespace && `${meta(i).name}-predictor` === target,
      );
      if (isvc && deploymentMode(isvc.props) !== "Standard")
        report(
          `${nameOf(so.props)}: scales ${nameOf(isvc.props)}, which runs in ${deploymentMode(isvc.props)} mode`,
        );
    }
    // llm-d: KServe keeps the HPA's replicas only when the LLMInferenceService sets none (kserve v0.20.0
    // llmisvc workload.go 215-225); with spec.replicas set it resets them on every reconcile.
    for (const llmisvc of args.resources.filter((r) => r.type === K8S.llmisvc)) {
      const replicas = (llmisvc.props.spec as Props | undefined)?.replicas;
      const target = llmdDeploymentName(String(meta(llmisvc).name), "decode");
      if (replicas !== undefined && scaledObjectsOn(args.resources, meta(llmisvc).namespace, target).length)
        report(
          `${nameOf(llmisvc.props)}: a ScaledObject scales ${target}, but spec.replicas (${String(replicas)}) makes KServe's llmisvc controller reset the replicas on every reconcile; leave spec.replicas out`,
        );
    }
  },
};

function architectureOf(isvc: PolicyResource, storageUri: string) {
  const annotation = annotations(isvc.props)[ARCHITECTURE_ANNOTATION];
  const architecture = annotation?.startsWith("{")
    ? (JSON.parse(annotation) as ModelInput["architecture"])
    : annotation;
  return resolveArchitecture({ architecture, storageUri });
}

/** What the GPU-fit rule reads of one LLM: its pool, GPUs, weights, engine flags and parallel layout. */
interface FitView {
  readonly resource: PolicyResource;
  readonly pool: string | undefined;
  readonly gpus: number;
  readonly storageUri: string;
  readonly args: readonly string[];
  readonly tensor: number;
  readonly pipeline: number;
  readonly lora?: { maxLoras: number; maxRank: number };
}

function inferenceServiceFit(isvc: PolicyResource): FitView | undefined {
  if (!isLlmIsvc(isvc.props)) return undefined;
  const main = podViews(isvc.type, isvc.props).find((v) => v.at === "spec.predictor");
  const c = main?.containers[0];
  if (!main || !c) return undefined;
  const args = c.args ?? [];
  const gpus = gpuLimit(c);
  // Multi-node: the degrees are the workerSpec's (KServe passes them to the runtime's command).
  const worker = predictorOf(isvc.props).workerSpec;
  return {
    resource: isvc,
    pool: main.spec.nodeSelector?.[LABELS.pool],
    gpus,
    storageUri: (c as { storageUri?: string }).storageUri ?? "",
    args,
    tensor: Number(
      worker?.tensorParallelSize ?? flag(args, "--tensor-parallel-size") ?? flag(args, "--num-shard") ?? gpus,
    ),
    pipeline: worker ? (worker.pipelineParallelSize ?? 1) : 1,
    // LoRA slots take GPU memory with the weights (models/capacity/lora.ts).
    ...(args.includes("--enable-lora")
      ? {
          lora: {
            maxLoras: Number(flag(args, "--max-loras") ?? 1),
            maxRank: Number(flag(args, "--max-lora-rank") ?? 16),
          },
        }
      : {}),
  };
}

/**
 * An LLMInferenceService's decode (or serving) template: the engine flags the platform passes in
 * VLLM_ADDITIONAL_ARGS, the layout in spec.parallelism (a group's leader, with pipeline − 1 workers), and
 * the LoRA slots KServe turns into vLLM's flags (workload_lora.go).
 */
function llmInferenceServiceFit(svc: PolicyResource): FitView | undefined {
  const spec = (svc.props.spec ?? {}) as Props;
  const template = llmdRoles(svc.props)[0]!.template;
  const c = (template?.containers as Container[] | undefined)?.[0];
  if (!template || !c) return undefined;
  const extra = (c as { env?: Array<{ name: string; value?: string }> }).env?.find(
    (e) => e.name === "VLLM_ADDITIONAL_ARGS",
  )?.value;
  const args = (extra ?? "").split(/\s+/).filter(Boolean);
  const gpus = gpuLimit(c);
  const parallelism = (spec.parallelism ?? {}) as { tensor?: number; pipeline?: number };
  const model = (spec.model ?? {}) as { uri?: string; lora?: { maxRank?: number; maxAdapters?: number } };
  return {
    resource: svc,
    pool: (template.nodeSelector as Record<string, string> | undefined)?.[LABELS.pool],
    gpus,
    storageUri: model.uri ?? "",
    args,
    tensor: parallelism.tensor ?? gpus,
    pipeline: parallelism.pipeline ?? 1,
    ...(model.lora
      ? { lora: { maxLoras: model.lora.maxAdapters ?? 1, maxRank: model.lora.maxRank ?? 16 } }
      : {}),
  };
}

export const modelFitsGpu: StackValidationPolicy = {
  name: "model-fits-gpu",
  description:
    "An LLM's GPU request holds its weights and the KV cache of one full-length sequence (the platform's capacity model); InferenceServices and LLMInferenceServices alike.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const views = [
      ...isvcs(args.resources).map(inferenceServiceFit),
      ...args.resources.filter((r) => r.type === K8S.llmisvc).map(llmInferenceServiceFit),
    ].filter((v): v is FitView => v !== undefined);
    for (const v of views) {
      const name = nameOf(v.resource.props);
      const group = nodeGroupOfPool(args.resources, v.pool);
      const instance = GPU_INSTANCES[((group?.props.instanceTypes as string[] | undefined) ?? [])[0] ?? ""];
      if (!v.pool || !instance) continue; // existing clusters: the GPU is not known from the stack
      const arch = architectureOf(v.resource, v.storageUri);
      if ("error" in arch) {
        report(`${name}: ${arch.error}`);
        continue;
      }
      const { gpus, tensor: tp, pipeline: pp } = v;
      const args_ = v.args;
      const quantization = (flag(args_, "--quantization") ?? flag(args_, "--quantize")) as
        "awq" | "gptq" | "fp8" | undefined;
      const kv = flag(args_, "--kv-cache-dtype");
      const engine = {
        quantization: quantization ?? (flag(args_, "--quantize") === "eetq" ? ("int8" as const) : undefined),
        dtype: flag(args_, "--dtype") as "auto" | "bfloat16" | "float16" | "float32" | undefined,
        kvCacheDtype: kv && kv !== "auto" ? ("fp8" as const) : ("auto" as const),
        ...(v.lora ? { lora: v.lora } : {}),
      };
      const util = Number(
        flag(args_, "--gpu-memory-utilization") ?? flag(args_, "--cuda-memory-fraction") ?? 0.9,
      );
      const maxLen = Number(flag(args_, "--max-model-len") ?? flag(args_, "--max-total-tokens") ?? 0);
      if (tp > gpus) {
        report(`${name}: tensor parallelism ${tp} over ${gpus} requested GPU(s)`);
        continue;
      }
      const gpu = GPU_MODELS[instance.gpu];
      const batch = profileBatch(
        gpu,
        {
          maxNumBatchedTokens: optionalNumber(flag(args_, "--max-num-batched-tokens")),
          maxNumSeqs: optionalNumber(flag(args_, "--max-num-seqs")),
        },
        maxLen,
      );
      const m = replicaMemory(
        arch.architecture,
        engine,
        gpu,
        { tensor: Math.max(1, tp), pipeline: pp },
        util,
        batch,
      );
      if (m.kvTokens < Math.max(1, maxLen))
        report(
          `${name}: ${arch.name} on ${pp > 1 ? `${pp} nodes × ` : ""}${gpus}× ${gpu.name} leaves ${m.kvTokens} KV tokens (${m.kvCacheGiB.toFixed(1)} GiB per GPU after ${m.weightsGiB.toFixed(1)} GiB of weights) for a ${maxLen || "?"}-token context: the GPU request is too small for the model`,
        );
    }
  },
};

const optionalNumber = (v: string | undefined) => (v === undefined ? undefined : Number(v));

/** Charts whose releases install CRDs: deleting one deletes every custom resource of its kinds. */
const CRD_CHARTS = [
  "cert-manager",
  "base",
  "kserve-crd",
  "kserve-llmisvc-crd",
  // Installs the Gateway API Inference Extension's CRDs (createGIECRDs).
  "kserve-llmisvc-resources",
  "keda",
  "kube-prometheus-stack",
  "knative-operator",
  "lws",
];
const STATEFUL = ["eks:index:Cluster", "aws:kms/key:Key", "aws:ec2/vpc:Vpc"];

export const protectedInProd: StackValidationPolicy = {
  name: "protected-in-prod",
  description:
    "The cluster, its KMS key, the VPC and CRD-owning releases are protected. Applies to prod stacks only.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    // Dev and local stacks are meant to be torn down; only prod protects its state.
    if (stackEnvironment(args.resources) !== "prod") return;
    for (const r of args.resources) {
      const crdRelease =
        r.type === K8S.helmRelease && CRD_CHARTS.includes(String(r.props.chart).split("/").pop() ?? "");
      if ((STATEFUL.includes(r.type) || crdRelease) && !r.opts.protect)
        report(
          `${r.type} ${r.name}: not protected; deleting it ${crdRelease ? "deletes every custom resource of its CRDs" : "loses the cluster's state"}`,
        );
    }
  },
};

export const imageCudaVsDriver: StackValidationPolicy = {
  name: "image-cuda-vs-driver",
  description:
    "A GPU model's image CUDA runs on its node group's NVIDIA driver (the platform's compatibility data and check).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const cluster = args.resources.find(
      (r) => r.type === "eks:index:Cluster" || r.type === "aws:eks/cluster:Cluster",
    );
    const k8s = String(cluster?.props.version ?? "");
    for (const isvc of isvcs(args.resources)) {
      const main = podViews(isvc.type, isvc.props).find((v) => v.at === "spec.predictor");
      const c = main?.containers[0];
      if (!main || !c?.image || gpuLimit(c) === 0) continue;
      const pool = main.spec.nodeSelector?.[LABELS.pool];
      const group = nodeGroupOfPool(args.resources, pool);
      if (!group) continue;
      const os = String(group.props.amiType ?? "").startsWith("BOTTLEROCKET") ? "bottlerocket" : "al2023";
      const driver = nodeDriver(os, k8s, group.props.releaseVersion as string | undefined);
      const cuda = imageCuda(c.image);
      if (cuda === null) report(`${nameOf(isvc.props)}: ${c.image} is a CPU build on a GPU request`);
      else if (cuda === undefined)
        continue; // custom image: the plan required cudaVersion
      else {
        const v = cudaVerdict(cuda, driver.branch);
        if (v.verdict === "error") report(`${nameOf(isvc.props)} on ${group.name}: ${v.note}`);
      }
    }
  },
};

export const STACK_POLICIES: StackValidationPolicy[] = [
  isvcServiceAccountAndRole,
  llmHasAutoscaler,
  rolloutHasRouting,
  kedaTargetsStandardMode,
  modelFitsGpu,
  imageCudaVsDriver,
  protectedInProd,
];
