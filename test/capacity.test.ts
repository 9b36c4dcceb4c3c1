import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  ARCHITECTURES,
  ARCHITECTURE_NAMES,
  parametersFromShape,
  type ArchitectureName,
} from "../models/capacity/architectures";
import { GIB, kvBytesPerToken, replicaMemory, weightBytes } from "../models/capacity/memory";
import { planModel, poolHardware, pricePerGpuHour, replicaGpuCounts } from "../models/capacity/planner";
import { gpuPoolSchema, type GpuPoolConfig } from "../config/schema";
import { modelSchema, type ModelInput } from "../models/schema";
import { GPU_INSTANCES } from "../models/capacity/gpuInstances";
import { configError, stackRaw, validate } from "./helpers";

const within = (actual: number, expected: number, fraction: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= expected * fraction,
    `${what}: ${actual.toFixed(3)} is not within ${fraction * 100}% of ${expected}`,
  );

const bf16 = { kvCacheDtype: "auto" } as const;

function pool(name: string, instanceType: string, maxSize = 4): GpuPoolConfig {
  return gpuPoolSchema.parse({ name, instanceTypes: [instanceType], maxSize });
}

function llm(fields: Record<string, unknown>): ModelInput {
  return modelSchema.parse({ name: "m", runtime: "vllm", storageUri: "s3://b/m", ...fields });
}

describe("capacity: the memory model against published figures", () => {
  it("reproduces the vLLM startup log of Llama-3.1-8B BF16 (vllm-project/vllm#10517) within 10%", () => {
    // 23.58 GiB GPU, --gpu-memory-utilization 0.9: weights 14.99 GiB, KV cache 3.81 GiB = 31,232 tokens.
    const m = replicaMemory(ARCHITECTURES["llama-3.1-8b"], bf16, 23.58, 1, 0.9);
    within(m.weightsGiB, 14.99, 0.1, "weights GiB");
    within(m.kvCacheGiB, 3.81, 0.1, "KV cache GiB");
    within(m.kvTokens, 31_232, 0.1, "KV tokens");
  });

  it("recomputes each catalog model's published parameter count from its shape within 1%", () => {
    for (const name of ARCHITECTURE_NAMES)
      within(parametersFromShape(ARCHITECTURES[name]), ARCHITECTURES[name].parameters, 0.01, name);
  });

  it("gives the KV bytes per token of the HF configs (llm-serving-survey §6 table)", () => {
    const kib = (name: ArchitectureName, kv: "auto" | "fp8") =>
      kvBytesPerToken(ARCHITECTURES[name], { kvCacheDtype: kv }) / 1024;
    assert.equal(kib("llama-3.1-8b", "auto"), 128);
    assert.equal(kib("llama-3.1-8b", "fp8"), 64);
    assert.equal(kib("llama-3.1-70b", "auto"), 320);
    assert.equal(kib("qwen2.5-7b", "auto"), 56);
    assert.equal(kib("mistral-7b", "auto"), 128);
    assert.equal(kib("qwen2.5-72b", "fp8"), 160);
  });

  it("sizes quantized checkpoints like their model cards within 10%", () => {
    const gib = (name: ArchitectureName, quantization: "awq" | "fp8") =>
      weightBytes(ARCHITECTURES[name], { kvCacheDtype: "auto", quantization }) / GIB;
    // hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4 model card: ~35 GiB to load the checkpoint.
    within(gib("llama-3.1-70b", "awq"), 35, 0.1, "70B AWQ INT4");
    // llm-serving-survey §6: Llama-3.1-70B FP8 weights 65.7 GiB, Qwen2.5-72B FP8 67.7 GiB.
    within(gib("llama-3.1-70b", "fp8"), 65.7, 0.1, "70B FP8");
    within(gib("qwen2.5-72b", "fp8"), 67.7, 0.1, "72B FP8");
    // Llama-3.1-70B BF16: 70.55 B × 2 bytes = 131.4 GiB.
    within(weightBytes(ARCHITECTURES["llama-3.1-70b"], bf16) / GIB, 131.4, 0.01, "70B BF16");
  });

  it("splits weights and KV heads across tensor-parallel ranks, replicating KV heads past their count", () => {
    const a = ARCHITECTURES["llama-3.1-70b"]; // 8 KV heads
    assert.equal(kvBytesPerToken(a, bf16, 4), kvBytesPerToken(a, bf16) / 4);
    assert.equal(
      kvBytesPerToken(ARCHITECTURES["qwen2.5-7b"], bf16, 4),
      kvBytesPerToken(ARCHITECTURES["qwen2.5-7b"], bf16) / 4,
    );
    // Two KV heads over four ranks: each rank keeps a replica of one head, so only half the cache splits.
    const twoKvHeads = { ...ARCHITECTURES["llama-3.2-1b"], kvHeads: 2 };
    assert.equal(kvBytesPerToken(twoKvHeads, bf16, 4), kvBytesPerToken(twoKvHeads, bf16) / 2);
    assert.equal(kvBytesPerToken(twoKvHeads, bf16, 2), kvBytesPerToken(twoKvHeads, bf16) / 2);
    const one = replicaMemory(a, { kvCacheDtype: "auto", quantization: "fp8" }, 44.99, 4);
    within(
      one.weightsGiB * 4,
      weightBytes(a, { kvCacheDtype: "auto", quantization: "fp8" }) / GIB,
      1e-9,
      "sharded",
    );
  });
});

