/**
 * The schema of one model deployment entry (`inference-platform:models[i]`).
 * Structure, types, enums and defaults live here; rules that relate several fields or the rest of the
 * platform (pools, modes, capacity) live in config/semantics.ts so all problems are reported together.
 */
import { z } from "zod";

/** Runtimes the platform can serve. LLM runtimes get engine settings; the rest are classic predictors. */
export const RUNTIMES = ["vllm", "tgi", "triton", "sklearn", "xgboost", "lightgbm", "torchserve"] as const;
export type Runtime = (typeof RUNTIMES)[number];
export const LLM_RUNTIMES: readonly Runtime[] = ["vllm", "tgi"];

export const DEPLOYMENT_MODES = ["Standard", "Knative"] as const;
export type DeploymentMode = (typeof DEPLOYMENT_MODES)[number];

export const STORAGE_SCHEMES = ["s3", "gs", "pvc", "hf", "oci"] as const;

/** awq/gptq: 4-bit checkpoints; fp8: dynamic FP8 of a 16-bit checkpoint; int8: a W8A8 checkpoint (vLLM reads its quantization_config). */
export const QUANTIZATIONS = ["awq", "gptq", "fp8", "int8"] as const;
export const DTYPES = ["auto", "bfloat16", "float16", "float32"] as const;
export const KV_CACHE_DTYPES = ["auto", "fp8", "fp8_e4m3", "fp8_e5m2"] as const;

/** A Kubernetes quantity such as `4`, `500m`, `16Gi`. */
const quantity = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .pipe(
    z
      .string()
      .regex(
        /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/,
        "must be a Kubernetes quantity such as 2, 500m or 16Gi",
      ),
  );

const dnsLabel = z
  .string()
  .regex(
    /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    "must be a DNS-1123 label: lower-case letters, digits and '-', starting with a letter",
  );

const speculativeSchema = z.discriminatedUnion("method", [
  z.strictObject({
    method: z.literal("ngram"),
    numSpeculativeTokens: z.number().int().min(1).max(16).default(5),
    promptLookupMax: z.number().int().min(1).max(16).default(4),
  }),
  z.strictObject({
    method: z.enum(["draft_model", "eagle", "eagle3"]),
    /** Draft / EAGLE head: a Hugging Face id or a path inside the model storage. */
    model: z.string().min(1),
    numSpeculativeTokens: z.number().int().min(1).max(16).default(3),
  }),
]);

/** vLLM / TGI engine settings. Anything left out is derived by the capacity planner (models/capacity). */
export const engineSchema = z.strictObject({
  maxModelLen: z.number().int().min(256).max(1_048_576).optional(),
  gpuMemoryUtilization: z.number().min(0.5).max(0.98).optional(),
  /** Continuous batching width. */
  maxNumSeqs: z.number().int().min(1).max(4096).optional(),
  maxNumBatchedTokens: z.number().int().min(256).optional(),
  tensorParallelSize: z.number().int().min(1).max(8).optional(),
  quantization: z.enum(QUANTIZATIONS).optional(),
  /** Activation and unquantized weight precision (vLLM --dtype); auto = the checkpoint's, bf16 for the catalog models. */
  dtype: z.enum(DTYPES).default("auto"),
  kvCacheDtype: z.enum(KV_CACHE_DTYPES).default("auto"),
  prefixCaching: z.boolean().default(true),
  chunkedPrefill: z.boolean().default(true),
  speculative: speculativeSchema.optional(),
  /**
   * How vLLM reads the downloaded checkpoint into GPU memory: `runai_streamer` streams safetensors with
   * concurrent reads (vLLM 0.24 --load-format; the Run:ai Model Streamer ships in the KServe image).
   */
  loadFormat: z.enum(["auto", "runai_streamer"]).default("auto"),
  /** Extra flags appended verbatim (after the generated ones, so they win for argparse). */
  extraArgs: z.array(z.string()).default([]),
});
export type EngineSettings = z.infer<typeof engineSchema>;

/**
 * Engine overrides of a rollout candidate: the same keys without defaults, so that a key the
 * candidate leaves out keeps the model's value instead of resetting it to the default.
 */
