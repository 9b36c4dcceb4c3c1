/**
 * Reading Kubernetes objects as the policies see them (resource inputs): the pod specs and containers
 * of InferenceServices, serving runtimes and workloads, in one shape.
 */
import {
  LLMD_MAX_REPLICAS_ANNOTATION,
  LLMD_MIN_REPLICAS_ANNOTATION,
} from "../../models/serving/llmInferenceService";

type Obj = Record<string, unknown>;

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly resources?: {
    requests?: Record<string, string | number>;
    limits?: Record<string, string | number>;
  };
  readonly securityContext?: { privileged?: boolean };
  readonly env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  readonly volumeMounts?: Array<{ name: string; mountPath: string }>;
  readonly startupProbe?: unknown;
  readonly args?: string[];
}

export interface PodView {
  /** Where in the object, e.g. `spec.predictor`. */
  readonly at: string;
  readonly spec: Obj & {
    nodeSelector?: Record<string, string>;
    tolerations?: Array<{ key?: string; operator?: string; effect?: string; value?: string }>;
    affinity?: unknown;
    volumes?: Array<{ name: string; emptyDir?: { medium?: string } }>;
  };
  readonly containers: Container[];
}

export const K8S = {
  isvc: "kubernetes:serving.kserve.io/v1beta1:InferenceService",
  llmisvc: "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService",
  servingRuntime: "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime",
  clusterServingRuntime: "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime",
  scaledObject: "kubernetes:keda.sh/v1alpha1:ScaledObject",
  virtualService: "kubernetes:networking.istio.io/v1:VirtualService",
  peerAuthentication: "kubernetes:security.istio.io/v1:PeerAuthentication",
  requestAuthentication: "kubernetes:security.istio.io/v1:RequestAuthentication",
  authorizationPolicy: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  secret: "kubernetes:core/v1:Secret",
  namespace: "kubernetes:core/v1:Namespace",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  helmRelease: "kubernetes:helm.sh/v3:Release",
} as const;

const WORKLOADS: Record<string, (o: Obj) => Obj | undefined> = {
  "kubernetes:apps/v1:Deployment": (o) => tmpl(o.spec),
  "kubernetes:apps/v1:DaemonSet": (o) => tmpl(o.spec),
  "kubernetes:apps/v1:StatefulSet": (o) => tmpl(o.spec),
  "kubernetes:batch/v1:Job": (o) => tmpl(o.spec),
  "kubernetes:batch/v1:CronJob": (o) =>
    tmpl((o.spec as Obj | undefined)?.jobTemplate && ((o.spec as Obj).jobTemplate as Obj).spec),
  "kubernetes:core/v1:Pod": (o) => o.spec as Obj | undefined,
};

function tmpl(spec: unknown): Obj | undefined {
  return ((spec as Obj | undefined)?.template as Obj | undefined)?.spec as Obj | undefined;
}

const COMPONENTS = ["predictor", "transformer", "explainer"] as const;

/** Every pod spec an object would create, with its containers (KServe's model container included). */
export function podViews(type: string, props: Obj): PodView[] {
  if (type === K8S.isvc) {
    const spec = (props.spec ?? {}) as Obj;
    return COMPONENTS.flatMap((c) => {
      const component = spec[c] as Obj | undefined;
      if (!component) return [];
      const containers = [...((component.containers as Container[] | undefined) ?? [])];
      const model = component.model as Obj | undefined;
      if (model) containers.unshift({ name: "kserve-container", ...(model as object) } as Container);
      // A multi-node predictor's worker pods: their own pod spec (KServe copies nothing of the head's).
      const worker = component.workerSpec as Obj | undefined;
      const workers = worker
        ? [
            {
              at: `spec.${c}.workerSpec`,
              spec: worker,
              containers: (worker.containers as Container[] | undefined) ?? [],
            },
          ]
        : [];
      return [{ at: `spec.${c}`, spec: component, containers }, ...workers];
    });
  }
  if (type === K8S.llmisvc) {
    // llm-d: the platform's part of each role's pod (the controller merges llm-d's presets into it).
    return llmdRoles(props).flatMap(({ at, template }) =>
      template ? [{ at, spec: template, containers: (template.containers as Container[]) ?? [] }] : [],
    );
  }
  if (type === K8S.servingRuntime || type === K8S.clusterServingRuntime) {
    const spec = (props.spec ?? {}) as Obj;
    return [{ at: "spec", spec, containers: (spec.containers as Container[] | undefined) ?? [] }];
  }
  const pod = WORKLOADS[type]?.(props);
  return pod
    ? [{ at: "spec", spec: pod, containers: (pod.containers as Container[] | undefined) ?? [] }]
    : [];
}

