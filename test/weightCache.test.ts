/**
 * The node weight cache: what the downloader and the cached predictor look like, what config refuses,
 * how it changes the time to ready, and that the downloader is applied before the predictors.
 */
import * as assert from "node:assert/strict";
import { configError, stackRaw, validate } from "./helpers";
import { stockPlan } from "./plans";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  downloadScript,
  WEIGHT_CACHE,
  weightCacheKey,
  NODE_DISK_RESERVE_GIB,
} from "../models/serving/weightCache";
import { predictTimeToReady } from "../models/capacity/timeToReady";
import { weightCacheWarnings } from "../config/rules/weightCache";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("node weight cache", function () {
  this.timeout(60_000);

  it("runs a downloader on every node of the pool: GPU taint tolerated, the model's identity and token, two versions kept", async () => {
    const p = await stockPlan("dev");
    const ds = p.objects.find((o) => o.object.kind === "DaemonSet")!.object as Any;
    assert.equal(ds.metadata.name, "llama-31-8b-weights");
    const pod = ds.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { "inference-platform/pool": "l4" });
    assert.deepEqual(pod.tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    assert.equal(pod.serviceAccountName, "llama-31-8b-model", "the model's own Pod Identity role and token");
    const download = pod.initContainers.find((c: Any) => c.name === "download");
    const env = Object.fromEntries(download.env.map((e: Any) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.STORAGE_URI, "hf://meta-llama/Llama-3.1-8B-Instruct");
    assert.equal(env.KEY, weightCacheKey("hf://meta-llama/Llama-3.1-8B-Instruct"));
    assert.deepEqual(env.HF_TOKEN, { secretKeyRef: { name: "hf-token", key: "HF_TOKEN" } });
    assert.equal(download.command[2], downloadScript());
    assert.equal(download.securityContext.runAsUser, 1000);
    const chown = pod.initContainers.find((c: Any) => c.name === "own-cache-dir");
    assert.deepEqual(chown.securityContext.capabilities, { drop: ["ALL"], add: ["CHOWN"] });
    assert.equal(pod.volumes[0].hostPath.path, `${WEIGHT_CACHE.hostRoot}/models-llama-31-8b`);
    assert.equal(ds.metadata.annotations["pulumi.com/skipAwait"], "true");
    assert.equal(ds.spec.template.metadata.annotations["sidecar.istio.io/inject"], "false");
  });

  it("downloads once per version, keeps the one before, drops older and unfinished ones (run by /bin/sh)", () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "weight-cache-"));
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "initializer-"));
    const fake = path.join(bin, "initializer-entrypoint");
    // The storage initializer's contract: download the URI into the directory (initializer-entrypoint 10-26).
    fs.writeFileSync(
      fake,
      `#!/bin/sh\nmkdir -p "$2" && echo "$1" > "$2/weights" && echo "$1" >> ${bin}/calls\n`,
      { mode: 0o755 },
    );
    const run = (key: string, uri: string) => {
      const r = spawnSync("/bin/sh", ["-c", downloadScript(fake)], {
        env: { PATH: process.env.PATH, CACHE: cache, KEY: key, STORAGE_URI: uri },
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
    };
    const entries = () => fs.readdirSync(cache).sort();
    const calls = () => fs.readFileSync(path.join(bin, "calls"), "utf8").trim().split("\n");
    run("k1", "s3://b/v1");
    assert.deepEqual(entries(), ["k1", "k1.complete"]);
    run("k1", "s3://b/v1");
    assert.deepEqual(calls(), ["s3://b/v1"], "a complete version is not fetched again");
    run("k2", "s3://b/v2");
    fs.mkdirSync(path.join(cache, "k9")); // a download cut short
    run("k3", "s3://b/v3");
    assert.deepEqual(entries(), ["k2", "k2.complete", "k3", "k3.complete"], "the previous version stays");
    run("k2", "s3://b/v2"); // roll back
    assert.equal(calls().length, 3, "rolling back to the kept version downloads nothing");
    assert.equal(fs.readFileSync(path.join(cache, "k2", "weights"), "utf8").trim(), "s3://b/v2");
  });

  it("makes the stable predictor read the node's copy and leaves the rollout candidate to download its own", async () => {
    const p = await stockPlan("dev");
    const isvc = (name: string) =>
      p.objects.find((o) => o.object.kind === "InferenceService" && o.object.metadata?.name === name)!
        .object as Any;
    const stable = isvc("llama-31-8b").spec.predictor;
    assert.equal(stable.model.storageUri, undefined, "no storageUri: KServe injects no download");
    assert.deepEqual(
      stable.model.volumeMounts.find((m: Any) => m.name === "weight-cache"),
      {
        name: "weight-cache",
        mountPath: "/mnt/models",
        subPath: weightCacheKey("hf://meta-llama/Llama-3.1-8B-Instruct"),
        readOnly: true,
      },
    );
    assert.deepEqual(
      stable.initContainers.map((c: Any) => c.name),
      ["wait-for-weights"],
    );
    const candidate = isvc("llama-31-8b-canary").spec.predictor;
    // Its base model among its downloads (storageUris, next to the LoRA adapter), at /mnt/models.
    const base = candidate.storageUris.find((u: Any) => u.mountPath === "/mnt/models");
    assert.match(base.uri, /^hf:\/\/meta-llama\/Llama-3.1-8B-Instruct:/);
    assert.equal(candidate.initContainers, undefined);
    // Applied before the predictors, which wait for it.
    const ds = p.resources.find((r) => r.type === "kubernetes:apps/v1:DaemonSet")!;
    const stableResource = p.resources.find(
      (r) =>
        r.type === "kubernetes:serving.kserve.io/v1beta1:InferenceService" &&
        (r.inputs as Any).metadata.name === "llama-31-8b",
    )!;
    assert.ok(stableResource.dependsOn.includes(ds.urn));
  });

  it("refuses what it cannot cache, naming the key: CPU and Knative models, mounted storage, unknown sizes, a small disk", () => {
    const raw = stackRaw("dev") as Any;
    raw.models[2].nodeCache = {}; // iris: CPU, Knative
    raw.models[1].nodeCache = {}; // resnet50: Triton, size unknown
    const err = configError(raw, "dev");
    const messages = err.problems
      .filter((p) => p.path.endsWith("nodeCache"))
      .map((p) => `${p.path}: ${p.message}`);
    assert.ok(
      messages.some((m) =>
        /^models\[2\]\.nodeCache: the cache lives on the nodes of the model's GPU pool/.test(m),
      ),
    );
    assert.ok(messages.some((m) => /^models\[2\]\.nodeCache: Knative refuses hostPath volumes/.test(m)));
    assert.ok(messages.some((m) => /^models\[1\]\.nodeCache: set nodeCache.sizeGiB/.test(m)));
    raw.models[1].nodeCache = { sizeGiB: 100 };
    delete raw.models[2].nodeCache;
    const small = configError(raw, "dev");
    const disk = small.problems.find((p) => p.path === "gpuPools[0].instanceTypes")!;
    assert.match(
      disk.message,
      new RegExp(
        `up to 2 versions of 115 GiB of cached weights \\(llama-31-8b, resnet50\\) beside ${NODE_DISK_RESERVE_GIB} GiB of images and pods on the instance-store array of 232 GiB; it needs 295 GiB`,
      ),
    );
    const pvc = stackRaw("dev") as Any;
    pvc.models[0].storageUri = "pvc://weights/llama";
    pvc.models[0].architecture = "llama-3.1-8b";
    assert.match(
      configError(pvc, "dev").message,
      /models\[0\]\.nodeCache: caches what KServe's storage initializer downloads .* pvc:\/\/ needs no download/,
    );
  });

  it("warns when an unpinned Hub repository is cached (nodes may hold different revisions)", () => {
    const dev = validate(stackRaw("dev"), "dev");
    assert.deepEqual(
      weightCacheWarnings(dev).map((w) => w.path),
      ["models[0].storageUri"],
    );
    const raw = stackRaw("dev") as Any;
    raw.models[0].storageUri =
      "hf://meta-llama/Llama-3.1-8B-Instruct:0e9e39f249a16976918f6564b8830bc894c89659";
    assert.deepEqual(weightCacheWarnings(validate(raw, "dev")), []);
  });

  it("takes the download off a warm node's time to ready, and overlaps it with the image pull on a new one", () => {
    const dev = validate(stackRaw("dev"), "dev");
    const llama = dev.models[0]!;
    const cached = predictTimeToReady(llama, dev.gpuPools[0], "karpenter");
    const uncached = predictTimeToReady({ ...llama, nodeCache: undefined }, dev.gpuPools[0], "karpenter");
    const step = (name: string) => cached.steps.find((s) => s.step === name)!;
    assert.equal(cached.warm.high, step("load").high! + step("engine").high!, "no download on a warm node");
    assert.equal(
      step("load").low,
      step("load").high,
      "the node's copy is read from disk: no page-cache fast end",
    );
    assert.equal(
      cached.cold.high,
      step("node").high! +
        Math.max(step("image").high!, step("download").high!) +
        step("load").high! +
        step("engine").high!,
    );
    assert.ok(cached.cold.high < uncached.cold.high);
  });
});
