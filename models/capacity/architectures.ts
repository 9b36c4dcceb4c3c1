/**
 * Transformer shapes of common open models: what the memory model needs (parameters, layers, hidden
 * size, attention and KV heads, head dim, vocabulary) and the longest context each supports.
 *
 * Sources: each model's Hugging Face config.json (num_hidden_layers, hidden_size, intermediate_size,
 * num_attention_heads, num_key_value_heads, head_dim, vocab_size, tie_word_embeddings,
 * max_position_embeddings) and the parameter count on its model card, e.g.
 * https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json; the Llama, Mistral and Qwen
 * rows are also in ../shared/reference/llm-serving-survey.md §6. The parameter counts are published
 * figures; test/capacity.test.ts recomputes them from the shapes to catch a mistyped dimension.
 */

export interface Architecture {
  /** Total parameters (all experts of a mixture-of-experts model: all are loaded). */
  readonly parameters: number;
  readonly layers: number;
  readonly hiddenSize: number;
  /** MLP width (per expert). */
  readonly intermediateSize: number;
  readonly attentionHeads: number;
  /** Grouped-query attention: KV heads ≤ attention heads. */
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** Input embedding and LM head share one matrix. */
  readonly tiedEmbeddings: boolean;
  /** Longest context the model supports natively (tokens). */
  readonly maxContext: number;
  /** Mixture of experts: experts per layer (1 for dense models). */
  readonly experts: number;
  /**
   * The class in config.json's `architectures` (e.g. LlamaForCausalLM): vLLM picks its model runner
   * by it, which changes what it reserves (vllmAccounting.ts). Unknown: the conservative runner.
   */
  readonly hfArchitecture?: string;
}

const arch = (a: Omit<Architecture, "experts"> & { experts?: number }): Architecture => ({
  experts: 1,
  ...a,
});

export const ARCHITECTURES = {
  "llama-3.1-8b": arch({
    hfArchitecture: "LlamaForCausalLM",
    parameters: 8_030_261_248,
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    attentionHeads: 32,
    kvHeads: 8,
    headDim: 128,
    vocabSize: 128256,
    tiedEmbeddings: false,
    maxContext: 131072,
  }),
  "llama-3.1-70b": arch({
    hfArchitecture: "LlamaForCausalLM",
    parameters: 70_553_706_496,
    layers: 80,
    hiddenSize: 8192,
    intermediateSize: 28672,
    attentionHeads: 64,
    kvHeads: 8,
    headDim: 128,
    vocabSize: 128256,
    tiedEmbeddings: false,
    maxContext: 131072,
  }),
  // https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json (BF16 ~756 GiB: no single
  // 8-GPU node but p5e/p5en's H200 holds it; the planner splits it over nodes with pipeline parallelism).
  "llama-3.1-405b": arch({
    hfArchitecture: "LlamaForCausalLM",
    parameters: 405_853_388_800,
    layers: 126,
    hiddenSize: 16384,
    intermediateSize: 53248,
    attentionHeads: 128,
    kvHeads: 8,
    headDim: 128,
    vocabSize: 128256,
    tiedEmbeddings: false,
    maxContext: 131072,
  }),
  "llama-3.2-1b": arch({
    hfArchitecture: "LlamaForCausalLM",
    parameters: 1_235_814_400,
    layers: 16,
    hiddenSize: 2048,
    intermediateSize: 8192,
    attentionHeads: 32,
    kvHeads: 8,
    headDim: 64,
    vocabSize: 128256,
    tiedEmbeddings: true,
    maxContext: 131072,
  }),
  "llama-3.2-3b": arch({
    hfArchitecture: "LlamaForCausalLM",
    parameters: 3_212_749_824,
    layers: 28,
    hiddenSize: 3072,
    intermediateSize: 8192,
    attentionHeads: 24,
    kvHeads: 8,
    headDim: 128,
    vocabSize: 128256,
    tiedEmbeddings: true,
    maxContext: 131072,
  }),
  "mistral-7b": arch({
    hfArchitecture: "MistralForCausalLM",
    parameters: 7_248_023_552,
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    attentionHeads: 32,
    kvHeads: 8,
    headDim: 128,
    vocabSize: 32768,
    tiedEmbeddings: false,
    maxContext: 32768,
  }),
  "mixtral-8x7b": arch({
    hfArchitecture: "MixtralForCausalLM",
    parameters: 46_702_792_704,
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    attentionHeads: 32,
    kvHeads: 8,
    headDim: 128,
    vocabSize: 32000,
    tiedEmbeddings: false,
    maxContext: 32768,
    experts: 8,
  }),
  "qwen2.5-7b": arch({
    hfArchitecture: "Qwen2ForCausalLM",
    parameters: 7_615_616_512,
    layers: 28,
    hiddenSize: 3584,
    intermediateSize: 18944,
    attentionHeads: 28,
    kvHeads: 4,
    headDim: 128,
    vocabSize: 152064,
    tiedEmbeddings: false,
    maxContext: 32768,
  }),
  "qwen2.5-72b": arch({
    hfArchitecture: "Qwen2ForCausalLM",
    parameters: 72_706_203_648,
    layers: 80,
    hiddenSize: 8192,
    intermediateSize: 29568,
    attentionHeads: 64,
    kvHeads: 8,
    headDim: 128,
    vocabSize: 152064,
    tiedEmbeddings: false,
    maxContext: 32768,
  }),
  // Gemma 2 alternates sliding-window (4096) and global layers; the memory model counts every layer
  // at full length, which over-estimates its KV cache (the safe direction).
  "gemma-2-9b": arch({
    hfArchitecture: "Gemma2ForCausalLM",
    parameters: 9_241_705_984,
    layers: 42,
    hiddenSize: 3584,
    intermediateSize: 14336,
    attentionHeads: 16,
    kvHeads: 8,
    headDim: 256,
    vocabSize: 256000,
    tiedEmbeddings: true,
    maxContext: 8192,
  }),
  "gemma-2-27b": arch({
    hfArchitecture: "Gemma2ForCausalLM",
    parameters: 27_227_128_320,
    layers: 46,
    hiddenSize: 4608,
    intermediateSize: 36864,
    attentionHeads: 32,
    kvHeads: 16,
    headDim: 128,
    vocabSize: 256000,
    tiedEmbeddings: true,
    maxContext: 8192,
  }),
} as const satisfies Record<string, Architecture>;
export type ArchitectureName = keyof typeof ARCHITECTURES;
export const ARCHITECTURE_NAMES = Object.keys(ARCHITECTURES) as ArchitectureName[];

