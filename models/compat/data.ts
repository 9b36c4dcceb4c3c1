/**
 * Compatibility data, each row with its source (../shared/reference/gpu-nodes.md collects them, read
 * 2026-08): the CUDA inside the serving images, the NVIDIA driver the EKS NVIDIA node images ship, what
 * each driver branch runs, and the Kubernetes versions the add-ons support.
 */

/** Driver branch → the CUDA version it supports natively (what nvidia-smi reports). gpu-nodes.md §2.2. */
export const DRIVER_BRANCHES: Record<number, { nativeCuda: string; source: string }> = {
  535: {
    nativeCuda: "12.2",
    source: "bottlerocket-kernel-kit PR #84 nvidia-smi output (535.230.02 / CUDA 12.2)",
  },
  570: { nativeCuda: "12.8", source: "nvidia-smi 570.133.07 / CUDA 12.8 (Datura-ai/lium-io PR #511)" },
  575: { nativeCuda: "12.9", source: "R575 ships with CUDA 12.9 (gpu-nodes.md §2.2, inference)" },
  580: { nativeCuda: "13.0", source: "EKS user guide: the 580 driver is required to use CUDA 13+" },
  590: { nativeCuda: "13.1", source: "590.44.01 / CUDA 13.1 (beclab/Olares PR #2264)" },
  595: {
    nativeCuda: "13.2",
    source: "595.71.05 with CUDA 13.2.1 (stackhpc/ansible-slurm-appliance PR #939)",
  },
};

/** Minimum driver branch per CUDA major under minor-version compatibility (NVIDIA CUDA compatibility docs). */
export const MIN_DRIVER_FOR_CUDA_MAJOR: Record<number, number> = { 12: 525, 13: 580 };

export interface ImageCuda {
  readonly repository: string;
  /** Exact tag, or a pattern for a family of tags. */
  readonly tag: string | RegExp;
  /** CUDA runtime in the image; null for a CPU-only build. */
  readonly cuda: string | null;
  readonly source: string;
}

/** CUDA inside serving images (gpu-nodes.md §0.1 and §3). */
export const IMAGE_CUDA: readonly ImageCuda[] = [
  {
    repository: "kserve/huggingfaceserver",
    tag: "v0.20.0-gpu",
    cuda: "13.3",
    source: "kserve python/huggingface_server.Dockerfile @ v0.20.0",
  },
  {
    repository: "kserve/huggingfaceserver",
    tag: "v0.20.0",
    cuda: null,
    source: "KServe publishes GPU builds with a -gpu suffix; the bare tag is the CPU build (inference)",
  },
  {
    repository: "nvcr.io/nvidia/tritonserver",
    tag: "23.05-py3",
    cuda: "12.1",
    source: "Triton release notes rel-23-05",
  },
  {
    repository: "nvcr.io/nvidia/tritonserver",
    tag: "25.03-py3",
    cuda: "12.8",
    source: "Triton release notes rel-25-03",
  },
  {
    repository: "nvcr.io/nvidia/tritonserver",
    tag: /^25\.0[46]-py3$/,
    cuda: "12.9",
    source: "Triton release notes rel-25-04, rel-25-06",
  },
  {
    repository: "nvcr.io/nvidia/tritonserver",
    tag: /^25\.(08|10)-py3$/,
    cuda: "13.0",
    source: "Triton release notes rel-25-08, rel-25-10",
  },
  {
    repository: "nvcr.io/nvidia/tritonserver",
    tag: "26.02-py3",
    cuda: "13.1",
    source: "Triton release notes rel-26-02",
  },
  {
    repository: "nvcr.io/nvidia/tritonserver",
    tag: "26.04-py3",
    cuda: "13.2",
    source: "Triton release notes rel-26-04",
  },
  {
    repository: "nvcr.io/nvidia/tritonserver",
    tag: /^26\.0[67]-py3$/,
    cuda: "13.3",
    source: "Triton release notes rel-26-06, rel-26-07",
  },
  {
    repository: "nvcr.io/nvidia/tritonserver",
    tag: /^26\.(08|10)-py3$/,
    cuda: "13.4",
    source: "Triton release notes rel-26-08, rel-26-10",
  },
  {
    repository: "vllm/vllm-openai",
    tag: /^v0\.(1[1-9])\.[0-9]+$/,
    cuda: "12.9",
    source: "vllm PR #39878 (before), docker/model-runner PR #470",
  },
  {
    repository: "vllm/vllm-openai",
    tag: /^v0\.2[0-9]\.[0-9]+-cu129$/,
    cuda: "12.9",
    source: "vllm PR #39878",
  },
  {
    repository: "vllm/vllm-openai",
    tag: /^v0\.2[0-9]\.[0-9]+$/,
    cuda: "13.0",
    source: "vllm PR #39878 (Dockerfile CUDA_VERSION=13.0.x)",
  },
  {
    repository: "ghcr.io/huggingface/text-generation-inference",
    tag: /^3\.3\.[0-9]+$/,
    cuda: "12.8",
    source: "TGI Dockerfile and server/pyproject.toml @ v3.3.7 (PyTorch cu128)",
  },
  {
    repository: "pytorch/torchserve-kfs",
    tag: /^[0-9.]+$/,
    cuda: null,
    source: "KServe TorchServe docs: GPU inference uses the -gpu tag (runtimeVersion 0.9.0-gpu)",
  },
];

