/**
 * One entry per runtime: which KServe runtime serves it, its model format, protocol, health endpoints,
 * metrics port and how engine settings become flags. KServe concatenates runtime args first and
 * InferenceService args after, so a flag given here overrides the runtime's default (argparse: last wins).
 */
import type { EngineSettings, ModelVersion, Runtime } from "../schema";
import { IMAGES } from "../versions";
import { formatImage } from "./images";
import { customObject } from "../k8s";
import { loraSlots } from "../capacity/lora";

export interface RuntimeSpec {
  /** ClusterServingRuntime name (explicit, so KServe never auto-selects another one). */
  readonly runtime: string;
  readonly modelFormat: string;
  readonly protocol: "v1" | "v2";
  readonly image: string;
  readonly port: number;
  /**
   * Where the server exposes Prometheus metrics (the kserve-runtime-configs chart's
   * `prometheus.kserve.io/port` per runtime: 8080, Triton 8002, TorchServe 8082). Istio merges this
   * port into the sidecar's 15020 when the pod carries prometheus.io annotations for it.
   */
  readonly metricsPort: number;
  readonly health: { live: string; ready: string };
  /**
   * KServe Python model servers register the model under `--model_name`, which the runtime template sets
   * to the InferenceService's name (kserve-runtime-configs resources.yaml `--model_name={{.Name}}`); the
   * platform passes the model's own name so a `<model>-canary` InferenceService serves `/v2/models/<model>`.
   */
  readonly namesModel: boolean;
}

/** The platform's own TGI runtime (KServe ships none). */
export const TGI_RUNTIME_NAME = "platform-tgi";

const KSERVE_HEALTH = { live: "/v2/health/live", ready: "/v2/health/ready" };

const RUNTIMES: Record<Runtime, RuntimeSpec> = {
  // KServe's Hugging Face server with the vLLM backend: pinned with the KServe release (vLLM 0.24.0),
  // OpenAI endpoints under /openai/v1, and KServe's storage initializer. kserve-vllmserver would float
  // on vllm/vllm-openai:latest.
  vllm: {
    runtime: "kserve-huggingfaceserver",
    modelFormat: "huggingface",
    protocol: "v2",
    image: formatImage(IMAGES.huggingfaceServer),
    port: 8080,
    metricsPort: 8080,
    namesModel: false,
    health: KSERVE_HEALTH,
  },
  tgi: {
    runtime: TGI_RUNTIME_NAME,
    modelFormat: "huggingface-tgi",
    protocol: "v2",
    image: formatImage(IMAGES.tgi),
    port: 8080,
    metricsPort: 8080,
    namesModel: false,
    health: { live: "/health", ready: "/health" },
  },
  triton: {
    runtime: "kserve-tritonserver",
    modelFormat: "triton",
    protocol: "v2",
    image: formatImage(IMAGES.triton),
    port: 8080,
    metricsPort: 8002,
    namesModel: false,
    health: KSERVE_HEALTH,
  },
  // With protocol v2 KServe would pick mlserver (higher priority); name the runtime explicitly.
  sklearn: {
    runtime: "kserve-sklearnserver",
    modelFormat: "sklearn",
    protocol: "v2",
    image: formatImage(IMAGES.sklearnServer),
    port: 8080,
    metricsPort: 8080,
    namesModel: true,
    health: KSERVE_HEALTH,
  },
  xgboost: {
    runtime: "kserve-xgbserver",
    modelFormat: "xgboost",
    protocol: "v2",
    image: formatImage(IMAGES.xgbServer),
    port: 8080,
    metricsPort: 8080,
    namesModel: true,
    health: KSERVE_HEALTH,
  },
  lightgbm: {
    runtime: "kserve-lgbserver",
    modelFormat: "lightgbm",
    protocol: "v2",
    image: formatImage(IMAGES.lgbServer),
    port: 8080,
    metricsPort: 8080,
    namesModel: true,
    health: KSERVE_HEALTH,
  },
  torchserve: {
    runtime: "kserve-torchserve",
    modelFormat: "pytorch",
    protocol: "v1",
    image: formatImage(IMAGES.torchserve),
    port: 8080,
    metricsPort: 8082,
    namesModel: false,
    health: { live: "/v1/models", ready: "/v1/models" },
  },
};

/** A runtime's entry; Triton serves the model format config names (onnx, tensorrt, …). */
export function runtimeSpec(runtime: Runtime, format?: string): RuntimeSpec {
  const spec = RUNTIMES[runtime];
  return runtime === "triton" && format ? { ...spec, modelFormat: format } : spec;
}

