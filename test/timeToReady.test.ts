/**
 * Predicted time to ready: each step from its published figure, the node autoscaler's share, the
 * streaming loader, and what the prediction decides (startup probes, scale-up SLO checks).
 */
import * as assert from "node:assert/strict";
import {
  checkpointBytes,
  predictTimeToReady,
  readinessProblems,
  type ModelTimeToReady,
} from "../models/capacity/timeToReady";
import {
  AUTOSCALER_REACTION,
  INTERNET_DOWNLOAD_BYTES_PER_SECOND,
  LOAD_BYTES_PER_SECOND,
  NETWORK_BASELINE_GBPS,
} from "../models/capacity/startupFigures";
import { GPU_INSTANCES } from "../models/capacity/gpuInstances";
import { vllmArgs } from "../models/serving/runtimes";
import { VLLM_ENGINE_FLAGS } from "../models/serving/vllmFlags";
import { resolveModel } from "../models/serving/resolve";
import { configError, stackRaw, validate } from "./helpers";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const step = (t: ModelTimeToReady, name: string) => t.steps.find((s) => s.step === name)!;

describe("time to ready", () => {
  const dev = validate(stackRaw("dev"), "dev");
  const llama = dev.models.find((m) => m.name === "llama-31-8b")!;
  const pool = dev.gpuPools[0]!;

  it("covers every instance type the platform knows with a network figure", () => {
    assert.deepEqual(Object.keys(NETWORK_BASELINE_GBPS).sort(), Object.keys(GPU_INSTANCES).sort());
  });

  it("downloads an hf:// checkpoint no faster than the instance's baseline network, no slower than the slowest observed", () => {
    const t = llama.timeToReady!;
    const bytes = checkpointBytes(llama)!;
    assert.ok(Math.abs(bytes / 2 ** 30 - 14.96) < 0.05, "Llama 3.1 8B in bf16 is 15 GiB");
    const network = (NETWORK_BASELINE_GBPS["g6.xlarge"]! * 1e9) / 8;
    assert.ok(network < INTERNET_DOWNLOAD_BYTES_PER_SECOND.low, "g6.xlarge's 2.5 Gbit/s is the bound here");
    assert.equal(step(t, "download").low, bytes / network);
    assert.equal(step(t, "download").high, bytes / INTERNET_DOWNLOAD_BYTES_PER_SECOND.high);
    assert.ok(!t.warm.partial && !t.cold.partial, "every step of a vLLM model has a figure");
    const uncached = predictTimeToReady({ ...llama, nodeCache: undefined }, pool, "karpenter");
    assert.equal(
      uncached.cold.low,
      uncached.steps.reduce((s, x) => s + x.low!, 0),
      "uncached: every step in turn",
    );
  });

  it("gives Karpenter's batching, not Cluster Autoscaler's scan, to a GPU node's provisioning", () => {
    const karpenter = predictTimeToReady(llama, pool, "karpenter");
    const ca = predictTimeToReady(llama, pool, "cluster-autoscaler");
    assert.equal(
      step(ca, "node").high! - step(karpenter, "node").high!,
      AUTOSCALER_REACTION["cluster-autoscaler"].high - AUTOSCALER_REACTION.karpenter.high,
    );
    const none = predictTimeToReady(llama, pool, "none");
    assert.equal(step(none, "node").low, undefined, "without an autoscaler no node comes");
    assert.ok(none.cold.partial);
  });

  it("loads 4-bit checkpoints at their size and streams with the Run:ai loader when asked", () => {
    const awq = { ...llama, engine: { ...llama.engine, quantization: "awq" as const } };
    assert.ok(checkpointBytes(awq)! < checkpointBytes(llama)! / 2.5, "AWQ downloads the 4-bit checkpoint");
    const fp8 = { ...llama, engine: { ...llama.engine, quantization: "fp8" as const } };
    assert.equal(checkpointBytes(fp8), checkpointBytes(llama), "fp8 quantizes a 16-bit checkpoint on load");
    const streamed = { ...llama, engine: { ...llama.engine, loadFormat: "runai_streamer" as const } };
    const t = predictTimeToReady(streamed, pool, "karpenter");
    assert.equal(step(t, "load").high, checkpointBytes(llama)! / LOAD_BYTES_PER_SECOND.runai_streamer.high);
    assert.ok(step(t, "load").high! * 3 < step(llama.timeToReady!, "load").high!);
  });

  it("passes the streaming loader to vLLM with flags the pinned vLLM has", () => {
    const args = vllmArgs({
      servedName: "m",
      engine: { ...llama.engine, loadFormat: "runai_streamer" },
      derived: {},
      tensorParallelSize: 1,
    });
    const flags = args.filter(
      (a) => a.startsWith("--load-format") || a.startsWith("--model-loader-extra-config"),
    );
    assert.deepEqual(flags, [
      "--load-format=runai_streamer",
      '--model-loader-extra-config={"concurrency":16}',
    ]);
    for (const f of flags) assert.ok(VLLM_ENGINE_FLAGS.has(f.split("=")[0]!), `${f} is not a vLLM 0.24 flag`);
    const raw = stackRaw("dev") as Any;
    raw.models[1].engine = { loadFormat: "runai_streamer" };
    assert.match(
      configError(raw, "dev").message,
      /models\[1\]\.engine\.loadFormat: runai_streamer is a vLLM load format; triton reads checkpoints its own way/,
    );
  });

  it("sizes the startup probe from the prediction and refuses one that would restart a loading replica", () => {
    const probeHigh = llama.timeToReady!.probe.high;
    const resolved = resolveModel(llama, dev);
    assert.equal(resolved.startupSeconds, Math.max(300, Math.ceil((2 * probeHigh) / 60) * 60));
    assert.ok(resolved.startupSeconds < 1800, "a hung load is restarted in minutes, not half an hour");
    const raw = stackRaw("dev") as Any;
    raw.models[0].startupSeconds = 30;
    assert.match(
      configError(raw, "dev").message,
      /models\[0\]\.startupSeconds: 30 s is shorter than the predicted load and engine start/,
    );
  });

  it("keeps a replica at least as long after load drops as it would take to bring it back", () => {
    const prod = validate(stackRaw("prod"), "prod");
    const big = prod.models.find((m) => m.name === "llama-31-70b")!;
    const warm = big.timeToReady!.warm.high;
    assert.ok(warm > 300, "the 70B model takes longer than the 5-minute floor to return");
    const resolved = resolveModel(big, prod);
    assert.equal(resolved.autoscaling.scaleDownStabilizationSeconds, Math.ceil(warm / 60) * 60);
    assert.equal(
      resolveModel(llama, dev).autoscaling.scaleDownStabilizationSeconds,
      300,
      "a quick return keeps the floor",
    );
    const set = resolveModel(
      { ...big, autoscaling: { ...big.autoscaling, scaleDownStabilizationSeconds: 60 } },
      prod,
    );
    assert.equal(set.autoscaling.scaleDownStabilizationSeconds, 60, "config wins");
  });

  it("refuses a scale-up SLO no node can meet and warns when only a warm node meets it", () => {
    const raw = stackRaw("dev") as Any;
    raw.models[0].autoscaling.readyWithinSeconds = 20;
    assert.match(
      configError(raw, "dev").message,
      /models\[0\]\.autoscaling\.readyWithinSeconds: a new replica needs \d+ s even on a node that has its image/,
    );
    raw.models[0].autoscaling.readyWithinSeconds = 600;
    const cfg = validate(raw, "dev");
    assert.ok(cfg.models[0]!.timeToReady!.cold.high > 600, "a new node takes longer");
    const { warnings } = readinessProblems(cfg);
    assert.deepEqual(
      warnings.map((w) => w.path),
      ["models[0].autoscaling.readyWithinSeconds"],
    );
    assert.match(warnings[0]!.message, /the SLO holds only while a node with room is up/);
  });
});