/**
 * AL2023 NVIDIA AMIs moved from the 570 to the 580 driver one Kubernetes version at a time
 * (amazon-eks-ami CHANGELOG, templates/al2023/variables-*.json; gpu-nodes.md §1.1): the first release
 * date (YYYYMMDD) on R580 per Kubernetes minor.
 */
export const AL2023_R580_SINCE: Record<string, string> = {
  "1.29": "20251120",
  "1.30": "20251120",
  "1.31": "20251108",
  "1.32": "20251108",
  "1.33": "20251029",
  "1.34": "20251023",
  "1.35": "20251023",
  "1.36": "20251023",
};
/** Newest AL2023 NVIDIA release the data knows: what an unpinned node group gets (580.159.03). */
export const AL2023_LATEST = {
  release: "20260714",
  driver: "580.159.03",
  kubernetes: ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36"],
};
/** Bottlerocket NVIDIA variants ship R580 from 1.53.0 (aws-k8s-1.34-nvidia already earlier); gpu-nodes.md §1.2. */
export const BOTTLEROCKET_R580_SINCE = "1.53.0";
export const BOTTLEROCKET_LATEST = { release: "1.68.0", driver: "580.159.03" };

/** Lowest Kubernetes version each pinned chart declares (Chart.yaml kubeVersion in ../shared/charts). */
export const CHART_MIN_KUBERNETES: Record<string, string> = {
  "cert-manager": "1.22",
  keda: "1.23",
  "kube-prometheus-stack": "1.25",
  "dcgm-exporter": "1.19",
  "nvidia-device-plugin": "1.10",
};

/**
 * How vLLM 0.24 (the pinned image's) runs FP8 weights on a GPU of a compute capability:
 * - native W8A8 from SM 8.9 (Ada, Hopper: FP8 tensor cores);
 * - weight-only W8A16 through Marlin from SM 7.5, dense and MoE alike (Fp8Config.get_min_capability
 *   = 75, model_executor/layers/quantization/fp8.py:148; MarlinExpertsBase._supports_current_device
 *   needs (7, 5) and lists the FP8 weight schemes, fused_moe/experts/marlin_moe.py:601-629) — memory
 *   saved, no compute gained;
 * - not at all below SM 7.5.
 */
export type Fp8Support = "native" | "weight-only" | "none";
export function fp8Support(computeCapability: number): Fp8Support {
  if (computeCapability >= 8.9) return "native";
  if (computeCapability >= 7.5) return "weight-only";
  return "none";
}