/** Where a LoRA adapter's files are in the predictor (KServe's storageUris mountPath). */
export const ADAPTER_DIR = "/mnt/adapters";

export interface EngineArgsInput {
  readonly servedName: string;
  /** LoRA adapters on the base model (vLLM only). */
  readonly adapters?: ReadonlyArray<{ name: string; rank: number }>;
  readonly engine: EngineSettings;
  /** Values the capacity planner derived when config left them out. */
  readonly derived: { maxModelLen?: number; maxNumSeqs?: number; gpuMemoryUtilization?: number };
  /** Left out for a multi-node replica: its runtime passes the degree the controller sets. */
  readonly tensorParallelSize?: number;
}

function speculativeConfig(spec: NonNullable<EngineSettings["speculative"]>): string {
  const body =
    spec.method === "ngram"
      ? {
          method: "ngram",
          num_speculative_tokens: spec.numSpeculativeTokens,
          prompt_lookup_max: spec.promptLookupMax,
        }
      : { method: spec.method, model: spec.model, num_speculative_tokens: spec.numSpeculativeTokens };
  return JSON.stringify(body);
}

/** vLLM flags (passed through the Hugging Face server's parser verbatim). */
export function vllmArgs(input: EngineArgsInput): string[] {
  return [
    `--model_name=${input.servedName}`,
    // The Hugging Face server never passes a served name to vLLM (huggingfaceserver/__main__.py 233-236),
    // so vLLM's model_name metric label would be the path /mnt/models; the autoscaling queries select on it.
    `--served-model-name=${input.servedName}`,
    "--backend=vllm",
    ...vllmEngineArgs(input),
  ];
}

/** The engine's own flags, as `vllm serve` takes them (llm-d's presets run vllm serve directly). */
export function vllmEngineArgs(input: Omit<EngineArgsInput, "servedName">): string[] {
  const e = input.engine;
  const maxModelLen = e.maxModelLen ?? input.derived.maxModelLen;
  const maxNumSeqs = e.maxNumSeqs ?? input.derived.maxNumSeqs;
  const util = e.gpuMemoryUtilization ?? input.derived.gpuMemoryUtilization ?? 0.9;
  const args = [
    // Multi-node and llm-d: the runtime's command passes the controller's parallel degrees itself.
    ...(input.tensorParallelSize !== undefined ? [`--tensor-parallel-size=${input.tensorParallelSize}`] : []),
    `--gpu-memory-utilization=${util}`,
  ];
  if (maxModelLen) args.push(`--max-model-len=${maxModelLen}`);
  if (maxNumSeqs) args.push(`--max-num-seqs=${maxNumSeqs}`);
  if (e.maxNumBatchedTokens) args.push(`--max-num-batched-tokens=${e.maxNumBatchedTokens}`);
  // An int8 (W8A8) checkpoint declares its scheme in quantization_config; vLLM detects it.
  if (e.quantization && e.quantization !== "int8") args.push(`--quantization=${e.quantization}`);
  if (e.dtype !== "auto") args.push(`--dtype=${e.dtype}`);
  if (e.kvCacheDtype !== "auto") args.push(`--kv-cache-dtype=${e.kvCacheDtype}`);
  args.push(e.prefixCaching ? "--enable-prefix-caching" : "--no-enable-prefix-caching");
  args.push(e.chunkedPrefill ? "--enable-chunked-prefill" : "--no-enable-chunked-prefill");
  if (e.speculative) args.push(`--speculative-config=${speculativeConfig(e.speculative)}`);
  args.push(...loraArgs(input.adapters ?? []));
  if (e.loadFormat === "runai_streamer")
    args.push(
      "--load-format=runai_streamer",
      // Reads at once; 16 was the streamer's best on gp3 (run-ai/runai-model-streamer benchmarks). vLLM
      // 0.24 accepts concurrency, memory_limit and distributed here (runai_streamer_loader.py 31-65).
      `--model-loader-extra-config=${JSON.stringify({ concurrency: RUNAI_STREAMER_CONCURRENCY })}`,
    );
  return [...args, ...e.extraArgs];
}

export const RUNAI_STREAMER_CONCURRENCY = 16;

