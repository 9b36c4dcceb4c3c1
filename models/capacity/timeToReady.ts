/**
 * How long a new replica takes to serve, step by step, from published figures (startupFigures.ts):
 *
 *   new node:       autoscaler reaction + EC2 launch to Ready + GPU devices advertised
 *   image:          compressed image bytes / pull-and-unpack throughput         (new node only)
 *   download:       checkpoint bytes / min(source throughput, instance network)  (KServe's storage initializer)
 *   load:           checkpoint bytes / local read into GPU memory, by load format
 *   engine:         vLLM's profiling, KV cache allocation and CUDA graphs
 *
 * "warm" is a replica on a node that already has the image; "cold" needs a new node. Each total is a
 * range [fast, slow]. Steps without a published figure (a runtime's image size, a non-LLM's weights)
 * are left out and the total says it is partial. The startup probe covers load + engine only: the
 * storage initializer downloads before the model container starts. Pure: model and pool in, numbers out.
 */
import type { ModelConfig, PlacedModels } from "../plannedModel";

export type { ModelTimeToReady, Range, Step, StepEstimate } from "./readiness";
import type { Problem } from "../../config/problems";
import type { GpuPoolConfig } from "../../config/schema";
import { isLlm } from "../schema";
import { resolveArchitecture } from "./planner";
import { weightBytes } from "./memory";
import type { ModelTimeToReady, Range, Step, StepEstimate } from "./readiness";
import {
  AUTOSCALER_REACTION,
  GPU_DEVICES_ADVERTISED,
  IMAGE_BYTES,
  IMAGE_PULL_BYTES_PER_SECOND,
  INTERNET_DOWNLOAD_BYTES_PER_SECOND,
  LOAD_BYTES_PER_SECOND,
  NETWORK_BASELINE_GBPS,
  NODE_LAUNCH_TO_READY,
  S3_DOWNLOAD,
  VLLM_ENGINE_START,
} from "./startupFigures";

export type NodeAutoscaler = "cluster-autoscaler" | "karpenter" | "none";

/**
 * Bytes the storage initializer downloads: the checkpoint as published. AWQ/GPTQ checkpoints are
 * 4-bit; fp8/int8 quantization in vLLM starts from a 16-bit checkpoint unless the repository is
 * already quantized (which the config cannot tell), so the 16-bit size is the conservative figure.
 */
export function checkpointBytes(model: ModelConfig): number | undefined {
  if (!isLlm(model)) return undefined;
  const resolved = resolveArchitecture(model);
  if ("error" in resolved) return undefined;
  const q = model.engine.quantization;
  return weightBytes(resolved.architecture, {
    quantization: q === "awq" || q === "gptq" ? q : undefined,
    dtype: model.engine.dtype,
    kvCacheDtype: "auto",
  });
}

function nodeStep(pool: GpuPoolConfig | undefined, autoscaler: NodeAutoscaler): StepEstimate {
  if (autoscaler === "none")
    return { step: "node", basis: "no node autoscaler: a replica beyond the pool's nodes stays Pending" };
  const reaction = AUTOSCALER_REACTION[autoscaler];
  const gpu = pool ? GPU_DEVICES_ADVERTISED : { low: 0, high: 0, source: "" };
  return {
    step: "node",
    low: reaction.low + NODE_LAUNCH_TO_READY.low + gpu.low,
    high: reaction.high + NODE_LAUNCH_TO_READY.high + gpu.high,
    basis: [reaction.source, NODE_LAUNCH_TO_READY.source, gpu.source].filter(Boolean).join("; "),
  };
}

function imageStep(model: ModelConfig): StepEstimate {
  const image = IMAGE_BYTES[model.runtime];
  if (!image || model.image)
    return { step: "image", basis: `no published size for ${model.image ?? model.runtime}'s image` };
  return {
    step: "image",
    low: image.bytes / IMAGE_PULL_BYTES_PER_SECOND.low,
    high: image.bytes / IMAGE_PULL_BYTES_PER_SECOND.high,
    basis: `${image.source}; ${IMAGE_PULL_BYTES_PER_SECOND.source}`,
  };
}

