/**
 * The capacity planner's memory model against published vLLM startup figures
 * (models/capacity/calibration/vllm-startups.yaml): every gated point within ±10% of the logged KV
 * cache, none over-promising by more than 5% (an over-promise is an OOM or a refusal at startup), fit
 * and holdout reported apart, and the published startup failures refused by the planner.
 */
import * as assert from "node:assert/strict";
import { architectureProblems, type Architecture } from "../models/capacity/architectures";
import { predict, resolveSetup } from "../models/capacity/calibration";
import { GIB, weightBytes } from "../models/capacity/memory";
import { planModel } from "../models/capacity/planner";
import { gpuPoolSchema } from "../config/schema";
import { modelSchema } from "../models/schema";
import { calibrationReport, calibrationTable, loadCalibration } from "../tools/calibrationData";

const data = loadCalibration();
const report = calibrationReport(data);
const gated = report.rows.filter((r) => r.point.status !== "reference");
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

describe("capacity calibration against published vLLM startups", () => {
  before(() => {
    // The table the README and `npm run bench` show, fit and holdout apart.
    console.log(calibrationTable(report).slice(-2).join("\n"));
  });

  it("has at least 12 gated points over four GPU classes and TP 1–4, a third of them held out", () => {
    assert.ok(gated.length >= 12, `${gated.length} gated points`);
    const classOf = (r: (typeof gated)[number]) => {
      const gpu = resolveSetup(data, r.point).gpu;
      const gib = gpu.torchTotalGiB;
      if (gib < 30) return "24 GB";
      if (gib < 60) return "48 GB";
      return gpu.computeCapability >= 9 ? "80 GB Hopper" : "80 GB Ampere";
    };
    assert.deepEqual([...new Set(gated.map(classOf))].sort(), [
      "24 GB",
      "48 GB",
      "80 GB Ampere",
      "80 GB Hopper",
    ]);
    assert.deepEqual([...new Set(gated.map((r) => r.point.tensorParallel))].sort(), [1, 2, 4]);
    assert.ok(
      report.holdout.points * 3 >= gated.length,
      `${report.holdout.points} of ${gated.length} held out`,
    );
  });

  it("cites every figure: a source URL and a verbatim quote", () => {
    for (const p of [...data.points, ...data.failures]) {
      assert.match(p.source, /^https:\/\//, p.id);
      assert.ok(p.quote.trim().length > 20, `${p.id}: a quote`);
    }
  });

  it("holds each declared shape together: heads, parameters, and the logged weights and KV bytes", () => {
    for (const [name, a] of Object.entries(data.architectures))
      assert.deepEqual(architectureProblems(a as Architecture), [], name);
    for (const r of report.rows) {
      if (r.weightsError !== undefined)
        assert.ok(
          Math.abs(r.weightsError) <= 0.02,
          `${r.point.id}: weights ${pct(r.weightsError)} off the log`,
        );
      // Where a source gives both the KV GiB and its token count, the shape's bytes per token must agree.
      const o = r.point.observed;
      if (o.kvCacheGiB !== undefined && o.kvTokens !== undefined && r.point.id !== "P04") {
        const implied = (o.kvTokens * r.predicted.kvBytesPerTokenPerGpu) / GIB;
        assert.ok(
          Math.abs(implied - o.kvCacheGiB) <= o.kvCacheGiB * 0.01 + 0.01,
          `${r.point.id}: ${o.kvTokens} tokens × ${r.predicted.kvBytesPerTokenPerGpu} B = ${implied.toFixed(2)} GiB, logged ${o.kvCacheGiB}`,
        );
      }
    }
  });

  it("predicts every gated point's KV cache within ±10%, a known miss only on the safe side", () => {
    const misses = gated.filter((r) => Math.abs(r.kvError) > 0.1);
    for (const r of misses) {
      assert.ok(r.point.knownMiss, `${r.point.id}: ${pct(r.kvError)} with no knownMiss explaining it`);
      assert.ok(
        r.kvError < 0 && r.kvError > -0.15,
        `${r.point.id}: a known miss must under-promise, by < 15%`,
      );
    }
    assert.ok(misses.length <= 1, `${misses.length} known misses`);
    for (const r of gated.filter((x) => x.point.knownMiss))
      assert.ok(Math.abs(r.kvError) > 0.1, `${r.point.id} is marked a known miss but is within ±10% now`);
  });

  it("never over-promises a gated point by more than 5%", () => {
    for (const r of gated) assert.ok(r.kvError <= 0.05, `${r.point.id}: over-promises by ${pct(r.kvError)}`);
  });

  it("fits within ±5%, and no holdout point over-promises (the README figures)", () => {
    assert.ok(report.fit.minError >= -0.05 && report.fit.maxError <= 0.05, JSON.stringify(report.fit));
    assert.ok(report.holdout.maxError <= 0.05, JSON.stringify(report.holdout));
  });

  describe("refuses the published startup failures", () => {
    const pools: Record<string, string> = { H100: "p5.4xlarge", A10: "g5.xlarge" };
    for (const f of data.failures) {
      it(`${f.id}: ${f.model} on ${f.tensorParallel}× ${f.gpu} at ${f.maxModelLen} tokens`, () => {
        const instanceType = pools[f.gpu];
        if (instanceType) {
          // The planner itself, on the AWS instance of that GPU, for one sequence of the logged length.
          const resolved = resolveSetup(data, f);
          const result = planModel({
            model: modelSchema.parse({
              name: "m",
              runtime: "vllm",
              storageUri: "s3://b/m",
              architecture: data.architectures[f.architecture] ? resolved.architecture : f.architecture,
              minConcurrency: 1,
              engine: {
                maxModelLen: f.maxModelLen,
                gpuMemoryUtilization: f.gpuMemoryUtilization,
                ...(f.quantization ? { quantization: f.quantization } : {}),
              },
              gpu: { pool: "p", count: f.tensorParallel },
            }),
            at: "models[0]",
            pools: [gpuPoolSchema.parse({ name: "p", instanceTypes: [instanceType], maxSize: 1 })],
          });
          assert.equal(
            result.plan,
            undefined,
            `${f.id} planned: ${JSON.stringify(result.plan?.llm?.memory)}`,
          );
          assert.match(result.problems[0]!.message, /does not fit/);
        } else {
          // A GPU outside the AWS catalog (RTX 4090): the memory model directly.
          const m = predict(data, f);
          assert.ok(m.kvTokens < f.maxModelLen, `${f.id}: ${m.kvTokens} tokens ≥ ${f.maxModelLen}`);
        }
      });
    }
  });

  it("keeps the weights model honest on quantized checkpoints (FP8 and AWQ points)", () => {
    for (const r of report.rows.filter((x) => x.point.quantization && x.weightsError !== undefined)) {
      const { architecture, engine } = resolveSetup(data, r.point);
      const perGpu = weightBytes(architecture, engine) / r.point.tensorParallel / GIB;
      assert.ok(
        Math.abs(perGpu - r.point.observed.weightsGiB!) <= r.point.observed.weightsGiB! * 0.02,
        r.point.id,
      );
    }
  });
});
