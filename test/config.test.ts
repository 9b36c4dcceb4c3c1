import * as assert from "node:assert/strict";
import { configError, problemPaths, stackRaw, validate } from "./helpers";
import { readRawConfig } from "../config/load";
import { checkWarnings } from "../config/semantics";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function dev(): Raw {
  return stackRaw("dev");
}

describe("stack config schema", () => {
  for (const stack of ["dev", "prod", "local"]) {
    it(`accepts the checked-in ${stack} stack and fills defaults`, () => {
      const cfg = validate(stackRaw(stack), stack);
      assert.equal(cfg.environment, stack);
      assert.ok(cfg.models.length > 0);
      for (const m of cfg.models) assert.equal(m.namespace, "models");
      assert.equal(cfg.addons.kserve.defaultDeploymentMode, "Standard");
    });
  }

  it("reports every mistake at once, each with its key path and the stack name", () => {
    const raw = dev();
    raw.models[0].rollout.percent = 150;
    raw.models[1].runtime = "onnxruntime";
    raw.cluster.endpoint.publicAccessCidrs = ["10.0.0.0/33"];
    raw.models[2].autoscaling.maxReplica = 3;
    const err = configError(raw, "dev");
    assert.deepEqual(problemPaths(err).sort(), [
      "cluster.endpoint.publicAccessCidrs[0]",
      "models[0].rollout.percent",
      "models[1].runtime",
      "models[2].autoscaling.maxReplica",
    ]);
    assert.match(err.message, /^Invalid stack config for stack "dev" \(4 problems\)/);
    assert.match(err.message, /models\[0\]\.rollout\.percent: .*<=100/);
    assert.match(err.message, /models\[1\]\.runtime: .*"vllm"/);
    assert.match(
      err.message,
      /models\[2\]\.autoscaling\.maxReplica: unknown key \(allowed here: minReplicas, maxReplicas/,
    );
  });

  it("checks cross-field rules once the structure is valid, all together", () => {
    const raw = dev();
    raw.cluster.nodeAutoscaler = "cluster-autoscaler";
    raw.gpuPools[0].minSize = 7;
    raw.gpuPools[0].desiredSize = 9;
    raw.models.push({ ...raw.models[2] });
    const err = configError(raw);
    assert.deepEqual(problemPaths(err).sort(), [
      "gpuPools[0].desiredSize",
      "gpuPools[0].minSize",
      "models[3].name",
    ]);
    assert.match(err.message, /minSize \(7\) exceeds maxSize \(6\)/);
    assert.match(err.message, /duplicate model name "iris" \(also models\[2\]\)/);
  });

  const cases: Array<[string, (raw: Raw) => void, string, RegExp]> = [
    ["unknown top-level key", (r) => (r.clusterr = {}), "clusterr", /unknown key/],
    [
      "unknown instance type in a GPU pool",
      (r) => (r.gpuPools[0].instanceTypes = ["g9.xlarge"]),
      "gpuPools[0].instanceTypes[0]",
      /unknown GPU instance type/,
    ],
    [
      "a non-NVIDIA accelerator family",
      (r) => (r.gpuPools[0].instanceTypes = ["inf2.xlarge"]),
      "gpuPools[0].instanceTypes[0]",
      /Inferentia2 accelerators, not NVIDIA GPUs/,
    ],
    [
      "a CPU family in a GPU pool",
      (r) => (r.gpuPools[0].instanceTypes = ["m6i.xlarge"]),
      "gpuPools[0].instanceTypes[0]",
      /m6i has no GPU/,
    ],
    [
      "a GPU pool without instance types",
      (r) => (r.gpuPools[0].instanceTypes = []),
      "gpuPools[0].instanceTypes",
      /expected array to have >=1 items/,
    ],
    ["min > max", (r) => (r.gpuPools[0].minSize = 9), "gpuPools[0].minSize", /exceeds maxSize/],
    [
      "desired outside [min, max]",
      (r) => (r.gpuPools[0].desiredSize = 7),
      "gpuPools[0].desiredSize",
      /within \[minSize, maxSize\] = \[0, 6\]/,
    ],
    ["an invalid CIDR", (r) => (r.network = { cidr: "10.0.0/16" }), "network.cidr", /IPv4 CIDR/],
    ["an unknown runtime", (r) => (r.models[0].runtime = "ollama"), "models[0].runtime", /expected one of/],
    [
      "a GPU model on a pool that does not exist",
      (r) => (r.models[1].gpu.pool = "h100"),
      "models[1].gpu.pool",
      /no GPU pool "h100" \(pools: l4\)/,
    ],
    ["a name that is not DNS-1123", (r) => (r.models[2].name = "Iris_Model"), "models[2].name", /DNS-1123/],
    [
      "a name too long for derived objects",
      (r) => (r.models[2].name = "a".repeat(40)),
      "models[2].name",
      /at most 39/,
    ],
    [
      "a malformed storage URI",
      (r) => (r.models[2].storageUri = "ftp://x/y"),
      "models[2].storageUri",
      /scheme "ftp" is not allowed/,
    ],
    [
      "a whole-bucket s3 URI",
      (r) => (r.models[1].storageUri = "s3://bucket-a"),
      "models[1].storageUri",
      /names a whole bucket/,
    ],
    [
      "a quantization on a CPU runtime",
      (r) => (r.models[2].engine = { quantization: "awq" }),
      "models[2].engine.quantization",
      /apply to LLM runtimes/,
    ],
    [
      "tensor parallelism larger than the node's GPUs",
      (r) => {
        r.models[0].gpu.count = 4;
        r.models[0].engine.tensorParallelSize = 4;
      },
      "models[0].gpu.count",
      /nodes in pool "l4" have 1/,
    ],
    [
      "a KEDA trigger on a Knative model",
      (r) => (r.models[2].autoscaling.triggers = [{ type: "queueDepth", target: 3 }]),
      "models[2].autoscaling.triggers[0].type",
      /KServe supports only in Standard mode/,
    ],
    [
      "a KPA trigger on a Standard model",
      (r) => (r.models[0].autoscaling.triggers = [{ type: "rps", target: 3 }]),
      "models[0].autoscaling.triggers[0].type",
      /Knative \(KPA\) metric/,
    ],
    [
      "more replicas (of all models and candidates on a pool) than it grows to",
      (r) => (r.models[0].autoscaling.maxReplicas = 9),
      "gpuPools[0].maxSize",
      /pool "l4" must hold llama-31-8b 9×1 GPU, llama-31-8b \(candidate\) 9×1 GPU, resnet50 2×1 GPU at their maxReplicas: 20 GPUs on 20 g6\.xlarge node\(s\) of 1 GPUs, but it grows to 6; raise its maxSize/,
    ],
    [
      "more replicas than a pool without a node autoscaler can hold",
      (r) => {
        r.cluster.nodeAutoscaler = "none";
        r.gpuPools[0].desiredSize = 1;
      },
      "gpuPools[0].desiredSize",
      /6 GPUs on 6 g6\.xlarge node\(s\) of 1 GPUs, but without a node autoscaler \(cluster\.nodeAutoscaler: none\) it stays at 1; enable a node autoscaler or raise its desiredSize/,
    ],
    [
      "scale to zero in Standard mode without the metrics that wake it",
      (r) => {
        r.models[0].autoscaling.minReplicas = 0;
        r.addons = { monitoring: { enabled: false } };
        r.models[0].autoscaling.triggers = [];
      },
      "models[0].autoscaling.minReplicas",
      /wakes the model on requests seen at the ingress gateway/,
    ],
    [
      "autoscaling triggers with no room to scale",
      (r) => {
        r.models[0].autoscaling.minReplicas = 2;
        r.models[0].autoscaling.maxReplicas = 2;
      },
      "models[0].autoscaling.maxReplicas",
      /nothing would scale/,
    ],
    [
      "KServe's batcher on a protocol v2 runtime",
      (r) => (r.models[2].batcher = { maxBatchSize: 8 }),
      "models[2].batcher",
      /batches only protocol v1 :predict requests/,
    ],
    [
      "a misspelt vLLM flag the server would drop",
      (r) => (r.models[0].engine.extraArgs = ["--enable_prefix_caching"]),
      "models[0].engine.extraArgs[0]",
      /not a flag of vLLM 0.24.0 .*did you mean --enable-prefix-caching/,
    ],
    [
      "a TrainedModel from hf://, which KServe's model agent cannot load",
      (r) => {
        r.models[2].storageUri = undefined;
        r.models[2].trainedModels = [{ name: "a", storageUri: "hf://org/model", memory: "256Mi" }];
      },
      "models[2].trainedModels[0].storageUri",
      /s3:\/\/ or gs:\/\/ only/,
    ],
    [
      "CPU requests no node of the pool can hold",
      (r) => (r.models[0].resources = { cpu: "16" }),
      "models[0].resources.cpu",
      /offers pods 3\.9\d: the pod would never schedule/,
    ],
    [
      "an HPA trigger on a GPU model",
      (r) => (r.models[1].autoscaling.triggers = [{ type: "cpu", targetPercent: 70 }]),
      "models[1].autoscaling.triggers[0].type",
      /does not reflect GPU load/,
    ],
    [
      "vLLM queue metrics on Triton",
      (r) => (r.models[1].autoscaling.triggers = [{ type: "queueDepth", target: 3 }]),
      "models[1].autoscaling.triggers[0].type",
      /queueDepth reads vllm's own metrics; triton does not export them/,
    ],
    ["an LLM without a GPU", (r) => delete r.models[0].gpu, "models[0].gpu", /serves LLMs on NVIDIA GPUs/],
    [
      "A/B rollout without a match",
      (r) => (r.models[0].rollout.mode = "ab"),
      "models[0].rollout.match",
      /needs match/,
    ],
    [
      "A/B on a Knative model",
      (r) =>
        (r.models[2].rollout = {
          candidate: { storageUri: "gs://b/m2" },
          mode: "ab",
          match: { header: "x-group", value: "b" },
        }),
      "models[2].rollout.mode",
      /Standard mode only/,
    ],
    [
      "an hf token secret that does not exist",
      (r) => (r.models[0].hfTokenSecret = "hfTok"),
      "models[0].hfTokenSecret",
      /no secret "hfTok"/,
    ],
    [
      "a floating image tag in prod",
      (r) => {
        r.environment = "prod";
        r.models[2].image = "kserve/sklearnserver:latest";
      },
      "models[2].image",
      /floating tag "latest"/,
    ],
  ];
  for (const [what, edit, path, message] of cases) {
    it(`rejects ${what} at ${path}`, () => {
      const raw = dev();
      edit(raw);
      const err = configError(raw);
      const problem = err.problems.find((p) => p.path === path);
      assert.ok(problem, `expected a problem at ${path}, got: ${err.message}`);
      assert.match(problem.message, message);
    });
  }

  it("refuses a world-open API endpoint and an LLM scaled to zero in prod", () => {
    const raw: Raw = stackRaw("prod");
    raw.cluster.endpoint.publicAccessCidrs = ["0.0.0.0/0"];
    raw.models[0].autoscaling.minReplicas = 0;
    const err = configError(raw, "prod");
    assert.deepEqual(problemPaths(err).sort(), [
      "cluster.endpoint.publicAccessCidrs[0]",
      "models[0].autoscaling.minReplicas",
    ]);
  });

  it("refuses a single-replica prod model unless its outage on node loss is accepted", () => {
    const raw: Raw = stackRaw("prod");
    const qwen = raw.models.find((m: { name: string }) => m.name === "qwen25-7b");
    qwen.autoscaling.minReplicas = 1;
    const err = configError(raw, "prod");
    assert.deepEqual(problemPaths(err), [`models[${raw.models.indexOf(qwen)}].autoscaling.minReplicas`]);
    assert.match(err.message, /at least 2 replicas, spread across nodes.*outageOnNodeLoss/);
    qwen.autoscaling.outageOnNodeLoss = "a batch summarizer; an hour of outage is fine";
    validate(raw, "prod");
  });

  it("prod alerts must reach a receiver whose credential the stack holds", () => {
    const raw: Raw = stackRaw("prod");
    delete raw.addons.monitoring.alerts;
    let err = configError(raw, "prod");
    assert.deepEqual(problemPaths(err), ["addons.monitoring.alerts"]);
    assert.match(err.message, /slack, pagerduty or webhook.*null receiver/);
    raw.addons.monitoring.alerts = { receiver: "pagerduty", secret: "oncallKey", channel: "#ops" };
    err = configError(raw, "prod");
    assert.deepEqual(problemPaths(err).sort(), [
      "addons.monitoring.alerts.channel",
      "addons.monitoring.alerts.secret",
    ]);
    assert.match(
      err.message,
      /no secret "oncallKey" under inference-platform:secrets \(have: alertRoutingKey\)/,
    );
  });

  it("refuses a network the subnet layout cannot carve, naming the key and what is allowed", () => {
    const raw: Raw = stackRaw("prod");
    raw.network = {
      cidr: "10.20.0.1/22",
      availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1a"],
    };
    const err = configError(raw, "prod");
    assert.deepEqual(problemPaths(err).sort(), [
      "network.availabilityZones",
      "network.availabilityZones[4]",
      "network.cidr",
      "network.cidr",
    ]);
    assert.match(err.message, /10\.20\.0\.1\/22 has host bits set; the network address is 10\.20\.0\.0\/22/);
    assert.match(err.message, /a \/22 VPC is not allowed: .* needs \/16 to \/20/);
    assert.match(err.message, /us-east-1a is listed twice/);
    assert.match(err.message, /4 zones, at most 3/);
  });

  it("warns (not fails) about a floating image tag outside prod", () => {
    const raw = dev();
    raw.models[2].image = "kserve/sklearnserver:latest";
    const warnings = checkWarnings(validate(raw));
    assert.deepEqual(
      warnings.map((w) => w.path),
      ["models[2].image"],
    );
    assert.match(warnings[0]!.message, /floating tag "latest"/);
    assert.deepEqual(checkWarnings(validate(dev())), []);
  });

  it("accepts the same world-open endpoint in dev", () => {
    const raw = dev();
    raw.cluster.endpoint.publicAccessCidrs = ["0.0.0.0/0"];
    assert.equal(validate(raw).cluster.endpoint.publicAccessCidrs[0], "0.0.0.0/0");
  });

  it("keeps secret values out of the config and refuses secure values outside `secrets`", () => {
    const all = {
      "inference-platform:environment": "dev",
      "inference-platform:secrets": '{"hfToken":"abc"}',
      "inference-platform:models": "[]",
    };
    const ok = readRawConfig(all, (k) => k.endsWith(":secrets") || k.endsWith(":models"));
    assert.deepEqual(ok.raw.secretNames, ["hfToken"]);
    assert.equal(JSON.stringify(ok.raw).includes("abc"), false);
    assert.deepEqual(
      ok.problems.map((p) => p.path),
      ["models"],
    );
    const plain = readRawConfig(all, () => false);
    assert.deepEqual(
      plain.problems.map((p) => p.path),
      ["secrets"],
    );
  });
});
