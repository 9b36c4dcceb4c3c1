/**
 * The node weight cache: what the downloader and the cached predictor look like, what config refuses,
 * how it changes the time to ready, and that the downloader is applied before the predictors.
 */
import * as assert from "node:assert/strict";
import { configError, stackRaw, validate } from "./helpers";
import { stockPlan } from "./plans";
import { WEIGHT_CACHE, weightCacheKey, NODE_DISK_RESERVE_GIB } from "../models/serving/weightCache";
import { predictTimeToReady } from "../models/capacity/timeToReady";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("node weight cache", function () {
  this.timeout(60_000);

  it("runs a downloader on every node of the pool: GPU taint tolerated, the model's identity and token, one version kept", async () => {
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
    assert.match(download.command[2], /find \. -mindepth 1 -maxdepth 1 ! -name "\$KEY" -exec rm -rf/);
    assert.equal(download.securityContext.runAsUser, 1000);
    const chown = pod.initContainers.find((c: Any) => c.name === "own-cache-dir");
    assert.deepEqual(chown.securityContext.capabilities, { drop: ["ALL"], add: ["CHOWN"] });
    assert.equal(pod.volumes[0].hostPath.path, `${WEIGHT_CACHE.hostRoot}/models-llama-31-8b`);
    assert.equal(ds.metadata.annotations["pulumi.com/skipAwait"], "true");
    assert.equal(ds.spec.template.metadata.annotations["sidecar.istio.io/inject"], "false");
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
    assert.match(candidate.model.storageUri, /^hf:\/\/meta-llama\/Llama-3.1-8B-Instruct:/);
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
    raw.models[1].nodeCache = { sizeGiB: 1 };
    delete raw.models[2].nodeCache;
    raw.gpuPools[0].diskSizeGiB = 70;
    const small = configError(raw, "dev");
    const disk = small.problems.find((p) => p.path === "gpuPools[0].diskSizeGiB")!;
    assert.match(
      disk.message,
      new RegExp(`16 GiB of cached weights \\(llama-31-8b, resnet50\\) beside ${NODE_DISK_RESERVE_GIB} GiB`),
    );
    const pvc = stackRaw("dev") as Any;
    pvc.models[0].storageUri = "pvc://weights/llama";
    pvc.models[0].architecture = "llama-3.1-8b";
    assert.match(
      configError(pvc, "dev").message,
      /models\[0\]\.nodeCache: caches what KServe's storage initializer downloads .* pvc:\/\/ needs no download/,
    );
  });

  it("takes the download off a warm node's time to ready, and overlaps it with the image pull on a new one", () => {
    const dev = validate(stackRaw("dev"), "dev");
    const llama = dev.models[0]!;
    const cached = predictTimeToReady(llama, dev.gpuPools[0], "karpenter");
    const uncached = predictTimeToReady({ ...llama, nodeCache: undefined }, dev.gpuPools[0], "karpenter");
    const step = (name: string) => cached.steps.find((s) => s.step === name)!;
    assert.equal(cached.warm.high, uncached.warm.high - step("download").high!);
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
