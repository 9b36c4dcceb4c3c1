/**
 * LoRA adapters on a vLLM model: the slots vLLM reserves and what they cost, the flags, the downloads
 * through the predictor's storageUris, and what config refuses.
 */
import * as assert from "node:assert/strict";
import { loraBytesPerGpu, loraSlots } from "../models/capacity/lora";
import { ARCHITECTURES } from "../models/capacity/architectures";
import { loraArgs } from "../models/serving/runtimes";
import { VLLM_ENGINE_FLAGS, VLLM_FRONTEND_FLAGS } from "../models/serving/vllmFlags";
import { configError, stackRaw, validate } from "./helpers";
import { stockPlan } from "./plans";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("LoRA adapters", function () {
  this.timeout(60_000);

  it("reserves one slot per adapter at the largest rank vLLM accepts above theirs", () => {
    assert.deepEqual(loraSlots([{ rank: 8 }, { rank: 24 }]), { maxLoras: 2, maxRank: 32 });
    assert.deepEqual(loraSlots([{ rank: 16 }]), { maxLoras: 1, maxRank: 16 });
    assert.equal(loraSlots([]), undefined);
  });

  it("sizes the slots from the layer shapes vLLM allocates, split as tensor parallelism splits them", () => {
    const a = ARCHITECTURES["llama-3.1-8b"];
    // Per layer at rank 1: qkv 3×4096 + 6144, o_proj 4096 + 4096, gate_up 2×4096 + 2×14336, down 14336 + 4096.
    const perLayer = 3 * 4096 + 6144 + 4096 + 4096 + 2 * 4096 + 2 * 14336 + 14336 + 4096;
    assert.equal(loraBytesPerGpu(a, { maxLoras: 1, maxRank: 16 }, 1, 2), perLayer * 32 * 16 * 2);
    const tp2 = loraBytesPerGpu(a, { maxLoras: 1, maxRank: 16 }, 2, 2);
    assert.ok(
      tp2 < perLayer * 32 * 16 * 2 && tp2 > (perLayer * 32 * 16 * 2) / 2,
      "inputs of column-parallel layers are not split",
    );
    assert.equal(loraBytesPerGpu(a, { maxLoras: 4, maxRank: 64 }, 1, 2), perLayer * 32 * 16 * 2 * 16);
  });

  it("passes vLLM's LoRA flags, each adapter under its own name, flags the pinned vLLM has", () => {
    const args = loraArgs([
      { name: "sql", rank: 8 },
      { name: "chat", rank: 24 },
    ]);
    assert.deepEqual(args, [
      "--enable-lora",
      "--max-loras=2",
      "--max-lora-rank=32",
      "--max-cpu-loras=2",
      "--lora-modules",
      "sql=/mnt/adapters/sql",
      "chat=/mnt/adapters/chat",
    ]);
    for (const f of args.filter((a) => a.startsWith("--")))
      assert.ok(
        VLLM_ENGINE_FLAGS.has(f.split("=")[0]!) || VLLM_FRONTEND_FLAGS.has(f.split("=")[0]!),
        `${f} is not a vLLM 0.24 flag`,
      );
  });

  it("downloads the adapters next to the model through storageUris, and counts their slots in the KV budget", async () => {
    const p = await stockPlan("dev");
    const isvc = (name: string) =>
      p.objects.find((o) => o.object.kind === "InferenceService" && o.object.metadata?.name === name)!
        .object as Any;
    const stable = isvc("llama-31-8b").spec.predictor;
    assert.deepEqual(stable.storageUris, [
      { uri: "s3://example-models-dev/adapters/llama-31-8b-sql", mountPath: "/mnt/adapters/llama-31-8b-sql" },
    ]);
    assert.equal(stable.model.storageUri, undefined, "the base model comes from the node's copy");
    const candidate = isvc("llama-31-8b-canary").spec.predictor;
    assert.equal(
      candidate.storageUris[0].mountPath,
      "/mnt/models",
      "the candidate downloads its base model too",
    );
    assert.equal(candidate.model.storageUri, undefined, "KServe refuses storageUri next to storageUris");
    // The adapter's bucket is readable by the model's role.
    const dev = validate(stackRaw("dev"), "dev");
    const raw = stackRaw("dev") as Any;
    delete raw.models[0].adapters;
    const without = validate(raw, "dev");
    const kv = (cfg: typeof dev) => cfg.models[0]!.capacity!.llm!.memory.kvTokens;
    assert.ok(kv(dev) < kv(without), "the adapter's slot comes out of the KV cache");
  });

  it("refuses adapters on other runtimes, clashing names and storage it cannot fetch", () => {
    const raw = stackRaw("dev") as Any;
    raw.models[1].adapters = [{ name: "x", storageUri: "s3://b/x", rank: 8 }];
    raw.models[0].adapters.push(
      { name: "llama-31-8b", storageUri: "s3://b/y", rank: 8 },
      { name: "llama-31-8b-sql", storageUri: "ftp://b/z", rank: 8 },
    );
    const messages = configError(raw, "dev").problems.map((p) => `${p.path}: ${p.message}`);
    assert.ok(messages.some((m) => /^models\[1\]\.adapters: LoRA adapters are served by vLLM/.test(m)));
    assert.ok(
      messages.some((m) =>
        /^models\[0\]\.adapters\[1\]\.name: "llama-31-8b" is already served by this model \(the base model's name\)/.test(
          m,
        ),
      ),
    );
    assert.ok(messages.some((m) => /^models\[0\]\.adapters\[2\]\.name: .*another adapter/.test(m)));
    assert.ok(
      messages.some((m) => /^models\[0\]\.adapters\[2\]\.storageUri: must be one of s3:\/\//.test(m)),
    );
  });
});