describe("capacity: fit decisions across the catalog", () => {
  type Case = [string, Record<string, unknown>, string, number, boolean];
  const cases: Case[] = [
    // [architecture, engine, instance type, GPUs per replica, fits at 4 × 8192 tokens]
    ["llama-3.1-8b", {}, "g6.xlarge", 1, false],
    ["llama-3.1-8b", { kvCacheDtype: "fp8" }, "g6.xlarge", 1, true],
    ["llama-3.1-8b", { quantization: "fp8" }, "g6.xlarge", 1, true],
    ["llama-3.1-8b", {}, "g6e.xlarge", 1, true],
    ["llama-3.1-8b", {}, "g5.12xlarge", 2, true],
    ["llama-3.1-70b", {}, "g6e.xlarge", 1, false],
    ["llama-3.1-70b", { quantization: "fp8" }, "g6e.12xlarge", 2, false],
    ["llama-3.1-70b", { quantization: "fp8", kvCacheDtype: "fp8" }, "g6e.12xlarge", 2, true],
    ["llama-3.1-70b", {}, "g6e.12xlarge", 4, true],
    ["llama-3.1-70b", {}, "p4d.24xlarge", 4, false],
    ["llama-3.1-70b", {}, "p4d.24xlarge", 8, true],
    ["llama-3.1-70b", {}, "p4de.24xlarge", 2, false],
    ["llama-3.1-70b", {}, "p4de.24xlarge", 4, true],
    ["llama-3.1-70b", {}, "p4de.24xlarge", 1, false],
    ["llama-3.1-70b", { quantization: "awq" }, "g6e.xlarge", 1, false],
    ["llama-3.1-70b", { quantization: "awq", kvCacheDtype: "fp8" }, "g6e.2xlarge", 1, false],
    ["llama-3.1-70b", { quantization: "fp8" }, "p5.4xlarge", 1, false],
    ["llama-3.1-70b", { quantization: "fp8" }, "p5en.48xlarge", 1, true],
    ["qwen2.5-72b", {}, "g5.48xlarge", 8, false],
    ["qwen2.5-72b", { quantization: "awq" }, "g5.48xlarge", 4, true],
    ["mixtral-8x7b", {}, "p4de.24xlarge", 2, true],
    ["mixtral-8x7b", {}, "g6e.12xlarge", 2, false],
    ["gemma-2-27b", {}, "g6e.xlarge", 1, false],
    ["gemma-2-27b", {}, "g6e.12xlarge", 2, true],
    ["llama-3.2-1b", {}, "g6.xlarge", 1, true],
    ["qwen2.5-7b", {}, "g6.xlarge", 1, true],
  ];
  for (const [architecture, engine, instanceType, count, fits] of cases) {
    it(`${architecture} ${JSON.stringify(engine)} on ${count}× ${instanceType}: ${fits ? "fits" : "does not fit"}`, () => {
      const result = planModel({
        model: llm({ architecture, engine: { maxModelLen: 8192, ...engine }, gpu: { pool: "p", count } }),
        at: "models[0]",
        pools: [pool("p", instanceType)],
      });
      assert.equal(result.problems.length === 0, fits, result.problems.map((p) => p.message).join("\n"));
      if (fits) assert.ok(result.plan!.llm!.concurrentSequences >= 4);
    });
  }

  it("says by how much a model misses and names the cheapest fixes among the pools", () => {
    const result = planModel({
      model: llm({
        architecture: "llama-3.1-70b",
        engine: { maxModelLen: 8192 },
        gpu: { pool: "l40s", count: 1 },
      }),
      at: "models[3]",
      pools: [pool("l40s", "g6e.xlarge"), pool("l40s-x4", "g6e.12xlarge")],
    });
    const [problem] = result.problems;
    assert.equal(problem?.path, "models[3].engine.maxModelLen");
    assert.match(problem!.message, /exceed the usable 40\.5 GiB by \d+\.\d GiB/);
    // Cheapest first: FP8 weights and KV on 2 of the x4 pool's L40S ($5.25/h) beat BF16 on all 4 ($10.49/h).
    assert.match(
      problem!.message,
      /cheapest fixes: gpu: \{pool: l40s-x4, count: 2\} \+ engine\.quantization: fp8 \+ engine\.kvCacheDtype: fp8 \(\$5\.25\/h per replica, 5 sequences of 8192 tokens\); gpu: \{pool: l40s-x4, count: 4\} \(\$10\.49\/h/,
    );
  });

  it("suggests a catalog instance type when no configured pool can hold the model", () => {
    const result = planModel({
      model: llm({
        architecture: "llama-3.1-70b",
        engine: { maxModelLen: 8192 },
        gpu: { pool: "l4", count: 1 },
      }),
      at: "models[0]",
      pools: [pool("l4", "g6.xlarge")],
    });
    assert.match(result.problems[0]!.message, /a new pool of [a-z0-9]+\.[a-z0-9]+ \(\d× [A-Z0-9-]+\)/);
  });

  it("picks the smallest tensor-parallel degree that fits when gpu.count is left out", () => {
    const result = planModel({
      model: llm({ architecture: "llama-3.1-70b", engine: { maxModelLen: 8192 }, gpu: { pool: "x4" } }),
      at: "models[0]",
      pools: [pool("x4", "g6e.12xlarge")],
    });
    assert.deepEqual(result.problems, []);
    assert.equal(result.plan!.gpusPerReplica, 4);
  });

  it("refuses tensor parallelism that does not divide the attention heads, listing valid counts", () => {
    const result = planModel({
      model: llm({ architecture: "qwen2.5-7b", gpu: { pool: "x8", count: 8 } }),
      at: "models[1]",
      pools: [pool("x8", "g6.48xlarge")],
    });
    assert.equal(result.problems[0]?.path, "models[1].gpu.count");
    assert.match(
      result.problems[0]!.message,
      /28 attention heads and 4 KV heads; valid on pool "x8": 1, 2, 4/,
    );
  });

  it("derives consistent vLLM settings when config leaves them out", () => {
    const result = planModel({
      model: llm({ architecture: "llama-3.1-8b", gpu: { pool: "l40s", count: 1 } }),
      at: "models[0]",
      pools: [pool("l40s", "g6e.xlarge")],
    });
    const plan = result.plan!.llm!;
    assert.deepEqual(plan.engine.derived, ["maxModelLen", "maxNumSeqs", "gpuMemoryUtilization"]);
    assert.equal(plan.engine.gpuMemoryUtilization, 0.9);
    assert.ok(plan.engine.maxModelLen * 4 <= plan.memory.kvTokens, "4 sequences of the derived length fit");
    assert.ok(plan.engine.maxModelLen <= ARCHITECTURES["llama-3.1-8b"].maxContext);
    assert.equal(plan.engine.maxModelLen & (plan.engine.maxModelLen - 1), 0, "a power of two");
    assert.equal(plan.engine.maxNumSeqs, 256, "vLLM's default batch width below 70 GiB");
  });

  it("reports inconsistent engine settings, each at its key", () => {
    const paths = (engine: Record<string, unknown>, architecture = "llama-3.1-8b") =>
      planModel({
        model: llm({ architecture, engine, gpu: { pool: "h100", count: 1 } }),
        at: "models[0]",
        pools: [pool("h100", "p5.4xlarge")],
      }).problems.map((p) => `${p.path}: ${p.message}`);
    assert.match(
      paths({ maxModelLen: 262144 }).join(),
      /engine\.maxModelLen: 262144 exceeds the llama-3\.1-8b context of 131072/,
    );
    assert.match(
      paths({ maxNumSeqs: 512, maxNumBatchedTokens: 256 }).join(),
      /maxNumBatchedTokens: 256 must be at least maxNumSeqs \(512\)/,
    );
    assert.match(
      paths({ maxModelLen: 32768, chunkedPrefill: false, maxNumBatchedTokens: 8192 }).join(),
      /without chunked prefill .* 8192 must be at least maxModelLen \(32768\)/,
    );
    assert.match(paths({ maxModelLen: 131072 }, "llama-3.1-70b").join(), /does not fit 1× H100/);
    assert.match(
      paths({ tensorParallelSize: 2 }).join(),
      /engine\.tensorParallelSize: tensor parallel size 2 must equal the GPUs per replica \(1\)/,
    );
  });

  it("rejects an unknown architecture and one it cannot infer, naming the catalog", () => {
    const unknown = planModel({
      model: llm({ architecture: "llama-9", gpu: "auto" }),
      at: "models[0]",
      pools: [pool("l4", "g6.xlarge")],
    });
    assert.match(unknown.problems[0]!.message, /unknown architecture "llama-9" \(known: llama-3\.1-8b, /);
    const opaque = planModel({
      model: llm({ gpu: "auto" }),
      at: "models[0]",
      pools: [pool("l4", "g6.xlarge")],
    });
    assert.equal(opaque.problems[0]!.path, "models[0].architecture");
    assert.match(opaque.problems[0]!.message, /cannot tell the model's architecture from s3:\/\/b\/m/);
  });

  it("accepts a declared architecture for a model outside the catalog", () => {
    const shape = { ...ARCHITECTURES["mistral-7b"] };
    const result = planModel({
      model: llm({ architecture: shape, engine: { maxModelLen: 4096 }, gpu: { pool: "l4", count: 1 } }),
      at: "models[0]",
      pools: [pool("l4", "g6.xlarge")],
    });
    assert.deepEqual(result.problems, []);
    assert.equal(result.plan!.llm!.architecture, "custom");
  });
});

describe("capacity: gpu: auto", () => {
  const instanceTypes = Object.keys(GPU_INSTANCES).filter((t) => GPU_INSTANCES[t]!.pricePerHour !== null);

  it("returns the cheapest pool and GPU count that fits (checked against an exhaustive search)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...instanceTypes), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...ARCHITECTURE_NAMES),
        fc.constantFrom(2048, 4096, 8192, 16384),
        fc.constantFrom<Record<string, unknown>>({}, { quantization: "fp8" }, { kvCacheDtype: "fp8" }),
        fc.integer({ min: 1, max: 8 }),
        (types, architecture, maxModelLen, engine, minConcurrency) => {
          const pools = types.map((t, i) => pool(`p${i}`, t));
          const fields = {
            architecture,
            minConcurrency,
            engine: { maxModelLen: Math.min(maxModelLen, ARCHITECTURES[architecture].maxContext), ...engine },
          };
          const auto = planModel({ model: llm({ ...fields, gpu: "auto" }), at: "m", pools });
          // Exhaustive: every explicit placement, planned on its own; keep those without problems.
          const costs: number[] = [];
          for (const p of pools)
            for (const count of replicaGpuCounts(poolHardware(p)!)) {
              const r = planModel({
                model: llm({ ...fields, gpu: { pool: p.name, count } }),
                at: "m",
                pools,
              });
              if (r.problems.length === 0) costs.push(pricePerGpuHour(poolHardware(p)!)! * count);
            }
          if (costs.length === 0) {
            assert.equal(auto.plan, undefined);
            assert.match(auto.problems[0]!.message, /gpu: auto found no pool/);
            return;
          }
          assert.deepEqual(auto.problems, []);
          const chosen = poolHardware(pools.find((p) => p.name === auto.plan!.pool)!)!;
          within(pricePerGpuHour(chosen)! * auto.plan!.gpusPerReplica, Math.min(...costs), 1e-9, "auto cost");
        },
      ),
      { numRuns: 150 },
    );
  });

  it("places a stack's auto model and reports it in the plan's capacity totals", () => {
    const raw = stackRaw("prod") as { models: Array<Record<string, unknown>> };
    raw.models[1]!.gpu = "auto";
    const cfg = validate(raw, "prod");
    const qwen = cfg.models[1]!;
    assert.deepEqual(qwen.gpu, { pool: "l4", count: 1 }, "the L4 pool is the cheapest per GPU that fits");
    assert.equal(qwen.capacity?.autoPlaced, true);
    const t = cfg.capacity.totals;
    assert.equal(t.gpusAtMinReplicas, 4 * 1 + 1 * 2);
    within(t.dollarsPerHourAtMin, 10.4926 + 0.9776 * 2, 1e-9, "$/h at min replicas");
  });

  it("fails the stack config when a candidate's engine settings no longer fit", () => {
    const raw = stackRaw("dev") as {
      models: Array<{ rollout: { candidate: { engine: Record<string, unknown> } } }>;
    };
    raw.models[0]!.rollout.candidate.engine = { kvCacheDtype: "auto" };
    const err = configError(raw, "dev");
    assert.match(
      err.message,
      /models\[0\]\.rollout\.candidate\.engine\.maxModelLen: llama-3\.1-8b .* does not fit 1× L4/,
    );
  });
});