export const engineOverrideSchema: z.ZodType<Partial<EngineSettings>> = z.strictObject(
  Object.fromEntries(
    Object.entries(engineSchema.shape).map(([key, field]) => [
      key,
      (field instanceof z.ZodDefault ? field.unwrap() : field).optional(),
    ]),
  ),
) as unknown as z.ZodType<Partial<EngineSettings>>;

/**
 * GPU placement: a named pool and GPUs per replica (tensor parallelism spans them). `count` left out:
 * the capacity planner picks the smallest that fits (1 for non-LLMs). `gpu: auto`: the cheapest pool too.
 */
export const gpuSchema = z.union([
  z.literal("auto"),
  z.strictObject({
    pool: dnsLabel,
    count: z.number().int().min(1).max(8).optional(),
    /**
     * Nodes one replica spans (vLLM only): tensor parallel over `count` GPUs within each node (all of
     * the node's when left out), pipeline parallel across the nodes. Left out: one node when the model
     * fits one, else the fewest that hold it (capacity/planner.ts).
     */
    nodes: z.number().int().min(2).max(8).optional(),
  }),
]);
export interface GpuPlacement {
  readonly pool: string;
  /** GPUs per node of a replica. */
  readonly count: number;
  /** Nodes a replica spans (multi-node, one pipeline stage each); absent: one. */
  readonly nodes?: number;
}

/** A LoRA adapter on a vLLM model: served under its own name on the OpenAI API, next to the base model. */
export const adapterSchema = z.strictObject({
  name: dnsLabel,
  /** Where the adapter's safetensors and adapter_config.json are (downloaded like the model). */
  storageUri: z.string().min(1),
  /** Its LoRA rank (adapter_config.json `r`); vLLM 0.24 serves up to 512. */
  rank: z.number().int().min(1).max(512),
});
export type AdapterConfig = z.infer<typeof adapterSchema>;

/**
 * llm-d serving (vLLM only): KServe's LLMInferenceService instead of an InferenceService — vLLM pods
 * behind llm-d's endpoint picker, which routes each request to the replica already holding its prompt's
 * prefix in KV cache (prefix-cache, queue and KV-utilisation scorers), through a Gateway API route on the
 * platform's ingress gateway (models/serving/llmInferenceService.ts). Decode pods scale between
 * autoscaling.minReplicas (at least 1) and maxReplicas on the platform's ScaledObject (docs/llm-d.md).
 */
export const llmdSchema = z.strictObject({
  /**
   * Prefill/decode disaggregation: prompts are prefilled on pods of their own and the KV cache handed to
   * the decode pods over NIXL, so long prompts do not stall token generation. Its replicas are fixed.
   */
  prefill: z.strictObject({ replicas: z.number().int().min(1).max(100) }).optional(),
});
export type LlmdSettings = z.infer<typeof llmdSchema>;

/** A model's transformer shape, for models outside the catalog (models/capacity/architectures.ts). */
export const customArchitectureSchema = z.strictObject({
  parameters: z.number().positive(),
  layers: z.number().int().min(1),
  hiddenSize: z.number().int().min(1),
  intermediateSize: z.number().int().min(1),
  attentionHeads: z.number().int().min(1),
  kvHeads: z.number().int().min(1),
  headDim: z.number().int().min(1),
  vocabSize: z.number().int().min(1),
  tiedEmbeddings: z.boolean().default(false),
  maxContext: z.number().int().min(256),
  experts: z.number().int().min(1).default(1),
  /** config.json `architectures[0]`, e.g. LlamaForCausalLM: decides vLLM's model runner (and its reserve). */
  hfArchitecture: z
    .string()
    .regex(/^[A-Za-z0-9]+$/)
    .optional(),
});

const triggerSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("queueDepth"),
    target: z.number().positive(),
    activation: z.number().min(0).default(0),
  }),
  z.strictObject({
    type: z.literal("runningRequests"),
    target: z.number().positive(),
    activation: z.number().min(0).default(0),
  }),
  z.strictObject({
    type: z.literal("kvCacheUsage"),
    target: z.number().gt(0).max(1),
    activation: z.number().min(0).default(0),
  }),
  z.strictObject({
    type: z.literal("tokenThroughput"),
    target: z.number().positive(),
    activation: z.number().min(0).default(0),
  }),
  z.strictObject({ type: z.literal("tritonQueueTime"), targetMicroseconds: z.number().positive() }),
  z.strictObject({ type: z.literal("p99Latency"), targetSeconds: z.number().positive() }),
  z.strictObject({ type: z.literal("gpuUtilization"), targetPercent: z.number().min(1).max(100) }),
  z.strictObject({
    type: z.literal("concurrency"),
    target: z.number().positive(),
    targetUtilizationPercent: z.number().min(1).max(100).default(70),
  }),
  z.strictObject({ type: z.literal("rps"), target: z.number().positive() }),
  z.strictObject({ type: z.literal("cpu"), targetPercent: z.number().int().min(1).max(100) }),
  z.strictObject({ type: z.literal("memory"), targetPercent: z.number().int().min(1).max(100) }),
]);
export type AutoscalingTrigger = z.infer<typeof triggerSchema>;
export const KEDA_TRIGGERS = [
  "queueDepth",
  "runningRequests",
  "kvCacheUsage",
  "tokenThroughput",
  "tritonQueueTime",
  "p99Latency",
  "gpuUtilization",
] as const;
export const KPA_TRIGGERS = ["concurrency", "rps"] as const;
export const HPA_TRIGGERS = ["cpu", "memory"] as const;

/** maxReplicas left out: room to scale one replica beyond the minimum (at least 2), never a silent fixed size. */
export function defaultMaxReplicas(minReplicas: number): number {
  return Math.max(2, minReplicas + 1);
}

export const autoscalingSchema = z
  .strictObject({
    minReplicas: z.number().int().min(0).max(1000).default(1),
    /** Left out: defaultMaxReplicas(minReplicas). Equal to minReplicas: a fixed size, no autoscaler. */
    maxReplicas: z.number().int().min(1).max(1000).optional(),
    /** Empty: the platform picks the signal that fits the runtime (queue depth for LLMs, concurrency for Knative). */
    triggers: z.array(triggerSchema).default([]),
    /** KEDA: how often triggers are polled, seconds. */
    pollingIntervalSeconds: z.number().int().min(5).max(300).default(15),
    /**
     * KEDA / HPA: seconds of calm before scaling down. Left out: at least 5 minutes, and no shorter than a
     * new replica takes to serve on a warm node (predicted), so a replica given back is not wanted back
     * sooner than it could return.
     */
    scaleDownStabilizationSeconds: z.number().int().min(0).max(3600).optional(),
    /** KEDA: seconds after the last activation before scaling to zero (only with minReplicas 0). */
    cooldownPeriodSeconds: z.number().int().min(30).max(7200).default(600),
    /** Knative: how long the last pod is kept after traffic stops. */
    scaleToZeroRetention: z
      .string()
      .regex(/^[0-9]+[smh]$/)
      .default("0s"),
    panicWindowPercentage: z.number().min(1).max(100).default(10),
    initialScale: z.number().int().min(0).optional(),
    /**
     * Why one replica is acceptable (prod): a node loss stops the model until a replacement node boots
     * and loads it. Prod requires it with minReplicas 1.
     */
    outageOnNodeLoss: z.string().min(10).optional(),
    /**
     * Seconds within which a replica the autoscaler adds must serve (scale-up SLO). Checked against the
     * predicted time to ready: impossible even on a warm node is an error, on a new node a warning.
     */
    readyWithinSeconds: z.number().int().min(10).max(7200).optional(),
  })
  .transform((a) => ({ ...a, maxReplicas: a.maxReplicas ?? defaultMaxReplicas(a.minReplicas) }));
export type AutoscalingSettings = z.infer<typeof autoscalingSchema>;

/** What may differ between the stable and the candidate version of a model. */
export const versionSchema = z.strictObject({
  storageUri: z.string().min(1),
  /** Image override (`repo:tag` or `repo@sha256:…`). */
  image: z.string().min(1).optional(),
  args: z.array(z.string()).default([]),
  engine: engineOverrideSchema.optional(),
});
export type ModelVersion = z.infer<typeof versionSchema>;