function downloadStep(
  model: ModelConfig,
  bytes: number | undefined,
  instanceType: string | undefined,
): StepEstimate {
  const uri = model.storageUri ?? "";
  if (uri.startsWith("pvc://"))
    return { step: "download", low: 0, high: 0, basis: "pvc://: mounted, nothing to download" };
  if (bytes === undefined)
    return { step: "download", basis: "checkpoint size unknown (not an LLM of a known architecture)" };
  const gbps = NETWORK_BASELINE_GBPS[instanceType ?? ""];
  const network = gbps === undefined ? Number.POSITIVE_INFINITY : (gbps * 1e9) / 8;
  const networkNote =
    gbps === undefined
      ? ""
      : `; ${instanceType} network baseline ${gbps} Gbit/s (Karpenter v1.14.1 zz_generated.bandwidth.go)`;
  if (uri.startsWith("s3://")) {
    const s3 = S3_DOWNLOAD;
    const fast = Math.min(network, s3.filesAtOnce * s3.partsPerFile * s3.bytesPerConnection);
    const slow = Math.min(network, s3.filesAtOnce * s3.bytesPerConnection);
    return { step: "download", low: bytes / fast, high: bytes / slow, basis: `${s3.source}${networkNote}` };
  }
  if (uri.startsWith("hf://") || uri.startsWith("gs://") || uri.startsWith("https://"))
    return {
      step: "download",
      low: bytes / Math.min(network, INTERNET_DOWNLOAD_BYTES_PER_SECOND.low),
      high: bytes / Math.min(network, INTERNET_DOWNLOAD_BYTES_PER_SECOND.high),
      basis: `${INTERNET_DOWNLOAD_BYTES_PER_SECOND.source}${networkNote}`,
    };
  return { step: "download", basis: `no published throughput for ${uri.split("://")[0]}://` };
}

function loadStep(model: ModelConfig, bytes: number | undefined): StepEstimate {
  if (bytes === undefined) return { step: "load", basis: "checkpoint size unknown" };
  const rate = LOAD_BYTES_PER_SECOND[model.runtime === "vllm" ? model.engine.loadFormat : "auto"];
  // The node's copy was written long before by the downloader (1 GiB memory limit): not in the page
  // cache, so the fast end is the disk read too.
  if (model.nodeCache)
    return {
      step: "load",
      low: bytes / rate.high,
      high: bytes / rate.high,
      basis: `${rate.source}; from the node's copy, the page cache not assumed`,
    };
  return { step: "load", low: bytes / rate.low, high: bytes / rate.high, basis: rate.source };
}

function engineStep(model: ModelConfig): StepEstimate {
  if (model.runtime !== "vllm")
    return { step: "engine", basis: `no published start-up figure for ${model.runtime}` };
  return {
    step: "engine",
    low: VLLM_ENGINE_START.low,
    high: VLLM_ENGINE_START.high,
    basis: VLLM_ENGINE_START.source,
  };
}

function total(steps: readonly StepEstimate[], which: readonly Step[]): Range {
  const chosen = steps.filter((s) => which.includes(s.step));
  return {
    low: chosen.reduce((sum, s) => sum + (s.low ?? 0), 0),
    high: chosen.reduce((sum, s) => sum + (s.high ?? 0), 0),
    partial: chosen.some((s) => s.low === undefined),
  };
}

const sum = (a: Range, b: Range): Range => ({
  low: a.low + b.low,
  high: a.high + b.high,
  partial: a.partial || b.partial,
});
const slower = (a: Range, b: Range): Range => ({
  low: Math.max(a.low, b.low),
  high: Math.max(a.high, b.high),
  partial: a.partial || b.partial,
});

export function predictTimeToReady(
  model: ModelConfig,
  pool: GpuPoolConfig | undefined,
  autoscaler: NodeAutoscaler,
): ModelTimeToReady {
  const bytes = checkpointBytes(model);
  const steps = [
    nodeStep(pool, autoscaler),
    imageStep(model),
    downloadStep(model, bytes, model.capacity?.instanceType ?? pool?.instanceTypes[0]),
    loadStep(model, bytes),
    engineStep(model),
  ];
  const cached = model.nodeCache !== undefined;
  return {
    model: model.name,
    steps,
    // Cached (nodeCache): a warm node already holds the weights; a new node fetches them while the
    // predictor's image is pulled, so the slower of the two counts.
    warm: total(steps, cached ? ["load", "engine"] : ["download", "load", "engine"]),
    cold: cached
      ? sum(
          total(steps, ["node", "load", "engine"]),
          slower(total(steps, ["image"]), total(steps, ["download"])),
        )
      : total(steps, ["node", "image", "download", "load", "engine"]),
    probe: total(steps, ["load", "engine"]),
    ...(bytes === undefined ? {} : { checkpointGiB: bytes / 2 ** 30 }),
  };
}

