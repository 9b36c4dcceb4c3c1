/**
 * A model over several nodes through llm-d, on the real control plane: the prod stack with an EFA pool
 * of p5.48xlarge nodes and Llama 3.1 405B (e2e/multiNode.ts MULTI_NODE_LLMD_MODEL) as an
 * LLMInferenceService with a worker template, deployed with KServe's real llmisvc controller and
 * webhooks, LeaderWorkerSet's real controller and webhooks (sigs.k8s.io/lws v0.8.0 cmd), and the
 * platform's pipeline-parallel preset.
 *
 * Asserted: the preset is admitted by KServe's config webhook and merged by the controller; the
 * controller creates the LeaderWorkerSet with one leader and one worker per replica; LeaderWorkerSet's
 * controller creates the leader and worker StatefulSets and its pod webhook gives each pod its rank and
 * the leader's address; each pod lands on its own node of the EFA pool with the node's GPUs, an EFA
 * interface and the model's claim; the command the pods run, evaluated by bash with those values,
 * starts `vllm serve` with the layout (tensor 8 × pipeline 2 over 2 nodes, this node's rank, the
 * leader's address) — vLLM itself is not run (no GPUs here): a stand-in on PATH prints its argv. Then
 * LeaderWorkerSet reports the group Available, KServe the worker workload ready, and the model Ready
 * behind istiod (a development build, as in e2e/test/llmd.test.ts) once the NLB has an address.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clusterWithControllers, deployWithControllers } from "./harness";
import { clusterDown } from "../cluster";
import { LocalControllers } from "../controllers";
import { Kube, waitFor, type KubeObject } from "../kube";
import { fakeNodes } from "../nodes";
import { REPO } from "../paths";
import { EFA_POOL, MULTI_NODE_LLMD_MODEL, multiNodeLlmdStackConfig, provideStaticClaim } from "../multiNode";
import { readRawConfig, validatePlatformConfig } from "../../config/load";
import { readStackFile } from "../../tools/stackFile";
import { planStack } from "../../tools/planRunner";
import { LABELS } from "../../models/cluster/nodePools";
import { INGRESS_GATEWAY_SERVICE } from "../../models/addons/istio";
import { EFA_RESOURCE } from "../../models/serving/multiNode";
import { LWS_NAME_LABEL } from "../../models/serving/llmInferenceService";
import { PIPELINE_PARALLEL_PRESET } from "../../models/serving/llmdPipelineParallel";
import { llmdLeaderWorkerSetName } from "../../models/names";
import { LWS_NAMESPACE } from "../../models/addons/lws";
import { assertHighlyAvailable } from "../availability";

const CLUSTER = "e2e-selftest-multinode-llmd";
const { name, namespace } = MULTI_NODE_LLMD_MODEL;
const LWS = llmdLeaderWorkerSetName(name);
const CLAIM = MULTI_NODE_LLMD_MODEL.storageUri.slice("pvc://".length).split("/")[0]!;

type Condition = { type: string; status: string; reason?: string; message?: string };
type Container = {
  name: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  resources?: { limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
};
type PodSpec = {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  containers: Container[];
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
};

const envOf = (c: Container, key: string) => c.env?.find((e) => e.name === key)?.value;

/**
 * Runs a pod's main container command with bash as the kubelet would, its env as set on the admitted
 * pod, and stand-ins on PATH for `getent` (the leader's address resolves to 10.0.0.7) and `vllm`
 * (prints its argv, one per line): what the preset makes of the values KServe and LeaderWorkerSet gave.
 */
function vllmArgvOf(main: Container): string[] {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-vllm-argv-"));
  try {
    fs.writeFileSync(path.join(bin, "getent"), '#!/bin/sh\necho "10.0.0.7 $2"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "vllm"), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', {
      mode: 0o755,
    });
    const env = Object.fromEntries(
      (main.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])),
    );
    const [shell, ...rest] = main.command ?? [];
    const run = spawnSync(shell!, [...rest, ...(main.args ?? [])], {
      encoding: "utf8",
      env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
    });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("node rank "));
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

