/**
 * AWS GPU instance catalog (NVIDIA families the platform schedules models on).
 *
 * Sources (see ../shared/reference/llm-serving-survey.md §7):
 * - prices: aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go,
 *   "generated at 2026-07-20T13:44:30Z for us-east-1", Linux on-demand, after the June-2025 GPU price cut;
 * - specs: meta-pytorch/torchx torchx/specs/named_resources_aws.py and AWS instance-type pages;
 * - compute capability: NVIDIA CUDA GPUs table (A10G 8.6, L4 8.9, L40S 8.9, A100 8.0, H100/H200 9.0);
 * - GPU memory: nvidia-smi totals (A10G 23028 MiB, L4 23034, L40S 46068, A100 40960/81920, H100 81559, H200 143771).
 * p5e.48xlarge is sold through Capacity Blocks only: no on-demand price (null).
 */

export const PRICE_REGION = "us-east-1";
export const PRICE_DATE = "2026-07-20";

export interface GpuModel {
  readonly name: string;
  /** Memory per GPU in GiB as nvidia-smi (NVML) reports the total (MiB / 1024): what vLLM's batch defaults read. */
  readonly memoryGiB: number;
  /**
   * The total torch.cuda.mem_get_info() reports, GiB: what vLLM's gpu_memory_utilization applies to
   * (vllm 0.24 utils/mem_utils.py:146). 0.4–0.9 GiB below the NVML figure; sources per GPU below.
   */
  readonly torchTotalGiB: number;
  readonly computeCapability: number;
  readonly fp8: boolean;
  readonly bf16: boolean;
  /** Label value Cluster Autoscaler's AWS provider knows (k8s.amazonaws.com/accelerator). */
  readonly acceleratorLabel: string;
}

export const GPU_MODELS = {
  A10G: {
    name: "A10G",
    memoryGiB: 22.49,
    // Not published for A10G itself: an OCI A10 (same 24 GB GA102 part) logs "total_gpu_memory (22.07GiB)"
    // (oracle-samples/oci-data-science-ai-samples ai-quick-actions/troubleshooting-tips.md); the one
    // A10G-named figure, a 2023 PyTorch OOM on g5.12xlarge, says 22.20. The lower is kept.
    torchTotalGiB: 22.07,
    computeCapability: 8.6,
    fp8: false,
    bf16: true,
    acceleratorLabel: "nvidia-a10g",
  },
  L4: {
    name: "L4",
    memoryGiB: 22.49,
    // vllm-project/vllm#20214 (L4 in vLLM CI): "GPU 0 has a total capacity of 22.05 GiB"; pytorch/pytorch#175666.
    torchTotalGiB: 22.05,
    computeCapability: 8.9,
    fp8: true,
    bf16: true,
    acceleratorLabel: "nvidia-l4",
  },
  L40S: {
    name: "L40S",
    memoryGiB: 44.99,
    // g6e.48xlarge vLLM log: "total_gpu_memory (44.39GiB) x gpu_memory_utilization (0.92)"
    // (github.com/gnosia93/vlm-distillation ec2/5-vlm-infer.md); vllm-project/vllm#23230 says 44.40.
    torchTotalGiB: 44.39,
    computeCapability: 8.9,
    fp8: true,
    bf16: true,
    acceleratorLabel: "nvidia-l40s",
  },
  A100_40: {
    name: "A100-SXM4-40GB",
    memoryGiB: 40.0,
    // vllm-project/vllm#16570 "total_gpu_memory (39.38GiB)" (#12330 shows 39.50; the lower is kept)
    torchTotalGiB: 39.38,
    computeCapability: 8.0,
    fp8: false,
    bf16: true,
    acceleratorLabel: "nvidia-tesla-a100",
  },
  A100_80: {
    name: "A100-SXM4-80GB",
    memoryGiB: 80.0,
    // A100-SXM4-80GB: "total_gpu_memory (79.15GiB) x gpu_memory_utilization (0.70)" (github.com/datawhalechina/
    // self-llm models/phi4/06-Phi-4-GRPO…md); vllm-project/vllm#4408: "total capacity of 79.15 GiB".
    torchTotalGiB: 79.15,
    computeCapability: 8.0,
    fp8: false,
    bf16: true,
    acceleratorLabel: "nvidia-tesla-a100",
  },
  H100: {
    name: "H100-80GB-HBM3",
    memoryGiB: 79.65,
    // llm-d-incubation/llm-d-planner docs/accuracy/vllm-v0.19.0-accuracy-report.md:
    // "H100-80GB (catalog 80 GiB, physical 79.19 GiB)"
    torchTotalGiB: 79.19,
    computeCapability: 9.0,
    fp8: true,
    bf16: true,
    acceleratorLabel: "nvidia-h100",
  },
  H200: {
    name: "H200",
    memoryGiB: 140.4,
    // vllm-project/vllm#34553: "GPU: NVIDIA H200 (139.81 GiB)".
    torchTotalGiB: 139.81,
    computeCapability: 9.0,
    fp8: true,
    bf16: true,
    acceleratorLabel: "nvidia-h200",
  },
} as const satisfies Record<string, GpuModel>;
export type GpuModelKey = keyof typeof GPU_MODELS;

