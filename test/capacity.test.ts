import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  ARCHITECTURES,
  ARCHITECTURE_NAMES,
  parametersFromShape,
  type ArchitectureName,
} from "../models/capacity/architectures";
import { GIB, kvBytesPerToken, replicaMemory, weightBytes } from "../models/capacity/memory";
import { planModel, poolHardware, replicaGpuCounts } from "../models/capacity/planner";
import { planStackCapacity } from "../models/capacity/stack";
import { gpuPoolSchema, type GpuPoolConfig } from "../config/schema";
import { modelSchema, type ModelInput } from "../models/schema";
import { GPU_INSTANCES, GPU_MODELS } from "../models/capacity/gpuInstances";
import { defaultBatchShape } from "../models/capacity/vllmAccounting";
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
    const one = replicaMemory(
      a,
      { kvCacheDtype: "auto", quantization: "fp8" },
      GPU_MODELS.L40S,
      4,
      0.9,
      defaultBatchShape(GPU_MODELS.L40S),
    );
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
    // 19.8 GiB budget − 15.0 weights − 0.7 runtime (Model Runner V2: no graph reserve) = 4.2 GiB ≈ 34k tokens.
    ["llama-3.1-8b", {}, "g6.xlarge", 1, true],
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
    assert.match(problem!.message, /exceed the usable 40\.0 GiB by \d+\.\d GiB/);
    // Cheapest first: FP8 weights and KV on 2 of the x4 pool's L40S ($5.25/h) beat BF16 on all 4 ($10.49/h).
    assert.match(
      problem!.message,
      /cheapest fixes: gpu: \{pool: l40s-x4, count: 2\} \+ engine\.quantization: fp8 \+ engine\.kvCacheDtype: fp8 \(\$5\.25\/h per replica; a g6e\.12xlarge node is \$10\.49\/h for 2 such replicas, 7 sequences of 8192 tokens\); gpu: \{pool: l40s-x4, count: 4\} \(\$10\.49\/h/,
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

  /** Whole-node $/h of a pool holding replicas of these GPU counts (counts divide the node: packing fills nodes). */
  const poolBill = (instanceType: string, minSize: number, gpus: number) => {
    const node = GPU_INSTANCES[instanceType]!;
    return Math.max(minSize, Math.ceil(gpus / node.gpus)) * node.pricePerHour!;
  };

  it("picks the layout whose whole nodes cost least, across every auto model of the stack (exhaustive search, 40 stacks)", () => {
    const modelArb = fc.record({
      architecture: fc.constantFrom(...ARCHITECTURE_NAMES),
      maxModelLen: fc.constantFrom(2048, 4096, 8192),
      engine: fc.constantFrom<Record<string, unknown>>({}, { quantization: "fp8" }, { kvCacheDtype: "fp8" }),
      minReplicas: fc.integer({ min: 0, max: 3 }),
      extra: fc.integer({ min: 1, max: 3 }),
      canary: fc.boolean(),
    });
    let decided = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...instanceTypes), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 3, maxLength: 3 }),
        fc.array(modelArb, { minLength: 1, maxLength: 3 }),
        (types, minSizes, specs) => {
          const gpuPools = types.map((t, i) => ({ ...pool(`p${i}`, t, 16), minSize: minSizes[i]! }));
          const models = specs.map((m, i) =>
            llm({
              name: `m${i}`,
              architecture: m.architecture,
              minConcurrency: 1,
              engine: {
                maxModelLen: Math.min(m.maxModelLen, ARCHITECTURES[m.architecture].maxContext),
                ...m.engine,
              },
              autoscaling: { minReplicas: m.minReplicas, maxReplicas: m.minReplicas + m.extra },
              ...(m.canary ? { rollout: { candidate: { storageUri: "s3://b/m-v2" }, percent: 10 } } : {}),
              gpu: "auto",
            }),
          );
          const cluster = { mode: "eks", nodeAutoscaler: "cluster-autoscaler" } as const;
          const planned = planStackCapacity({ models, gpuPools, cluster } as never);

          // Exhaustive: every model on every pool and GPU count it fits by itself (planned explicitly).
          const feasible = models.map((model) =>
            gpuPools.flatMap((p) =>
              replicaGpuCounts(poolHardware(p)!)
                .filter(
                  (count) =>
                    planModel({ model: { ...model, gpu: { pool: p.name, count } }, at: "m", pools: gpuPools })
                      .problems.length === 0,
                )
                .map((count) => ({ pool: p.name, count })),
            ),
          );
          const tracks = (i: number) => (specs[i]!.canary ? 2 : 1);
          const bill = (layout: Array<{ pool: string; count: number }>) => {
            const gpus = (which: "min" | "max", pool: string) =>
              layout.reduce(
                (s, l, i) =>
                  l.pool !== pool
                    ? s
                    : s +
                      l.count *
                        tracks(i) *
                        (which === "min" ? specs[i]!.minReplicas : specs[i]!.minReplicas + specs[i]!.extra),
                0,
              );
            const over = gpuPools.filter(
              (p) => Math.ceil(gpus("max", p.name) / GPU_INSTANCES[p.instanceTypes[0]!]!.gpus) > p.maxSize,
            ).length;
            const at = (which: "min" | "max") =>
              gpuPools.reduce((s, p) => s + poolBill(p.instanceTypes[0]!, p.minSize, gpus(which, p.name)), 0);
            return [over, at("min"), at("max")];
          };
          let best: number[] | undefined;
          const walk = (i: number, layout: Array<{ pool: string; count: number }>) => {
            if (i === models.length) {
              const b = bill(layout);
              if (
                !best ||
                b[0]! < best[0]! ||
                (b[0] === best[0] &&
                  (b[1]! < best[1]! - 1e-9 || (Math.abs(b[1]! - best[1]!) < 1e-9 && b[2]! < best[2]! - 1e-9)))
              )
                best = b;
              return;
            }
            for (const choice of feasible[i]!) walk(i + 1, [...layout, choice]);
          };
          walk(0, []);
          if (feasible.some((f) => f.length === 0)) {
            assert.ok(planned.problems.some((p) => /gpu: auto found no pool/.test(p.message)));
            return;
          }
          decided++;
          const chosen = planned.models.map((m) => m.gpu!);
          const got = bill(chosen);
          within(got[1]!, best![1]!, 1e-9, "whole-node $/h at min replicas");
          within(got[2]!, best![2]!, 1e-9, "whole-node $/h at max replicas");
          // The plan's own totals are that bill.
          within(planned.capacity.totals.dollarsPerHourAtMin, got[1]!, 1e-9, "reported $/h at min");
          within(planned.capacity.totals.dollarsPerHourAtMax, got[2]!, 1e-9, "reported $/h at max");
        },
      ),
      { numRuns: 40, seed: 20261130 },
    );
    assert.ok(decided >= 20, `only ${decided} of 40 stacks had a feasible layout`);
  });

  it("bills a TP-2 replica on an 8-GPU node for the whole node, unless other replicas share it", () => {
    const gpuPools = [pool("p5", "p5.48xlarge", 2), pool("x4", "g6e.12xlarge", 4)];
    const model = (name: string) =>
      llm({
        name,
        architecture: "llama-3.1-70b",
        engine: { maxModelLen: 8192, quantization: "fp8" },
        autoscaling: { minReplicas: 1, maxReplicas: 1 },
        gpu: { pool: "p5", count: 2 },
      });
    const cluster = { mode: "eks", nodeAutoscaler: "cluster-autoscaler" } as const;
    const one = planStackCapacity({ models: [model("a")], gpuPools, cluster } as never);
    const p5 = one.capacity.pools.find((l) => l.pool === "p5")!;
    assert.equal(p5.atMin.nodes, 1);
    within(p5.atMin.dollarsPerHour!, 55.04, 1e-9, "the whole p5.48xlarge");
    within(one.models[0]!.capacity!.gpuShareHour!, 55.04 / 4, 1e-9, "the share is a quarter");
    const four = planStackCapacity({ models: ["a", "b", "c", "d"].map(model), gpuPools, cluster } as never);
    const shared = four.capacity.pools.find((l) => l.pool === "p5")!;
    assert.equal(shared.atMin.nodes, 1, "four TP-2 replicas share one 8-GPU node");
    // gpu: auto sees the node bill. An 8B model: an L4 of a g6.48xlarge is the cheapest GPU share
    // ($1.67/h) but one replica alone would pay for all eight; a g6e.xlarge costs $1.86/h whole.
    const pools8 = [pool("l4-x8", "g6.48xlarge", 2), pool("l40s", "g6e.xlarge", 8)];
    const eightB = (replicas: number) =>
      llm({
        architecture: "llama-3.1-8b",
        engine: { maxModelLen: 8192 },
        autoscaling: { minReplicas: replicas, maxReplicas: replicas },
        gpu: "auto",
      });
    const alone = planStackCapacity({ models: [eightB(1)], gpuPools: pools8, cluster } as never);
    assert.deepEqual(alone.models[0]!.gpu, { pool: "l40s", count: 1 });
    within(alone.capacity.totals.dollarsPerHourAtMin, 1.861, 1e-9, "one g6e.xlarge");
    const full = planStackCapacity({ models: [eightB(8)], gpuPools: pools8, cluster } as never);
    assert.deepEqual(full.models[0]!.gpu, { pool: "l4-x8", count: 1 }, "eight replicas fill the node");
    within(full.capacity.totals.dollarsPerHourAtMin, 13.3504, 1e-9, "one g6.48xlarge");
  });

  it("checks a pool against every model and candidate on it, not one model at a time", () => {
    const gpuPools = [pool("l4", "g6.xlarge", 5)];
    const cluster = { mode: "eks", nodeAutoscaler: "cluster-autoscaler" } as const;
    const m = (name: string, extra: Record<string, unknown> = {}) =>
      llm({
        name,
        architecture: "llama-3.2-1b",
        autoscaling: { minReplicas: 1, maxReplicas: 2 },
        gpu: { pool: "l4", count: 1 },
        ...extra,
      });
    const each = planStackCapacity({ models: [m("a"), m("b")], gpuPools, cluster } as never);
    assert.deepEqual(each.problems, [], "4 replicas on 5 nodes");
    const canary = planStackCapacity({
      models: [m("a"), m("b", { rollout: { candidate: { storageUri: "s3://b/v2" }, percent: 10 } })],
      gpuPools,
      cluster,
    } as never);
    assert.equal(canary.problems.length, 1);
    assert.equal(canary.problems[0]!.path, "gpuPools[0].maxSize");
    assert.match(
      canary.problems[0]!.message,
      /a 2×1 GPU, b 2×1 GPU, b \(candidate\) 2×1 GPU at their maxReplicas: 6 GPUs on 6 g6\.xlarge/,
    );
    const rows = canary.capacity.models.find((x) => x.model === "b")!.tracks;
    assert.deepEqual(
      rows.map((t) => t.track),
      ["stable", "candidate"],
      "the candidate is in the plan",
    );
    assert.equal(canary.capacity.totals.gpusAtMaxReplicas, 6);
  });

  it("gpu: auto honours engine.tensorParallelSize and the pools' sizes", () => {
    const gpuPools = [pool("x4", "g6e.12xlarge", 1), pool("l40s", "g6e.xlarge", 8)];
    const cluster = { mode: "eks", nodeAutoscaler: "cluster-autoscaler" } as const;
    const model = (engine: Record<string, unknown>, maxReplicas = 1) =>
      llm({
        architecture: "llama-3.1-8b",
        engine: { maxModelLen: 8192, ...engine },
        autoscaling: { minReplicas: 1, maxReplicas },
        gpu: "auto",
      });
    const tp2 = planStackCapacity({ models: [model({ tensorParallelSize: 2 })], gpuPools, cluster } as never);
    assert.deepEqual(tp2.models[0]!.gpu, { pool: "x4", count: 2 });
    assert.deepEqual(tp2.problems, []);
    // Five replicas of one L40S: the single x4 node holds four, so the 1-GPU pool takes them.
    const five = planStackCapacity({ models: [model({}, 5)], gpuPools, cluster } as never);
    assert.deepEqual(five.models[0]!.gpu, { pool: "l40s", count: 1 });
    const none = planStackCapacity({
      models: [model({ tensorParallelSize: 8 })],
      gpuPools,
      cluster,
    } as never);
    assert.match(
      none.problems[0]!.message,
      /gpu: auto found no pool and GPU count of 8 \(engine\.tensorParallelSize\)/,
    );
  });

  it("derives a context below 8192 when that is what fits, and says so", () => {
    const result = planModel({
      model: llm({ architecture: "llama-3.1-8b", minConcurrency: 4, gpu: { pool: "a10g", count: 1 } }),
      at: "models[0]",
      pools: [pool("a10g", "g5.xlarge")],
    });
    assert.deepEqual(result.problems, []);
    const llmPlan = result.plan!.llm!;
    assert.equal(llmPlan.engine.maxModelLen, 8192, "4 × 8192 tokens fit an A10G");
    const tight = planModel({
      model: llm({ architecture: "llama-3.1-8b", minConcurrency: 8, gpu: { pool: "a10g", count: 1 } }),
      at: "models[0]",
      pools: [pool("a10g", "g5.xlarge")],
    });
    assert.deepEqual(tight.problems, []);
    assert.equal(tight.plan!.llm!.engine.maxModelLen, 4096);
    assert.match(
      tight.plan!.llm!.notes.join(),
      /maxModelLen derived as 4096, below the 8192 the planner aims for/,
    );
  });

  it("rejects a declared shape that does not hold together, each reason at architecture", () => {
    const shape = { ...ARCHITECTURES["qwen2.5-7b"], kvHeads: 6, headDim: 96, parameters: 3e9 };
    const result = planModel({
      model: llm({ architecture: shape, gpu: { pool: "l4", count: 1 } }),
      at: "models[0]",
      pools: [pool("l4", "g6.xlarge")],
    });
    assert.deepEqual(
      result.problems.map((p) => p.path),
      ["models[0].architecture", "models[0].architecture", "models[0].architecture"],
    );
    const text = result.problems.map((p) => p.message).join("\n");
    assert.match(text, /attentionHeads \(28\) must be a multiple of kvHeads \(6\)/);
    assert.match(text, /Qwen2ForCausalLM takes headDim = hiddenSize \/ attentionHeads = 128, not 96/);
    assert.match(text, /parameters \(3\.00 B\) disagree with the shape/);
  });

  it("suggests FP8 weights as weight-only where the GPU has no FP8 cores (compat data)", () => {
    const result = planModel({
      model: llm({
        architecture: "llama-3.1-70b",
        engine: { maxModelLen: 8192 },
        gpu: { pool: "a10g", count: 4 },
      }),
      at: "models[0]",
      pools: [pool("a10g", "g5.12xlarge")],
    });
    assert.match(
      result.problems[0]!.message,
      /engine\.quantization: fp8 \(weight-only on A10G: saves memory, not compute\)/,
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
    raw.models[0]!.rollout.candidate.engine = { kvCacheDtype: "auto", maxModelLen: 32768 };
    const err = configError(raw, "dev");
    assert.match(
      err.message,
      /models\[0\]\.rollout\.candidate\.engine\.maxModelLen: llama-3\.1-8b .* does not fit 1× L4/,
    );
  });
});