/** Parameters implied by the shapes (Llama-style decoder): the check on a catalog row or a custom entry. */
export function parametersFromShape(a: Architecture): number {
  const h = a.hiddenSize;
  const attention = 2 * h * a.attentionHeads * a.headDim + 2 * h * a.kvHeads * a.headDim;
  const mlp = 3 * h * a.intermediateSize * a.experts + (a.experts > 1 ? h * a.experts : 0);
  const embeddings = a.vocabSize * h * (a.tiedEmbeddings ? 1 : 2);
  return a.layers * (attention + mlp + 2 * h) + embeddings + h;
}

/**
 * Families whose vLLM model derives head_dim = hidden_size / attention heads, ignoring any head_dim
 * in config.json (vllm 0.24 model_executor/models/qwen2.py:152, qwen2_moe.py:225, falcon.py:110). A
 * declared shape of these that disagrees would be sized for a KV cache vLLM does not build.
 */
const HEAD_DIM_FROM_HIDDEN = new Set(["Qwen2ForCausalLM", "Qwen2MoeForCausalLM", "FalconForCausalLM"]);
/** Declared parameters may differ from the shape's by this much (biases, norms, a vision tower). */
export const PARAMETER_TOLERANCE = 0.05;

/** What is inconsistent in a declared shape; empty when it holds together. */
export function architectureProblems(a: Architecture): string[] {
  const problems: string[] = [];
  if (a.kvHeads > a.attentionHeads || a.attentionHeads % a.kvHeads !== 0)
    problems.push(
      `attentionHeads (${a.attentionHeads}) must be a multiple of kvHeads (${a.kvHeads}): grouped-query attention shares each KV head among a whole number of query heads`,
    );
  if (
    a.hfArchitecture &&
    HEAD_DIM_FROM_HIDDEN.has(a.hfArchitecture) &&
    a.headDim * a.attentionHeads !== a.hiddenSize
  )
    problems.push(
      `${a.hfArchitecture} takes headDim = hiddenSize / attentionHeads = ${a.hiddenSize / a.attentionHeads}, not ${a.headDim}`,
    );
  const implied = parametersFromShape(a);
  if (Math.abs(implied - a.parameters) > a.parameters * PARAMETER_TOLERANCE)
    problems.push(
      `parameters (${(a.parameters / 1e9).toFixed(2)} B) disagree with the shape, which implies ${(implied / 1e9).toFixed(2)} B (more than ${PARAMETER_TOLERANCE * 100}% apart): check layers, hiddenSize, intermediateSize, vocabSize and experts`,
    );
  return problems;
}

/** Parameters in the embedding and LM head matrices (kept in 16-bit by weight quantization). */
export function embeddingParameters(a: Architecture): number {
  return a.vocabSize * a.hiddenSize * (a.tiedEmbeddings ? 1 : 2);
}

/**
 * Names a catalog architecture from a storage URI such as hf://meta-llama/Llama-3.1-8B-Instruct or
 * s3://bucket/qwen2.5-7b-instruct, so common models need no `architecture` key. Exactly one match or none.
 */
export function inferArchitecture(storageUri: string): ArchitectureName | undefined {
  const flat = storageUri.toLowerCase().replace(/[^a-z0-9.]+/g, "-");
  const matches = ARCHITECTURE_NAMES.filter((name) => {
    const pattern = name.replace(/[.-]/g, "[.-]?").replace("llama", "(meta-)?llama");
    return new RegExp(`(^|-)${pattern}(-|$)`).test(flat);
  });
  return matches.length === 1 ? matches[0] : undefined;
}