/** One role of an LLMInferenceService: its pod template (where it is) and its replica bounds. */
export interface LlmdRole {
  readonly role: "decode" | "prefill" | "worker";
  readonly at: "spec.template" | "spec.prefill.template" | "spec.worker";
  readonly template: Obj | undefined;
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/**
 * An LLMInferenceService's roles: decode (spec.template) and, when split off, prefill
 * (spec.prefill.template, spec.prefill.replicas). Decode runs spec.replicas, or — when the platform's
 * ScaledObject scales it and spec.replicas is left out — between the bounds the platform annotates;
 * KServe's Deployment defaults to 1 otherwise. A model over several nodes (spec.worker) also has the
 * worker pods of its LeaderWorkerSet groups: pipeline − 1 per decode replica (workload_multi_node.go
 * 170-186), the decode template being each group's leader.
 */
export function llmdRoles(props: Obj): LlmdRole[] {
  const spec = (props.spec ?? {}) as Obj;
  const prefill = spec.prefill as Obj | undefined;
  const notes = annotations(props);
  const fixed = spec.replicas as number | undefined;
  const bound = (key: string) => (notes[key] !== undefined ? Number(notes[key]) : undefined);
  const decode: LlmdRole = {
    role: "decode",
    at: "spec.template",
    template: spec.template as Obj | undefined,
    minReplicas: fixed ?? bound(LLMD_MIN_REPLICAS_ANNOTATION) ?? 1,
    maxReplicas: fixed ?? bound(LLMD_MAX_REPLICAS_ANNOTATION) ?? 1,
  };
  const worker = spec.worker as Obj | undefined;
  const perGroup = (((spec.parallelism as Obj | undefined)?.pipeline as number | undefined) ?? 1) - 1;
  const workers: LlmdRole[] = worker
    ? [
        {
          role: "worker",
          at: "spec.worker",
          template: worker,
          minReplicas: decode.minReplicas * perGroup,
          maxReplicas: decode.maxReplicas * perGroup,
        },
      ]
    : [];
  if (!prefill) return [decode, ...workers];
  return [
    decode,
    ...workers,
    {
      role: "prefill",
      at: "spec.prefill.template",
      template: prefill.template as Obj | undefined,
      minReplicas: (prefill.replicas as number | undefined) ?? 1,
      maxReplicas: (prefill.replicas as number | undefined) ?? 1,
    },
  ];
}

export function quantity(v: string | number | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function gpuLimit(c: Container): number {
  return quantity(c.resources?.limits?.["nvidia.com/gpu"]) ?? 0;
}

export function labels(props: Obj): Record<string, string> {
  return ((props.metadata as Obj | undefined)?.labels as Record<string, string> | undefined) ?? {};
}

export function annotations(props: Obj): Record<string, string> {
  return ((props.metadata as Obj | undefined)?.annotations as Record<string, string> | undefined) ?? {};
}

export function nameOf(props: Obj): string {
  const m = (props.metadata ?? {}) as { name?: string; namespace?: string };
  return m.namespace ? `${m.namespace}/${m.name ?? "?"}` : (m.name ?? "?");
}

/** An InferenceService's predictor component (empty when absent). */
export function predictorOf(props: Obj): Obj & {
  minReplicas?: number;
  maxReplicas?: number;
  canaryTrafficPercent?: number;
  serviceAccountName?: string;
  model?: Obj;
  nodeSelector?: Record<string, string>;
  /** Multi-node: KServe's worker pods and the parallel degrees it hands the runtime. */
  workerSpec?: Obj & {
    tensorParallelSize?: number;
    pipelineParallelSize?: number;
    nodeSelector?: Record<string, string>;
  };
} {
  return ((props.spec as Obj | undefined)?.predictor ?? {}) as Obj;
}

/** LLM predictors: runtime label set by the platform, or KServe's Hugging Face / TGI formats. */
export function isLlmIsvc(props: Obj): boolean {
  const runtime = labels(props)["inference-platform/runtime"];
  if (runtime) return runtime === "vllm" || runtime === "tgi";
  const format = predictorOf(props).model?.modelFormat as { name?: string } | undefined;
  return format?.name?.startsWith("huggingface") ?? false;
}

export function deploymentMode(props: Obj): string {
  return annotations(props)["serving.kserve.io/deploymentMode"] ?? "Knative";
}

/** A flag's value from an args list (`--flag=value` or `--flag value`). */
export function flag(args: readonly string[] | undefined, name: string): string | undefined {
  if (!args) return undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
    if (a === name) return args[i + 1];
  }
  return undefined;
}

/**
 * A policy's config with its defaults: the engine sends only what the stack's policy config sets
 * (getConfig() is {} for a policy it does not mention), so defaults are applied here, once.
 */
export function withDefaults<T extends object>(defaults: T, config: object): T {
  return { ...defaults, ...(config as Partial<T>) };
}
