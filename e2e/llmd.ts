/**
 * An llm-d model on the dev stack, for the e2e test and the unit tests: the dev stack's config with a
 * Qwen 2.5 7B served through KServe's LLMInferenceService with prefill split off and decode pods
 * autoscaled, and room for it in the L4 pool.
 */
import type { StackFileConfig } from "../tools/stackFile";

export const LLMD_MODEL = {
  name: "qwen-25-7b",
  namespace: "models",
  runtime: "vllm",
  storageUri: "hf://Qwen/Qwen2.5-7B-Instruct",
  hfTokenSecret: "hfToken",
  gpu: { pool: "l4" },
  engine: { maxModelLen: 8192 },
  // A test value: the CUDA of llm-d's preset image is not in the compatibility data (see docs/llm-d.md).
  cudaVersion: "12.9",
  // A LoRA adapter on the base model, served under its own name (an example bucket: nothing downloads here).
  adapters: [
    { name: "qwen-25-7b-sql", storageUri: "s3://example-models-dev/adapters/qwen-25-7b-sql", rank: 16 },
  ],
  llmd: { prefill: { replicas: 1 } },
  // Decode pods scale on the platform's ScaledObject (queue depth by default); prefill stays at 1.
  autoscaling: { minReplicas: 1, maxReplicas: 2 },
} as const;

/** The dev stack's config with the llm-d model added and the L4 pool three nodes larger (2 decode, 1 prefill). */
export function llmdStackConfig(file: StackFileConfig): Record<string, string> {
  const models = JSON.parse(file.config["inference-platform:models"]!) as unknown[];
  const pools = JSON.parse(file.config["inference-platform:gpuPools"]!) as Array<{
    name: string;
    maxSize: number;
  }>;
  return {
    ...file.config,
    "inference-platform:models": JSON.stringify([...models, LLMD_MODEL]),
    "inference-platform:gpuPools": JSON.stringify(
      pools.map((p) => (p.name === LLMD_MODEL.gpu.pool ? { ...p, maxSize: p.maxSize + 3 } : p)),
    ),
  };
}
