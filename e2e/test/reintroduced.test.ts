/**
 * Defects the serving-correctness work fixed, put back into a planned dev stack one by one, must each
 * be caught by the e2e's real controllers (KServe's pod mutator and merge of runtime and model args,
 * Knative's admission webhook), naming the object and what went wrong.
 */
import * as assert from "node:assert/strict";
import { clusterWithControllers, deployWithControllers } from "./harness";
import { assertReconciled } from "../assertions";
import { assertAccess } from "../access";
import { assertWeightCache } from "../weightCache";
import { clusterDown } from "../cluster";
import { LocalControllers } from "../controllers";
import { fakeNodes } from "../nodes";
import { stackConfig } from "../stack";
import { planStack, type Plan } from "../../tools/planRunner";
import type { RecordedResource } from "../../tools/mockRuntime";

const CLUSTER = "e2e-selftest-dev";

describe("e2e: defects reintroduced into the dev plan are caught by the real controllers", function () {
  this.timeout(20 * 60_000);
  let errors: string[] = [];
  let controllers: LocalControllers | undefined;

  before(async () => {
    const plan = await planStack("dev", undefined, { revealSecrets: true });
    const resources = structuredClone(plan.resources);
    const find = (pred: (r: RecordedResource) => boolean) => {
      const r = resources.find(pred);
      assert.ok(r, "the fixture matched no planned resource");
      return r.inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const isvc = (name: string) =>
      find(
        (r) => r.type.endsWith(":InferenceService") && (r.inputs.metadata as { name: string }).name === name,
      );
    // 1. The HF token only in the model container's env (the ServiceAccount lists no Secret).
    delete find(
      (r) =>
        r.type === "kubernetes:core/v1:ServiceAccount" &&
        (r.inputs.metadata as { name: string }).name === "llama-31-8b-model",
    ).secrets;
    // 2. KServe's own scraping annotation, which points Istio's metrics merge at port 9091.
    isvc("resnet50").metadata.annotations["serving.kserve.io/enable-prometheus-scraping"] = "true";
    // 3. A Standard-mode canary that does not name its model: it serves under the canary's name.
    const canary = isvc("llama-31-8b-canary").spec.predictor.model;
    canary.args = (canary.args as string[]).filter((a) => !a.startsWith("--model_name="));
    // 4. A pod field Knative's field mask refuses unless its feature is on: the Knative-mode iris spreads
    // its pods (topologySpreadConstraints), and the KnativeServing no longer enables that feature.
    delete find((r) => (r.inputs as { kind?: string }).kind === "KnativeServing").spec.config.features[
      "kubernetes.podspec-topologyspreadconstraints"
    ];
    // 5. Grafana's sidecar RBAC back to kube-prometheus-stack's defaults: a ClusterRole on every Secret.
    const grafana = find(
      (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name === "kube-prometheus-stack",
    ).values.grafana;
    grafana.rbac.namespaced = false;
    grafana.sidecar.dashboards.searchNamespace = "ALL";
    // 6. The weight-cache downloader without the GPU toleration (as KServe's LocalModelCache Jobs are):
    // it never lands on the tainted GPU nodes, so no node ever holds the weights.
    delete find((r) => r.type === "kubernetes:apps/v1:DaemonSet").spec.template.spec.tolerations;
    // 7. A GPU NodePool whose template sets a label Karpenter reserves: the CRD's CEL rules refuse it.
    find(
      (r) =>
        r.type === "kubernetes:karpenter.sh/v1:NodePool" &&
        (r.inputs.metadata as { name: string }).name === "l4",
    ).spec.template.metadata.labels["karpenter.sh/nodepool"] = "l4";
    const broken: Plan = { ...plan, resources };

    const cluster = await clusterWithControllers(CLUSTER, fakeNodes(stackConfig("dev")));
    const kube = cluster.kube;
    controllers = cluster.controllers;
    const report = await deployWithControllers(cluster, broken);
    errors = [
      ...report.errors,
      ...(await assertReconciled(kube, broken, { knativeRuns: true })).errors,
      ...(await assertAccess(kube, broken)).errors,
      ...(await assertWeightCache(kube, broken)).errors,
    ];
  });
  after(async () => {
    await controllers?.stop();
    await clusterDown(CLUSTER);
  });

  it("a gated hf:// model whose token the storage initializer never sees", () => {
    assert.ok(
      errors.some(
        (e) =>
          // The stable predictor reads the node's weight copy; the canary still downloads with the token.
          /models\/llama-31-8b-canary: the storage initializer gets the Hugging Face token/.test(e) &&
          /no HF_TOKEN/.test(e),
      ),
      errors.join("\n"),
    );
  });

  it("KServe's scraping annotation rewriting the metrics port to queue-proxy's 9091", () => {
    assert.ok(
      errors.some((e) =>
        /models\/resnet50: pods keep prometheus.io\/port 8002 .*KServe set it to 9091/.test(e),
      ),
      errors.join("\n"),
    );
  });

  it("a Knative-mode predictor with a pod field Knative's webhook refuses", () => {
    assert.ok(
      errors.some(
        (e) =>
          /models\/iris: Knative Service models\/iris-predictor/.test(e) &&
          /validation.webhook.serving.knative.dev.*must not set the field\(s\): spec.template.spec.topologySpreadConstraints/.test(
            e,
          ),
      ),
      errors.join("\n"),
    );
  });

  it("Grafana's sidecar able to read every Secret in the cluster", () => {
    assert.ok(
      errors.some((e) =>
        /service account monitoring\/kube-prometheus-stack-grafana may get secrets in istio-system \(the mesh's root key\)/.test(
          e,
        ),
      ),
      errors.join("\n"),
    );
    assert.ok(
      errors.some((e) => /kube-prometheus-stack-grafana may list secrets cluster-wide/.test(e)),
      errors.join("\n"),
    );
  });

  it("a weight-cache downloader that cannot land on the tainted GPU nodes", () => {
    assert.ok(
      errors.some((e) =>
        /DaemonSet models\/llama-31-8b-weights: downloaders on no node; every node of pool l4 \(l4-0, /.test(
          e,
        ),
      ),
      errors.join("\n"),
    );
  });

  it("a NodePool template label in Karpenter's reserved domain (the CRD's CEL rule)", () => {
    assert.ok(
      errors.some(
        (e) =>
          /NodePool l4/.test(e) &&
          /karpenter\.sh\/nodepool/.test(e) &&
          /restricted|not allowed|Invalid/i.test(e),
      ),
      errors.join("\n"),
    );
  });

  it("a canary registered under its own name instead of the model's", () => {
    assert.ok(
      errors.some((e) =>
        /models\/llama-31-8b-canary: the server registers the model as llama-31-8b: .*--model_name=llama-31-8b-canary/.test(
          e,
        ),
      ),
      errors.join("\n"),
    );
  });
});