type ReadinessInput = Pick<PlacedModels, "gpuPools" | "cluster" | "models">;

/** The node autoscaler that would add a node for this model, or none. */
function autoscalerFor(cfg: ReadinessInput): NodeAutoscaler {
  if (cfg.cluster.mode !== "eks") return "none";
  // Under Karpenter, CPU models have a NodePool of their own (models/cluster/karpenterCpuPool.ts).
  return cfg.cluster.nodeAutoscaler;
}

/** Every model with its predicted time to ready attached. */
export function planTimeToReady(cfg: ReadinessInput): ModelConfig[] {
  return cfg.models.map((m) => {
    const pool = m.gpu ? cfg.gpuPools.find((p) => p.name === m.gpu!.pool) : undefined;
    return { ...m, timeToReady: predictTimeToReady(m, pool, autoscalerFor(cfg)) };
  });
}

const fmt = (r: Range, which: "low" | "high") => `${r.partial ? "at least " : ""}${Math.round(r[which])} s`;

/**
 * Startup probes and scale-up SLOs against the prediction. Errors: a startup probe shorter than the
 * slowest predicted load (it would restart a healthy replica, forever, on paid GPUs), and an SLO no
 * node can meet (even a warm one is slower). Warnings: an SLO met only when a node is already there.
 */
export function readinessProblems(cfg: ReadinessInput): { errors: Problem[]; warnings: Problem[] } {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  cfg.models.forEach((m, i) => {
    const t = m.timeToReady;
    if (!t) return;
    const at = `models[${i}]`;
    if (m.startupSeconds !== undefined && !t.probe.partial && m.startupSeconds < t.probe.high)
      errors.push({
        path: `${at}.startupSeconds`,
        message: `${m.startupSeconds} s is shorter than the predicted load and engine start (${fmt(t.probe, "low")}..${fmt(t.probe, "high")}): the startup probe would restart a replica that is still loading; leave it out (sized from the prediction) or raise it`,
      });
    const slo = m.autoscaling.readyWithinSeconds;
    if (slo === undefined) return;
    if (t.warm.low > slo)
      errors.push({
        path: `${at}.autoscaling.readyWithinSeconds`,
        message: `a new replica needs ${fmt(t.warm, "low")} even on a node that has its image (download, load, engine start), over ${slo} s; keep spare replicas (minReplicas), keep the weights on the nodes (nodeCache), load with engine.loadFormat runai_streamer, or loosen the SLO`,
      });
    else if (t.cold.high > slo || t.cold.partial)
      warnings.push({
        path: `${at}.autoscaling.readyWithinSeconds`,
        message: `a replica that needs a new node takes ${fmt(t.cold, "low")}..${fmt(t.cold, "high")} (node, image, download, load, engine), over ${slo} s: the SLO holds only while a node with room is up; keep spare replicas or warm nodes`,
      });
  });
  return { errors, warnings };
}

/** Never a shorter startup window than this: a hung load is restarted within minutes, not hours. */
const MIN_PREDICTED_STARTUP_SECONDS = 300;

/**
 * The startup probe's window when config leaves it out: twice the slowest predicted load and engine
 * start, on the minute, at least MIN_PREDICTED_STARTUP_SECONDS; `fallback` when nothing is predicted.
 */
export function startupSecondsFromPrediction(t: ModelTimeToReady | undefined, fallback: number): number {
  if (!t || t.probe.partial) return fallback;
  return Math.max(MIN_PREDICTED_STARTUP_SECONDS, Math.ceil((2 * t.probe.high) / 60) * 60);
}

/** The scale-down calm when config leaves it out (seconds): 5 minutes, or a warm replica's slow return. */
const MIN_SCALE_DOWN_STABILIZATION_SECONDS = 300;

export function scaleDownStabilizationFromPrediction(t: ModelTimeToReady | undefined): number {
  if (!t || t.warm.partial) return MIN_SCALE_DOWN_STABILIZATION_SECONDS;
  return Math.min(3600, Math.max(MIN_SCALE_DOWN_STABILIZATION_SECONDS, Math.ceil(t.warm.high / 60) * 60));
}