describe("e2e: a model over two nodes through llm-d (LeaderWorkerSet) on the real controllers", function () {
  this.timeout(20 * 60_000);
  let controllers: LocalControllers | undefined;
  let kube: Kube;
  const deployErrors: string[] = [];
  const llmisvc = async () =>
    (await kube.get("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace)) as
      | (KubeObject & { status?: { conditions?: Condition[]; appliedConfigs?: Array<{ name: string }> } })
      | undefined;
  const condition = async (type: string) =>
    (await llmisvc())?.status?.conditions?.find((c) => c.type === type);
  const describe = async () => {
    const svc = await llmisvc();
    return svc ? JSON.stringify(svc.status ?? "no status yet") : "no LLMInferenceService";
  };

  before(async () => {
    const file = readStackFile(REPO, "prod");
    const config = multiNodeLlmdStackConfig(file);
    const plan = await planStack("prod", { config, secretKeys: file.secretKeys }, { revealSecrets: true });
    const raw = readRawConfig(config, (k) => file.secretKeys.includes(k));
    const cfg = validatePlatformConfig("prod", raw.raw, raw.problems);
    const cluster = await clusterWithControllers(CLUSTER, fakeNodes(cfg));
    ({ kube, controllers } = cluster);
    const report = await deployWithControllers(cluster, plan);
    deployErrors.push(...report.errors);
    await provideStaticClaim(kube, namespace, CLAIM);
  });
  after(async () => {
    await controllers?.stop();
    await clusterDown(CLUSTER);
  });

  it("deploys the stack: LeaderWorkerSet's controller before KServe's, the preset admitted by KServe's webhook", async () => {
    assert.deepEqual(deployErrors, []);
    assert.ok(
      await kube.get(
        "serving.kserve.io/v1alpha2",
        "LLMInferenceServiceConfig",
        PIPELINE_PARALLEL_PRESET,
        "kserve",
      ),
      "the pipeline-parallel preset",
    );
    // Its pod webhook fails closed on every pod of a group: in prod two replicas on two nodes, at the
    // platform's priority, one at a time under a budget.
    const ha = await assertHighlyAvailable(kube, new Set([LWS_NAMESPACE]));
    assert.equal(ha.checked, 1);
    assert.deepEqual(ha.errors, []);
  });

  it("merges the platform's preset into a LeaderWorkerSet of one leader and one worker", async () => {
    const lws = await waitFor(
      `LeaderWorkerSet ${namespace}/${LWS}`,
      () => kube.get("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet", LWS, namespace),
      { timeoutMs: 120_000, intervalMs: 1000, describe },
    );
    // Recorded in the status at the end of the reconcile that created the set.
    await waitFor(
      "the preset among the LLMInferenceService's applied configs",
      async () =>
        ((await llmisvc())?.status?.appliedConfigs ?? []).some((c) => c.name === PIPELINE_PARALLEL_PRESET)
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 1000, describe },
    );
    const spec = lws.spec as {
      replicas: number;
      leaderWorkerTemplate: {
        size: number;
        leaderTemplate: { spec: PodSpec };
        workerTemplate: { spec: PodSpec };
      };
    };
    assert.equal(spec.replicas, 1);
    assert.equal(spec.leaderWorkerTemplate.size, 2, "one pod per pipeline stage");
    const command = (s: PodSpec) => (s.containers.find((c) => c.name === "main")?.command ?? []).join(" ");
    // Rendered by the controller from the LLMInferenceService's parallelism (config_merge.go 605-722).
    for (const s of [
      spec.leaderWorkerTemplate.leaderTemplate.spec,
      spec.leaderWorkerTemplate.workerTemplate.spec,
    ]) {
      assert.match(command(s), /--tensor-parallel-size 8 \\\n\s+--pipeline-parallel-size 2 \\\n/);
      assert.match(command(s), /--nnodes 2 \\\n/);
    }
    assert.doesNotMatch(command(spec.leaderWorkerTemplate.leaderTemplate.spec), /--headless/);
    assert.match(command(spec.leaderWorkerTemplate.workerTemplate.spec), /--headless/);
  });

  it("gets each pod its rank from LeaderWorkerSet's webhook, its own EFA node, the GPUs and the claim, and a vllm command with the layout", async () => {
    const pods = await waitFor(
      "the leader and the worker pod, scheduled",
      async () => {
        const found = await kube.list("v1", "Pod", { namespace, labelSelector: `${LWS_NAME_LABEL}=${LWS}` });
        return found.length === 2 && found.every((p) => (p.spec as PodSpec).nodeName) ? found : undefined;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 1000,
        describe: async () =>
          JSON.stringify(
            (await kube.list("v1", "Pod", { namespace, labelSelector: `${LWS_NAME_LABEL}=${LWS}` })).map(
              (p) => ({
                name: p.metadata.name,
                node: (p.spec as PodSpec).nodeName,
                status: p.status,
              }),
            ),
          ),
      },
    );
    // LeaderWorkerSet's names: the leader `<lws>-<group>`, its workers `<lws>-<group>-<index>`.
    const byName = Object.fromEntries(pods.map((p) => [p.metadata.name, p]));
    const leader = byName[`${LWS}-0`];
    const worker = byName[`${LWS}-0-1`];
    assert.ok(leader && worker, Object.keys(byName).join(", "));
    const poolNodes = (
      await kube.list("v1", "Node", { labelSelector: `${LABELS.pool}=${EFA_POOL.name}` })
    ).map((n) => n.metadata.name);
    const nodes = new Set<string>();
    for (const [pod, rank] of [
      [leader, "0"],
      [worker, "1"],
    ] as const) {
      const spec = pod.spec as PodSpec;
      const main = spec.containers.find((c) => c.name === "main")!;
      const where = `pod ${pod.metadata.name}`;
      assert.ok(poolNodes.includes(spec.nodeName!), `${where} on ${spec.nodeName}`);
      nodes.add(spec.nodeName!);
      assert.equal(main.resources?.limits?.["nvidia.com/gpu"], "8", where);
      assert.equal(main.resources?.limits?.[EFA_RESOURCE], "1", where);
      assert.equal(envOf(main, "FI_PROVIDER"), "efa", where);
      // KServe attaches the model's claim to `main` on both (workload_multi_node.go 213, 241).
      assert.ok(
        (spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === CLAIM),
        `${where} volumes ${JSON.stringify(spec.volumes?.map((v) => v.name))}`,
      );
      assert.ok(
        (main.volumeMounts ?? []).some((m) => m.mountPath === "/mnt/models"),
        where,
      );
      // Injected by LeaderWorkerSet's pod webhook (pod_utils.go 132-179): no webhook, no group.
      assert.equal(envOf(main, "LWS_WORKER_INDEX"), rank, where);
      assert.equal(envOf(main, "LWS_GROUP_SIZE"), "2", where);
      assert.equal(envOf(main, "LWS_LEADER_ADDRESS"), `${LWS}-0.${LWS}.${namespace}`, where);
      const argv = vllmArgvOf(main);
      const flag = (f: string) => argv[argv.indexOf(f) + 1];
      assert.deepEqual(argv.slice(0, 2), ["serve", "/mnt/models"], where);
      assert.equal(flag("--served-model-name"), name, where);
      assert.equal(flag("--tensor-parallel-size"), "8", where);
      assert.equal(flag("--pipeline-parallel-size"), "2", where);
      assert.equal(flag("--nnodes"), "2", where);
      assert.equal(flag("--node-rank"), rank, where);
      assert.equal(flag("--master-addr"), "10.0.0.7", where);
      assert.equal(flag("--distributed-executor-backend"), "mp", where);
      assert.equal(argv.includes("--headless"), rank !== "0", where);
      assert.ok(
        argv.includes("--max-model-len=16384"),
        `${where}: the platform's engine flags ${argv.join(" ")}`,
      );
    }
    assert.equal(nodes.size, 2, "each stage on its own node");
  });

  it("is Ready: the group Available, the worker workload ready, the Gateway programmed once the NLB has an address", async () => {
    await waitFor(
      "LeaderWorkerSet Available",
      async () => {
        const lws = await kube.get("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet", LWS, namespace);
        const conditions = (lws?.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
        return conditions.some((c) => c.type === "Available" && c.status === "True") ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, describe },
    );
    await waitFor(
      "KServe's WorkerWorkloadReady",
      async () => ((await condition("WorkerWorkloadReady"))?.status === "True" ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 1000, describe },
    );
    // As on any llm-d model (e2e/test/llmd.test.ts): the NLB's hostname, as AWS's controller writes it.
    const [service, serviceNamespace] = INGRESS_GATEWAY_SERVICE.split(".");
    await kube.mergePatch(
      "v1",
      "Service",
      service!,
      serviceNamespace!,
      {
        status: {
          loadBalancer: {
            ingress: [{ hostname: "internal-k8s-istiosys-example.elb.us-east-1.amazonaws.com" }],
          },
        },
      },
      "status",
    );
    await waitFor(
      "the LLMInferenceService Ready",
      async () => ((await condition("Ready"))?.status === "True" ? true : undefined),
      { timeoutMs: 180_000, intervalMs: 2000, describe },
    );
  });
});