export const ROLLOUT_MODES = ["canary", "ab", "blueGreen", "shadow"] as const;
export const rolloutSchema = z.strictObject({
  candidate: versionSchema,
  mode: z.enum(ROLLOUT_MODES).default("canary"),
  /** canary: share of requests to the candidate; shadow: share mirrored to it. */
  percent: z.number().int().min(0).max(100).default(0),
  /** ab: requests carrying this header value (or cookie) go to the candidate. */
  match: z
    .strictObject({
      header: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/)
        .optional(),
      cookie: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/)
        .optional(),
      value: z.string().min(1),
    })
    .optional(),
  /** blueGreen: which colour gets all traffic. */
  active: z.enum(["stable", "candidate"]).default("stable"),
  steps: z.array(z.number().int().min(1).max(100)).default([10, 50, 100]),
  /** Largest increase of the candidate's share in one edit; prod defaults to PROD_MAX_STEP. */
  maxStep: z.number().int().min(1).max(100).optional(),
  /** The metric gate `npm run rollout -- check` applies (Standard mode: candidate vs stable). */
  gate: z
    .strictObject({
      /** Window the comparison covers (PromQL range). */
      window: z
        .string()
        .regex(/^[0-9]+[smh]$/, "must be a PromQL duration such as 10m")
        .default("10m"),
      /** Requests each track must have served in the window before anything is decided. */
      minRequests: z.number().int().min(1).default(100),
      /** Candidate 5xx ratio may exceed stable's by at most this much (absolute, 0.01 = 1 point). */
      maxErrorRateIncrease: z.number().min(0).max(1).default(0.01),
      /** Candidate p95 latency / stable p95 latency. */
      maxLatencyRatio: z.number().min(1).default(1.2),
      /** LLMs: candidate / stable p95 time to first token and time per output token. */
      maxTimeToFirstTokenRatio: z.number().min(1).default(1.3),
      maxTimePerOutputTokenRatio: z.number().min(1).default(1.3),
    })
    .prefault({}),
});
/** Prod's default for rollout.maxStep: one edit never moves more than this share of traffic. */
export const PROD_MAX_STEP = 50;
export type RolloutSettings = z.infer<typeof rolloutSchema>;

/**
 * A transformer or explainer: its own pods, sized and scaled on CPU by KServe's HPA (they are CPU
 * services; the predictor's KEDA triggers measure the model server, not them).
 */
export const auxiliaryComponentSchema = z.strictObject({
  image: z.string().min(1),
  args: z.array(z.string()).default([]),
  resources: z.strictObject({ cpu: quantity.default("1"), memory: quantity.default("2Gi") }).prefault({}),
  minReplicas: z.number().int().min(1).max(100).default(1),
  maxReplicas: z.number().int().min(1).max(100).default(3),
  /** CPU utilisation (of the request) KServe's HPA keeps the component at. */
  targetCpuPercent: z.number().int().min(10).max(100).default(70),
});
export type AuxiliaryComponentConfig = z.infer<typeof auxiliaryComponentSchema>;

/** A model loaded into a shared multi-model server (KServe TrainedModel) instead of its own pods. */
export const trainedModelSchema = z.strictObject({
  name: dnsLabel,
  storageUri: z.string().min(1),
  /** Memory the model takes in the server; KServe's model agent packs models by it. */
  memory: quantity,
  /** Framework as the server knows it; defaults to the host's (sklearn, or the Triton model format). */
  framework: z.string().min(1).optional(),
});
export type TrainedModelConfig = z.infer<typeof trainedModelSchema>;

/** Offline (batch) inference with the model's runtime image, storage, identity and GPUs. */
export const batchJobSchema = z.strictObject({
  name: dnsLabel,
  /** Cron schedule (5 fields, UTC): a CronJob; left out, a one-off Job. */
  schedule: z
    .string()
    .regex(/^(\S+\s+){4}\S+$/, "must be a 5-field cron expression such as '0 2 * * *'")
    .optional(),
  /**
   * The batch entry point in the runtime image. The platform downloads the model to MODEL_DIR and the
   * input to INPUT_DIR first; the command writes its results to OUTPUT_URI (the role may write there).
   */
  command: z.array(z.string().min(1)).min(1),
  args: z.array(z.string()).default([]),
  input: z.string().min(1),
  output: z.string().min(1),
  parallelism: z.number().int().min(1).max(100).default(1),
  completions: z.number().int().min(1).max(10_000).optional(),
  backoffLimit: z.number().int().min(0).max(20).default(2),
  activeDeadlineSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(86400),
});
export type BatchJobConfig = z.infer<typeof batchJobSchema>;