/**
 * vLLM's LoRA flags for the configured adapters (vllm 0.24.0 engine/arg_utils.py 1303-1331): one slot
 * per adapter, so a batch may mix them all; the largest rank rounded up to one vLLM accepts; every
 * adapter kept on the CPU too; each served under its own name (`--lora-modules name=path`, nargs "+",
 * entrypoints/openai/cli_args.py 35-66), which KServe's Hugging Face server registers as model names
 * (huggingfaceserver/__main__.py 332-336).
 */
export function loraArgs(adapters: ReadonlyArray<{ name: string; rank: number }>): string[] {
  const slots = loraSlots(adapters);
  if (!slots) return [];
  return [
    "--enable-lora",
    `--max-loras=${slots.maxLoras}`,
    `--max-lora-rank=${slots.maxRank}`,
    `--max-cpu-loras=${slots.maxLoras}`,
    "--lora-modules",
    ...adapters.map((a) => `${a.name}=${ADAPTER_DIR}/${a.name}`),
  ];
}

/** The same engine settings in TGI's vocabulary (text-generation-launcher flags). */
export function tgiArgs(input: EngineArgsInput): string[] {
  const e = input.engine;
  const maxModelLen = e.maxModelLen ?? input.derived.maxModelLen;
  const maxNumSeqs = e.maxNumSeqs ?? input.derived.maxNumSeqs;
  const args = ["--model-id=/mnt/models", "--port=8080", `--num-shard=${input.tensorParallelSize ?? 1}`];
  if (maxModelLen) args.push(`--max-total-tokens=${maxModelLen}`, `--max-input-tokens=${maxModelLen - 1}`);
  // TGI's --max-batch-size is the number of requests decoded together: vLLM's max-num-seqs.
  if (maxNumSeqs) args.push(`--max-batch-size=${maxNumSeqs}`);
  if (e.maxNumBatchedTokens) args.push(`--max-batch-prefill-tokens=${e.maxNumBatchedTokens}`);
  // TGI quantizes 16-bit weights to int8 on load with EETQ.
  if (e.quantization) args.push(`--quantize=${e.quantization === "int8" ? "eetq" : e.quantization}`);
  if (e.dtype !== "auto") args.push(`--dtype=${e.dtype}`);
  if (e.kvCacheDtype.startsWith("fp8")) args.push("--kv-cache-dtype=fp8_e4m3fn");
  const util = e.gpuMemoryUtilization ?? input.derived.gpuMemoryUtilization;
  if (util) args.push(`--cuda-memory-fraction=${util}`);
  if (e.speculative?.method === "ngram") args.push(`--speculate=${e.speculative.numSpeculativeTokens}`);
  return [...args, ...e.extraArgs];
}

/** Args for one version of a model: engine flags for LLM runtimes, then the user's own args. */
export function modelArgs(
  runtime: Runtime,
  version: Pick<ModelVersion, "args">,
  engineInput?: EngineArgsInput,
  servedName?: string,
): string[] {
  if (runtime === "vllm" && engineInput) return [...vllmArgs(engineInput), ...version.args];
  if (runtime === "tgi" && engineInput) return [...tgiArgs(engineInput), ...version.args];
  const naming = servedName && runtimeSpec(runtime).namesModel ? [`--model_name=${servedName}`] : [];
  return [...naming, ...version.args];
}

/** The ClusterServingRuntime for TGI (serving.kserve.io/v1alpha1), installed once per cluster. */
export function tgiClusterServingRuntime() {
  return customObject("serving.kserve.io/v1alpha1/ClusterServingRuntime", {
    metadata: { name: TGI_RUNTIME_NAME, labels: { "app.kubernetes.io/part-of": "inference-platform" } },
    spec: {
      annotations: { "prometheus.kserve.io/port": "8080", "prometheus.kserve.io/path": "/metrics" },
      supportedModelFormats: [{ name: "huggingface-tgi", version: "1", autoSelect: false }],
      protocolVersions: ["v2"],
      containers: [
        {
          name: "kserve-container",
          image: formatImage(IMAGES.tgi),
          args: ["--model-id=/mnt/models", "--port=8080"],
          env: [{ name: "HF_HUB_OFFLINE", value: "1" }],
          ports: [{ containerPort: 8080, protocol: "TCP" }],
          resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "1", memory: "2Gi" } },
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            runAsNonRoot: false,
          },
          volumeMounts: [{ name: "devshm", mountPath: "/dev/shm" }],
        },
      ],
      volumes: [{ name: "devshm", emptyDir: { medium: "Memory" } }],
    },
  });
}
