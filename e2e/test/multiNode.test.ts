/**
 * A model served across nodes, on the real control plane: the prod stack with an EFA pool of
 * p5.48xlarge nodes, and Llama 3.1 405B built by the platform's own planner and builders (config
 * validation refuses it while the pinned KServe cannot serve it: KSERVE_MULTI_NODE_DEFECT).
 *
 * What works, and is asserted: the EFA device plugin lands on the EFA nodes past the GPU taint;
 * KServe's real webhook admits the InferenceService (the EFA interface declared as a resource type it
 * accepts); its controller derives the head and worker Deployments with the degrees, GPUs and EFA the
 * platform asked for; the pod webhook mounts the model's claim into both.
 *
 * What does not, and is asserted as the reason multi-node stays refused: KServe v0.20.0 deletes the
 * worker Deployment it has just created on every reconcile (kserve/kserve#6113), so on a cluster the Ray
 * cluster never forms. When a KServe pin without that defect is tried, this test fails and says so.
 */
import * as assert from "node:assert/strict";
import { clusterWithControllers, deployWithControllers } from "./harness";
import { clusterDown } from "../cluster";
import { LocalControllers } from "../controllers";
import { ApiError, Kube, waitFor, type KubeObject } from "../kube";
import { fakeNodes } from "../nodes";
import { REPO } from "../paths";
import { assertMultiNode, EFA_POOL, multiNodeFixture, provideModelClaims } from "../multiNode";
import { readRawConfig, validatePlatformConfig } from "../../config/load";
import { readStackFile } from "../../tools/stackFile";
import { planStack } from "../../tools/planRunner";
import { EFA_DEVICE_PLUGIN } from "../../models/addons/efaDevicePlugin";
import { LABELS } from "../../models/cluster/nodePools";
import { KSERVE_MULTI_NODE_DEFECT } from "../../models/versions";

const CLUSTER = "e2e-selftest-multinode";

describe("e2e: a model across nodes on the real KServe controller", function () {
  this.timeout(20 * 60_000);
  let controllers: LocalControllers | undefined;
  let kube: Kube;
  const deployErrors: string[] = [];
  const isvc = multiNodeFixture().isvc as unknown as KubeObject;
  const isvcName = isvc.metadata.name;
  const namespace = isvc.metadata.namespace!;

  before(async () => {
    const file = readStackFile(REPO, "prod");
    const pools = JSON.parse(file.config["inference-platform:gpuPools"]!) as unknown[];
    const config = { ...file.config, "inference-platform:gpuPools": JSON.stringify([...pools, EFA_POOL]) };
    const plan = await planStack("prod", { config, secretKeys: file.secretKeys }, { revealSecrets: true });
    const raw = readRawConfig(config, (k) => file.secretKeys.includes(k));
    const cfg = validatePlatformConfig("prod", raw.raw, raw.problems);
    const cluster = await clusterWithControllers(CLUSTER, fakeNodes(cfg));
    ({ kube, controllers } = cluster);
    const report = await deployWithControllers(cluster, plan);
    deployErrors.push(...report.errors);
    // The model's own objects beside the stack: its ServiceAccount, its claim and its InferenceService.
    await kube.apply({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: `${isvcName}-model`, namespace },
    } as KubeObject);
    deployErrors.push(...(await provideModelClaims(kube, [isvc])));
    await kube.apply(isvc);
  });
  after(async () => {
    await controllers?.stop();
    await clusterDown(CLUSTER);
  });

  it("deploys the prod stack with an EFA pool", () => {
    assert.deepEqual(deployErrors, []);
  });

  it("runs the EFA device plugin on every EFA node, past the GPU taint", async () => {
    const efaNodes = (await kube.list("v1", "Node", { labelSelector: `${LABELS.efa}=true` })).map(
      (n) => n.metadata.name,
    );
    assert.equal(efaNodes.length, EFA_POOL.maxSize);
    let placed: string[] = [];
    await waitFor(
      "an EFA device plugin pod on each EFA node",
      async () => {
        placed = (
          await kube.list("v1", "Pod", {
            namespace: "kube-system",
            labelSelector: `name=${EFA_DEVICE_PLUGIN}`,
          })
        )
          .map((p) => (p.spec as { nodeName?: string }).nodeName ?? "")
          .filter(Boolean);
        return placed.length === efaNodes.length && efaNodes.every((n) => placed.includes(n))
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, describe: async () => `on ${JSON.stringify(placed)}` },
    );
  });

  it("gets the InferenceService admitted and the head and worker derived as the platform asked", async () => {
    const report = await assertMultiNode(kube, [isvc]);
    assert.ok(report.checked >= 10, `only ${report.checked} checks ran`);
    assert.deepEqual(report.errors, []);
  });

  it("shows why multi-node stays refused: KServe v0.20.0 deletes the worker Deployment it creates (kserve#6113)", async () => {
    assert.ok(KSERVE_MULTI_NODE_DEFECT, "the gate is lifted: this test documents the defect and should go");
    // Watch the worker Deployment for 30 s: with the defect it is deleted and re-created again and again.
    const seen = new Set<string>();
    let missing = 0;
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const worker = await kube
        .get("apps/v1", "Deployment", `${isvcName}-predictor-worker`, namespace)
        .catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return undefined;
          throw err;
        });
      const uid = worker?.metadata.uid;
      if (typeof uid === "string") seen.add(uid);
      else missing++;
      await new Promise<void>((r) => setTimeout(r, 250));
    }
    // Not asserted: the InferenceService's Ready. kwok marks pods Ready without running their probes, so
    // the head looks Ready here; on a cluster its readiness probe (the runtime's health_check.py
    // registered_nodes) waits for Ray workers that never stay.
    assert.ok(seen.size > 0, "KServe never created the worker Deployment: the defect cannot be told apart");
    assert.ok(
      seen.size > 1 || missing > 0,
      `the worker Deployment stayed for 30 s (one uid, never missing): the pinned KServe no longer has kserve#6113 — lift KSERVE_MULTI_NODE_DEFECT (models/versions.ts)`,
    );
  });
});
