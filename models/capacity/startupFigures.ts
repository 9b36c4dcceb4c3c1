/**
 * Published figures the time-to-ready prediction is built from, each with its source. A range is
 * [fast, slow]: the best and the worst the sources report for that step, not a confidence interval.
 * Read 2026-12-01; where a source measured something close to but not exactly our case, the note says so.
 */

export interface Figure {
  readonly low: number;
  readonly high: number;
  readonly source: string;
}

/** Seconds from a pending pod to the autoscaler asking for a node. */
export const AUTOSCALER_REACTION: Record<"cluster-autoscaler" | "karpenter", Figure> = {
  "cluster-autoscaler": {
    low: 5,
    high: 30,
    source:
      'Cluster Autoscaler FAQ: "No more than 30 sec latency on small clusters ... with the average latency of about 5 sec"',
  },
  karpenter: {
    low: 1,
    high: 10,
    source: "Karpenter 1.14.1 chart values: settings.batchIdleDuration 1s, batchMaxDuration 10s",
  },
};

/** Seconds from the EC2 request to the node reporting Ready. */
export const NODE_LAUNCH_TO_READY: Figure = {
  low: 24,
  high: 100,
  source:
    "awslabs/node-latency-for-k8s README (c6a.large: Node Ready 24 s after the EC2 request); aws/karpenter-provider-aws#3102 (100 s to Ready, GPU-less)",
};

/** Seconds more before a GPU node advertises nvidia.com/gpu (driver and device plugin registration). */
export const GPU_DEVICES_ADVERTISED: Figure = {
  low: 60,
  high: 60,
  source:
    'aws/karpenter-provider-aws#1459: registering nvidia.com/gpu "takes longer than 60 seconds usually"',
};

/** Image pull and unpack onto a new node, compressed bytes per second. */
export const IMAGE_PULL_BYTES_PER_SECOND: Figure = {
  // 10.31 GB in 54.02 s, and 9.5 GB in 334 s.
  low: 10.31e9 / 54.02,
  high: 9.5e9 / 334,
  source:
    "moby/buildkit#6358 (vllm-openai 10.31 GB compressed, `ctr i pull` 54 s); terraform-aws-eks-blueprints ml-container-cache (9.5 GB compressed image on EKS, 334 s uncached)",
};

/**
 * Compressed sizes of the serving images, bytes; runtimes without a published size are left out.
 * vLLM: vllm-openai's (the KServe Hugging Face image carries the same vLLM and CUDA stack; its own size
 * is not published). Triton: the size reported for 24.06-py3 (a later release is no smaller).
 */
export const IMAGE_BYTES: Partial<Record<string, { bytes: number; source: string }>> = {
  vllm: { bytes: 10.31e9, source: "moby/buildkit#6358: vllm-openai v0.9.0, 10.31 GB compressed" },
  triton: { bytes: 15.5e9, source: 'triton-inference-server/server#7474: 24.06-py3 "about 15.5GB"' },
};

/**
 * Amazon S3 through KServe's storage initializer: up to S3_MAX_FILE_CONCURRENCY (4) files at once
 * (kserve v0.20.0 python/storage/kserve_storage/kserve_storage.py 71, 572), each a boto3 download_file
 * with its default 10 concurrent parts, each part one connection of 85–90 MB/s.
 */
export const S3_DOWNLOAD = {
  filesAtOnce: 4,
  partsPerFile: 10,
  bytesPerConnection: 85e6,
  source:
    'S3 performance design patterns: "one concurrent request for each 85–90 MB/s"; KServe storage initializer: 4 files at once, each boto3\'s 10 parts (fast) or one (slow: its 1 CPU busy)',
} as const;

/** Hugging Face Hub (and other internet sources): no published throughput, only observed downloads. */
export const INTERNET_DOWNLOAD_BYTES_PER_SECOND: Figure = {
  low: 548e6,
  high: 29.8e6,
  source: "observed in vLLM logs: 548 MB/s (vllm-project/vllm#6234), 29.8 MB/s (vllm-project/vllm#12917)",
};

/** Reading a checkpoint from local disk into GPU memory, bytes per second, by vLLM load format. */
export const LOAD_BYTES_PER_SECOND: Record<"auto" | "runai_streamer", Figure> = {
  auto: {
    // 79.35 GiB in 30.67 s from page cache; 15 GB in 47.99 s from gp3.
    low: (79.348 * 2 ** 30) / 30.666,
    high: 15e9 / 47.99,
    source:
      "vllm-project/vllm-omni#4896 (79.3 GiB in 30.7 s, checkpoint in page cache); run-ai/runai-model-streamer benchmarks (safetensors, 15 GB from gp3 in 47.99 s)",
  },
  runai_streamer: {
    low: (79.348 * 2 ** 30) / 30.666,
    high: 15e9 / 14.34,
    source: "run-ai/runai-model-streamer benchmarks (streamer, concurrency 16: 15 GB from gp3 in 14.34 s)",
  },
};

/** vLLM's start after the weights are loaded (profiling, KV cache, CUDA graphs), seconds. */
export const VLLM_ENGINE_START: Figure = {
  low: 66.13 - 47.99,
  high: 66.13 - 47.99,
  source:
    "run-ai/runai-model-streamer benchmarks: engine ready 66.13 s after a 47.99 s load (Llama-3-8B, A10G)",
};

/**
 * Baseline network bandwidth per instance type, Gbit/s: the first figure of "Baseline / Burst bandwidth"
 * in the EC2 instance types guide, as Karpenter v1.14.1 generates it
 * (pkg/providers/instancetype/zz_generated.bandwidth.go). On p4d/p5 it spans every network card.
 */
export const NETWORK_BASELINE_GBPS: Readonly<Record<string, number>> = {
  "g5.xlarge": 2.5,
  "g5.2xlarge": 5,
  "g5.4xlarge": 10,
  "g5.12xlarge": 40,
  "g5.48xlarge": 100,
  "g6.xlarge": 2.5,
  "g6.2xlarge": 5,
  "g6.12xlarge": 40,
  "g6.48xlarge": 100,
  "g6e.xlarge": 2.5,
  "g6e.2xlarge": 5,
  "g6e.12xlarge": 100,
  "g6e.48xlarge": 400,
  "p4d.24xlarge": 400,
  "p4de.24xlarge": 400,
  "p5.4xlarge": 100,
  "p5.48xlarge": 3200,
  "p5e.48xlarge": 3200,
  "p5en.48xlarge": 3200,
};