export const modelSchema = z.strictObject({
  name: dnsLabel,
  namespace: dnsLabel.default("models"),
  runtime: z.enum(RUNTIMES),
  deploymentMode: z.enum(DEPLOYMENT_MODES).optional(),
  /** Where the model lives; left out only for a multi-model server (trainedModels). */
  storageUri: z.string().min(1).optional(),
  /** Triton / sklearn only: models served by this one server's pods (KServe multi-model serving). */
  trainedModels: z.array(trainedModelSchema).optional(),
  batchJobs: z.array(batchJobSchema).default([]),
  /** Model format for Triton (onnx, tensorrt, pytorch, tensorflow); derived for other runtimes. */
  format: z.enum(["onnx", "tensorrt", "pytorch", "tensorflow", "triton"]).optional(),
  protocol: z.enum(["v1", "v2"]).optional(),
  image: z.string().min(1).optional(),
  args: z.array(z.string()).default([]),
  gpu: gpuSchema.optional(),
  /** LLMs: a catalog name (e.g. llama-3.1-8b) or a declared shape; inferred from storageUri when it names a catalog model. */
  architecture: z.union([z.string().min(1), customArchitectureSchema]).optional(),
  /** LLMs: full-length (maxModelLen) sequences each replica's KV cache must hold at once. */
  minConcurrency: z.number().int().min(1).max(1024).default(4),
  resources: z
    .strictObject({
      cpu: quantity.optional(),
      memory: quantity.optional(),
    })
    .prefault({}),
  /** CUDA version of a custom image the compatibility data does not know (e.g. "12.8"). */
  cudaVersion: z
    .string()
    .regex(/^[0-9]+\.[0-9]+$/, "must be a CUDA version such as 12.8")
    .optional(),
  /** Size of the in-memory /dev/shm (LLM and multi-GPU pods). */
  shmSize: quantity.optional(),
  /** vLLM: LoRA adapters on this base model, each served under its own name (models/capacity/lora.ts). */
  adapters: z.array(adapterSchema).default([]),
  /** vLLM: serve through llm-d (KServe LLMInferenceService) with prefix-cache-aware routing. */
  llmd: llmdSchema.optional(),
  /** Startup budget for loading the model, seconds (startup probe = this / period). */
  startupSeconds: z.number().int().min(30).max(7200).optional(),
  /**
   * Keep the weights on every node of the model's GPU pool (models/serving/weightCache.ts): a new replica
   * on such a node mounts them instead of downloading. `sizeGiB`: the checkpoint's size where the planner
   * cannot tell it (non-LLMs).
   */
  nodeCache: z.strictObject({ sizeGiB: z.number().min(0.1).max(4096).optional() }).optional(),
  engine: engineSchema.prefault({}),
  /** KServe request batcher (predictor.batcher) for runtimes without native batching. */
  batcher: z
    .strictObject({
      maxBatchSize: z.number().int().min(1).max(1024).default(32),
      maxLatencyMs: z.number().int().min(1).max(10_000).default(50),
    })
    .optional(),
  /** A pre/post-processing container in front of the predictor (requests reach it first). */
  transformer: auxiliaryComponentSchema.optional(),
  /** An explainer (`/v1/models/<model>:explain`). */
  explainer: auxiliaryComponentSchema.optional(),
  /** Name of a platform secret (inference-platform:secrets) holding a Hugging Face token for hf:// URIs. */
  hfTokenSecret: z.string().optional(),
  autoscaling: autoscalingSchema.prefault({}),
  rollout: rolloutSchema.optional(),
  /** Header carrying a session or user id: consistent hashing on it keeps a conversation on the replica that has its prefix cached. */
  sessionAffinityHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .optional(),
});
/** A model entry as parsed from config (placement may still be `auto` or lack a GPU count). */
export type ModelInput = z.infer<typeof modelSchema>;

export function isLlm(model: Pick<ModelInput, "runtime">): boolean {
  return LLM_RUNTIMES.includes(model.runtime);
}