export interface GpuInstanceType {
  readonly instanceType: string;
  readonly gpu: GpuModelKey;
  readonly gpus: number;
  readonly vcpu: number;
  readonly memoryGiB: number;
  /** On-demand USD per hour in PRICE_REGION at PRICE_DATE; null when not sold on demand. */
  readonly pricePerHour: number | null;
  /** Local NVMe instance store, GB (used for the container and model cache). */
  readonly instanceStoreGB: number;
  readonly efa: boolean;
}

const row = (
  instanceType: string,
  gpu: GpuModelKey,
  gpus: number,
  vcpu: number,
  memoryGiB: number,
  pricePerHour: number | null,
  instanceStoreGB: number,
  efa = false,
): GpuInstanceType => ({ instanceType, gpu, gpus, vcpu, memoryGiB, pricePerHour, instanceStoreGB, efa });

export const GPU_INSTANCES: Readonly<Record<string, GpuInstanceType>> = Object.fromEntries(
  [
    row("g5.xlarge", "A10G", 1, 4, 16, 1.006, 250),
    row("g5.2xlarge", "A10G", 1, 8, 32, 1.212, 450),
    row("g5.4xlarge", "A10G", 1, 16, 64, 1.624, 600),
    row("g5.12xlarge", "A10G", 4, 48, 192, 5.672, 3800),
    row("g5.48xlarge", "A10G", 8, 192, 768, 16.288, 7600, true),
    row("g6.xlarge", "L4", 1, 4, 16, 0.8048, 250),
    row("g6.2xlarge", "L4", 1, 8, 32, 0.9776, 450),
    row("g6.12xlarge", "L4", 4, 48, 192, 4.6016, 3760),
    row("g6.48xlarge", "L4", 8, 192, 768, 13.3504, 7520, true),
    row("g6e.xlarge", "L40S", 1, 4, 32, 1.861, 250),
    row("g6e.2xlarge", "L40S", 1, 8, 64, 2.2421, 450),
    row("g6e.12xlarge", "L40S", 4, 48, 384, 10.4926, 3800),
    row("g6e.48xlarge", "L40S", 8, 192, 1536, 30.1312, 7600, true),
    row("p4d.24xlarge", "A100_40", 8, 96, 1152, 21.9576, 8000, true),
    row("p4de.24xlarge", "A100_80", 8, 96, 1152, 27.4471, 8000, true),
    row("p5.4xlarge", "H100", 1, 16, 256, 6.88, 3840),
    row("p5.48xlarge", "H100", 8, 192, 2048, 55.04, 30400, true),
    row("p5e.48xlarge", "H200", 8, 192, 2048, null, 30400, true),
    row("p5en.48xlarge", "H200", 8, 192, 2048, 63.296, 30400, true),
  ].map((r) => [r.instanceType, r]),
);

/** Accelerator families on AWS that are not NVIDIA GPUs: named in errors so the fix is obvious. */
export const NON_NVIDIA_ACCELERATOR_FAMILIES: Readonly<Record<string, string>> = {
  inf1: "AWS Inferentia",
  inf2: "AWS Inferentia2",
  trn1: "AWS Trainium",
  trn1n: "AWS Trainium",
  trn2: "AWS Trainium2",
  dl1: "Habana Gaudi",
  g4ad: "AMD Radeon Pro",
  f1: "Xilinx FPGA",
};

export function instanceFamily(instanceType: string): string {
  return instanceType.split(".")[0] ?? instanceType;
}

export function lookupGpuInstance(instanceType: string): GpuInstanceType | undefined {
  return GPU_INSTANCES[instanceType];
}
