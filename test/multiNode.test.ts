/**
 * Models larger than one node: the planner's tensor × pipeline layouts and their memory, what config
 * refuses, the InferenceService KServe's multi-node runtime needs, and EFA on the pool's nodes.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { gpuPoolSchema, type GpuPoolConfig } from "../config/schema";
import { modelSchema, type ModelInput } from "../models/schema";
import { ARCHITECTURES } from "../models/capacity/architectures";
import { kvBytesPerToken, pipelineStages, stageWeightBytes, weightBytes } from "../models/capacity/memory";
import { planModel, autoPlacements } from "../models/capacity/planner";
import { planStackCapacity } from "../models/capacity/stack";
import { clusterAutoscalerTags, gpuNodeLabels, LABELS, poolSubnets } from "../models/cluster/nodePools";
import { efaDevicePluginObjects } from "../models/addons/efaDevicePlugin";
import { configError, stackRaw, validate } from "./helpers";
import {
  EFA_POOL,
  MULTI_NODE_LLMD_MODEL,
  multiNodeFixture,
  multiNodeLlmdStackConfig,
} from "../e2e/multiNode";
import { PIPELINE_PARALLEL_PRESET } from "../models/serving/llmdPipelineParallel";
import { PIPELINE_PATH } from "../components/modelDeployment";
import { validateCustomResource } from "../conformance/crdSchema";
import { readStackFile } from "../tools/stackFile";
import { planStack, policyInputs, ROOT, type Plan } from "../tools/planRunner";
import { runPolicies, stackPolicyConfig } from "../policy/offline";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const pool = (name: string, instanceType: string, extra: Record<string, unknown> = {}): GpuPoolConfig =>
  gpuPoolSchema.parse({ name, instanceTypes: [instanceType], maxSize: 4, ...extra });
const llm = (fields: Record<string, unknown>): ModelInput =>
  modelSchema.parse({
    name: "big",
    runtime: "vllm",
    storageUri: "pvc://weights/llama-405b",
    architecture: "llama-3.1-405b",
    engine: { maxModelLen: 8192 },
    ...fields,
  });

describe("multi-node models", function () {
  this.timeout(60_000);

  it("splits the layers as vLLM's get_pp_indices does: the largest stage bounds weights and KV", () => {
    const a = ARCHITECTURES["llama-3.1-405b"];
    const bf16 = { kvCacheDtype: "auto" as const };
    assert.equal(stageWeightBytes(a, bf16, 1), weightBytes(a, bf16));
    // 126 layers over 2 stages: 63 each, plus one 128256 × 16384 embedding-sized matrix per stage.
    const matrix = 128256 * 16384 * 2;
    const layers = weightBytes(a, bf16) - 2 * matrix;
    assert.equal(stageWeightBytes(a, bf16, 2), layers / 2 + matrix);
    // The remainder goes to the stages before the last: 126 over 4 is 31, 32, 32, 31, and the fullest
    // stage is a middle one without a matrix (32 layers outweigh 31 and the embedding).
    assert.deepEqual(pipelineStages(126, 4), [31, 32, 32, 31]);
    assert.deepEqual(pipelineStages(11, 4), [3, 3, 3, 2]);
    assert.equal(stageWeightBytes(a, bf16, 4), (layers * 32) / 126);
    assert.equal(kvBytesPerToken(a, bf16, { tensor: 8, pipeline: 2 }), kvBytesPerToken(a, bf16, 8) / 2);
  });

  it("spans whole nodes only when no single node holds the model, tensor parallel within and pipeline across", () => {
    const p5 = pool("h100", "p5.48xlarge", { efa: true });
    const plan = planModel({ model: llm({ gpu: { pool: "h100" } }), at: "models[0]", pools: [p5] });
    assert.deepEqual(plan.problems, []);
    assert.equal(plan.plan?.gpusPerReplica, 8);
    assert.equal(plan.plan?.nodesPerReplica, 2);
    assert.match(plan.plan!.llm!.notes.join("\n"), /tensor parallel 8 within each and pipeline parallel 2/);
    // Two p5.48xlarge per replica: the share is both nodes' GPUs.
    assert.equal(plan.plan?.gpuShareHour, 55.04 * 2);
    // A 70B model fits one node: never split.
    const small = planModel({
      model: llm({ architecture: "llama-3.1-70b", storageUri: "s3://b/m", gpu: { pool: "h100" } }),
      at: "models[0]",
      pools: [p5],
    });
    assert.equal(small.plan?.nodesPerReplica, undefined);
  });

  it("places on a pool whose one node holds the model before spanning nodes of another (gpu: auto)", () => {
    const pools = [pool("h100", "p5.48xlarge", { efa: true }), pool("h200", "p5en.48xlarge")];
    const found = autoPlacements({ model: llm({ gpu: "auto" }), at: "models[0]", pools });
    // 8× H200 holds 405B in BF16 on one node ($63.30/h) — cheaper than two p5.48xlarge ($110.08/h).
    assert.deepEqual(found.choices[0], { pool: "h200", count: 8 });
  });

  it("does not span nodes of a pool without EFA, unless config asks (gpu.nodes)", () => {
    const l40s = pool("l40s", "g6e.12xlarge");
    const refused = planModel({ model: llm({ gpu: { pool: "l40s" } }), at: "models[0]", pools: [l40s] });
    assert.match(refused.problems[0]!.message, /does not fit pool "l40s"/);
    const p5 = planModel({
      model: llm({ gpu: { pool: "h100" } }),
      at: "models[0]",
      pools: [pool("h100", "p5.48xlarge")],
    });
    assert.match(p5.problems[0]!.message, /does not fit pool "h100"/);
    const asked = planModel({
      model: llm({ gpu: { pool: "l40s", nodes: 4 }, engine: { maxModelLen: 8192, quantization: "fp8" } }),
      at: "models[0]",
      pools: [l40s],
    });
    assert.deepEqual(asked.problems, []);
    assert.equal(asked.plan?.nodesPerReplica, 4);
  });

  it("shortens the derived context on one node before spanning nodes (gpu: auto)", () => {
    // 64 sequences of 70B in BF16 on 8× A100-40GB: 8192 tokens each only over two nodes, 4096 on one.
    const model = llm({
      architecture: "llama-3.1-70b",
      storageUri: "s3://b/m",
      engine: {},
      minConcurrency: 64,
      gpu: "auto",
    });
    const pools = [pool("a100", "p4d.24xlarge", { efa: true })];
    const found = autoPlacements({ model, at: "models[0]", pools });
    assert.deepEqual(found.choices[0], { pool: "a100", count: 8 });
    const plan = planModel({ model, at: "models[0]", pools, placement: found.choices[0] });
    assert.ok(plan.plan!.llm!.engine.maxModelLen < 8192, `derived ${plan.plan!.llm!.engine.maxModelLen}`);
  });

  it("bills a multi-node replica as that many whole nodes of its pool", () => {
    const planned = planStackCapacity({
      cluster: { mode: "eks", nodeAutoscaler: "cluster-autoscaler" },
      gpuPools: [pool("h100", "p5.48xlarge", { efa: true })],
      models: [llm({ gpu: { pool: "h100" }, autoscaling: { minReplicas: 1, maxReplicas: 2 } })],
    } as never);
    const load = planned.capacity.pools[0]!;
    assert.deepEqual([load.atMin.nodes, load.atMax.nodes], [2, 4]);
    assert.equal(load.atMin.dollarsPerHour, 2 * 55.04);
  });

  it("builds KServe's multi-node InferenceService: workerSpec degrees, runtime, no autoscaler, the pods' GPUs and EFA", () => {
    const { model, isvc } = multiNodeFixture();
    const o = isvc as Any;
    assert.deepEqual([model.resolvedGpu?.count, model.resolvedGpu?.nodes], [8, 2]);
    assert.equal(o.metadata.annotations["serving.kserve.io/autoscalerClass"], "none");
    // KServe's webhook takes any extended resource for a GPU type unless declared (utils.go 355-392).
    assert.equal(o.metadata.annotations["serving.kserve.io/gpu-resource-types"], '["vpc.amazonaws.com/efa"]');
    const p = o.spec.predictor;
    assert.equal(p.model.runtime, "kserve-huggingfaceserver-multinode");
    assert.equal(p.workerSpec.tensorParallelSize, 8);
    assert.equal(p.workerSpec.pipelineParallelSize, 2);
    assert.deepEqual([p.minReplicas, p.maxReplicas], [1, 1]);
    // The runtime's command passes the degrees; its exec probes stay (only the startup budget is set).
    assert.ok(!p.model.args.some((a: string) => a.startsWith("--tensor-parallel-size")));
    assert.equal(p.model.readinessProbe, undefined);
    assert.equal(p.model.startupProbe.httpGet, undefined);
    const worker = p.workerSpec.containers[0];
    assert.equal(worker.name, "worker-container");
    assert.equal(worker.image, p.model.image, "the same Ray and vLLM on every node");
    for (const c of [p.model, worker]) {
      assert.equal(c.resources.limits["nvidia.com/gpu"], "8");
      assert.equal(c.resources.limits["vpc.amazonaws.com/efa"], "1");
      assert.deepEqual(c.volumeMounts, [{ name: "shm", mountPath: "/dev/shm" }]);
      assert.deepEqual(c.env, [{ name: "FI_PROVIDER", value: "efa" }]);
    }
    // Nothing of the head's pod spec reaches the workers: their placement is repeated.
    assert.deepEqual(p.workerSpec.nodeSelector, { [LABELS.pool]: "h100-efa" });
    assert.equal(p.workerSpec.tolerations[0].key, "nvidia.com/gpu");
    assert.equal(p.workerSpec.serviceAccountName, p.serviceAccountName);
  });

  it("puts EFA pools in one subnet, labels their nodes and runs the EFA device plugin there", () => {
    const efa = pool("h100", "p5.48xlarge", { efa: true, placementGroup: true });
    assert.deepEqual(poolSubnets(efa, ["a", "b", "c"]), ["a"]);
    assert.deepEqual(poolSubnets(pool("l4", "g6.xlarge"), ["a", "b"]), ["a", "b"]);
    assert.equal(gpuNodeLabels(efa)[LABELS.efa], "true");
    assert.equal(
      clusterAutoscalerTags(efa, "c")[
        "k8s.io/cluster-autoscaler/node-template/resources/vpc.amazonaws.com/efa"
      ],
      "1",
    );
    const [ds] = efaDevicePluginObjects({ clusterMode: "eks", gpuPools: [efa] }) as Any[];
    assert.equal(ds.spec.template.spec.nodeSelector[LABELS.efa], "true");
    assert.ok(ds.spec.template.spec.tolerations.some((t: Any) => t.key === "nvidia.com/gpu"));
    assert.deepEqual(efaDevicePluginObjects({ clusterMode: "eks", gpuPools: [pool("l4", "g6.xlarge")] }), []);
  });

  it("refuses a model over several nodes outside llm-d (kserve#6113), with one-node fixes, and what a LeaderWorkerSet cannot take", () => {
    const raw = stackRaw("prod") as Any;
    raw.gpuPools.push({
      name: "h100-efa",
      instanceTypes: ["p5.48xlarge"],
      maxSize: 2,
      efa: true,
      placementGroup: true,
      releaseVersion: "1.34.4-20260714",
    });
    raw.models.push({
      name: "llama-31-405b",
      runtime: "vllm",
      storageUri: "s3://example-models-prod/llama-3.1-405b-instruct",
      architecture: "llama-3.1-405b",
      gpu: { pool: "h100-efa" },
      engine: { maxModelLen: 16384, extraArgs: ["--nnodes=3"] },
      autoscaling: { minReplicas: 1, maxReplicas: 2 },
      adapters: [{ name: "sql", storageUri: "s3://example-models-prod/sql", rank: 16 }],
    });
    const err = configError(raw, "prod");
    const byPath = Object.fromEntries(err.problems.map((p) => [p.path, p.message]));
    assert.match(
      byPath["models[2].gpu"]!,
      /needs a replica over 2 nodes \(tensor parallel 8 × pipeline parallel 2\): serve it through llm-d with `llmd: \{\}`.*kserve\/kserve#6113.*cheapest fixes: gpu: \{pool: h100-efa, count: 8\} \+ engine\.quantization: fp8/,
    );
    // What serving it across nodes requires, said at the same time.
    assert.match(byPath["models[2].storageUri"]!, /pvc:\/\/<claim>\/<path> .* or an oci:\/\/ modelcar/);
    assert.match(
      byPath["models[2].autoscaling"]!,
      /fixed number of replicas \(LeaderWorkerSet groups of 2 pods\)/,
    );
    assert.match(byPath["models[2].adapters"]!, /does not take LoRA adapters/);
    assert.match(byPath["models[2].engine.extraArgs"]!, /pipeline-parallel preset already passes --nnodes=3/);
    // Through llm-d, with its storage on a shared claim and a fixed replica count: accepted.
    raw.models[2] = structuredClone(MULTI_NODE_LLMD_MODEL);
    assert.doesNotThrow(() => validate(raw, "prod"));
    raw.models[2].llmd = { prefill: { replicas: 2 } };
    assert.match(
      configError(raw, "prod").message,
      /models\[2\]\.llmd\.prefill: a replica over 2 nodes is not split/,
    );
    raw.models[2].llmd = {};
    // A pool without EFA is spanned only when config asks; prod then wants EFA in a placement group.
    raw.gpuPools[2].efa = false;
    raw.models[2].gpu = { pool: "h100-efa", nodes: 2 };
    assert.match(
      configError(raw, "prod").message,
      /gpuPools\[2\]: prod serves llama-31-405b over 2 nodes .*needs efa: true and placementGroup: true/,
    );
    const triton = stackRaw("prod") as Any;
    triton.models[1].runtime = "triton";
    triton.models[1].gpu = { pool: "l4", nodes: 2 };
    assert.match(configError(triton, "prod").message, /models\[1\]\.gpu\.nodes: only vLLM models span nodes/);
  });
});

describe("multi-node models through llm-d (LeaderWorkerSet)", function () {
  this.timeout(120_000);
  let plan: Plan;
  // The prod budget is 16 GPUs more with the two p5 nodes.
  const policyConfig = () => {
    const config = { ...(stackPolicyConfig("prod") as Any) };
    config["max-gpus-per-stack"] = { ...config["max-gpus-per-stack"], maxGpusPerStack: 64 };
    return config;
  };
  before(async () => {
    const file = readStackFile(ROOT, "prod");
    plan = await planStack("prod", { config: multiNodeLlmdStackConfig(file), secretKeys: file.secretKeys });
  });

  it("plans a LeaderWorkerSet model: worker template, the preset it merges, LeaderWorkerSet before the controller; CRDs, charts and policies pass", async () => {
    assert.deepEqual(plan.conformance.errors, []);
    const byType = (type: string) =>
      plan.resources.filter((r) => r.type === type).map((r) => r.inputs as Any);
    const svc = byType("kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService").find(
      (s) => s.metadata.name === MULTI_NODE_LLMD_MODEL.name,
    )!;
    assert.deepEqual(svc.spec.parallelism, { tensor: 8, pipeline: 2 });
    // KServe refuses a change of the group size: a new span replaces the object explicitly.
    const resource = plan.resources.find(
      (r) => r.type.endsWith(":LLMInferenceService") && (r.inputs as Any).metadata.name === svc.metadata.name,
    )!;
    assert.deepEqual(resource.replaceOnChanges, [PIPELINE_PATH]);
    assert.equal(resource.deleteBeforeReplace, true);
    assert.equal(svc.spec.replicas, 1);
    for (const template of [svc.spec.template, svc.spec.worker]) {
      const main = template.containers[0];
      assert.equal(main.name, "main");
      assert.equal(main.resources.limits["nvidia.com/gpu"], "8");
      assert.equal(main.resources.limits["vpc.amazonaws.com/efa"], "1");
      assert.equal(template.nodeSelector[LABELS.pool], EFA_POOL.name);
    }
    // Only the serving port through the sidecar: the stages reach each other by pod IP.
    assert.equal(svc.spec.annotations["traffic.sidecar.istio.io/includeInboundPorts"], "8000");
    const [preset] = byType("kubernetes:serving.kserve.io/v1alpha2:LLMInferenceServiceConfig");
    assert.equal(preset.metadata.name, PIPELINE_PARALLEL_PRESET);
    assert.deepEqual(validateCustomResource(preset as never), []);
    const releases = plan.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    const lws = releases.find((r) => String((r.inputs as Any).chart).endsWith("/lws"))!;
    assert.equal((lws.inputs as Any).chart, "oci://registry.k8s.io/lws/charts/lws");
    assert.equal((lws.inputs as Any).version, "0.8.0");
    const llmisvc = releases.find((r) =>
      String((r.inputs as Any).chart).endsWith("/kserve-llmisvc-resources"),
    )!;
    assert.ok(
      llmisvc.dependsOn.includes(lws.urn),
      "the llmisvc controller starts after LeaderWorkerSet's CRD",
    );
    const budget = byType("kubernetes:policy/v1:PodDisruptionBudget").find(
      (b) => b.metadata.name === "llama-31-405b-kserve-mn",
    )!;
    assert.deepEqual(budget.spec.selector.matchLabels, {
      "leaderworkerset.sigs.k8s.io/name": "llama-31-405b-kserve-mn",
    });
    assert.deepEqual(await runPolicies(policyInputs(plan.resources), policyConfig()), []);
  });

  it("policies: a spanning LLMInferenceService needs LeaderWorkerSet, the preset and EFA in prod; its worker GPUs count", async () => {
    const config = policyConfig();
    const without = plan.resources.filter(
      (r) =>
        !String((r.inputs as Any).chart ?? "").endsWith("/lws") &&
        r.type !== "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceServiceConfig",
    );
    const addons = await runPolicies(policyInputs(without), config);
    assert.ok(
      addons.some(
        (v) =>
          v.policy === "llm-d-needs-its-addons" &&
          /the lws release .*; the kserve-config-llm-worker-pipeline-parallel preset/.test(v.message),
      ),
      JSON.stringify(addons),
    );
    const noEfa = plan.resources.map((r) =>
      r.type === "aws:eks/nodeGroup:NodeGroup" && (r.inputs as Any).labels?.[LABELS.efa] === "true"
        ? {
            ...r,
            inputs: { ...(r.inputs as Any), labels: { ...(r.inputs as Any).labels, [LABELS.efa]: "false" } },
          }
        : r,
    );
    const efa = await runPolicies(policyInputs(noEfa), config);
    assert.ok(
      efa.some((v) => v.policy === "multi-node-on-efa-in-prod"),
      JSON.stringify(efa),
    );
    // The GPU-fit rule reads the layout: one node's 8 GPUs do not hold 405B in BF16; two do (no violation above).
    const oneNode = plan.resources.map((r) =>
      r.type.endsWith(":LLMInferenceService") &&
      (r.inputs as Any).metadata.name === MULTI_NODE_LLMD_MODEL.name
        ? {
            ...r,
            inputs: {
              ...(r.inputs as Any),
              spec: { ...(r.inputs as Any).spec, parallelism: { tensor: 8 }, worker: undefined },
            },
          }
        : r,
    );
    const fit = await runPolicies(policyInputs(oneNode), config);
    assert.ok(
      fit.some(
        (v) =>
          v.policy === "model-fits-gpu" &&
          /llama-31-405b: llama-3\.1-405b on 8× H100.*too small for the model/.test(v.message),
      ),
      JSON.stringify(fit),
    );
    config["max-gpus-per-model"] = { ...config["max-gpus-per-model"], maxGpusPerModel: 8 };
    const gpus = await runPolicies(policyInputs(plan.resources), config);
    assert.ok(
      gpus.some((v) => v.policy === "max-gpus-per-model" && /16 GPUs \(decode 8, worker 8\)/.test(v.message)),
      JSON.stringify(gpus),
    );
  });
});

describe("the README's LLM-fleet example", () => {
  it("is a valid prod config: LoRA, llm-d with prefill split off, and a 405B model over two EFA nodes", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const block = readme
      .split("The three together, as stack config")[1]!
      .split("```yaml")[1]!
      .split("```")[0]!;
    const models = parse(block.replace(/^ {2}/gm, ""))["inference-platform:models"] as Any[];
    const raw = stackRaw("prod") as Any;
    raw.gpuPools.push({ ...EFA_POOL, maxSize: 2 });
    raw.models.push(...models);
    const cfg = validate(raw, "prod");
    const spanning = cfg.models.find((m) => m.name === "llama-31-405b")!;
    assert.deepEqual(spanning.gpu, { pool: EFA_POOL.name, count: 8, nodes: 2 });
  });
});
