/**
 * Dangerous edits to the prod config (docs/safe-edits.md): each is refused with an error that says
 * the consequence and the safe way, or planned so that data-bearing and CRD-owning resources stay
 * protected and a forced replacement is explicit.
 */
import { stockPlan } from "./plans";
import * as assert from "node:assert/strict";
import { DEPLOYMENT_MODE_PATH } from "../components/modelDeployment";
import { planStack, type Plan } from "../tools/planRunner";
import { readStackFile } from "../tools/stackFile";
import { configError, ROOT, stackRaw } from "./helpers";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function planWith(stack: string, edit: (raw: Raw) => void): Promise<Plan> {
  const file = readStackFile(ROOT, stack);
  const raw: Raw = stackRaw(stack);
  edit(raw);
  const config = { ...file.config };
  for (const key of ["cluster", "gpuPools", "models", "addons"])
    config[`inference-platform:${key}`] = JSON.stringify(raw[key]);
  return planStack(stack, { config, secretKeys: file.secretKeys });
}

const protectedUrns = (p: Plan) =>
  p.resources
    .filter((r) => r.protect)
    .map((r) => `${r.urn} retain=${r.retainOnDelete}`)
    .sort();

describe("dangerous edits to prod", function () {
  this.timeout(60_000);
  let baseline: Plan;
  before(async () => {
    baseline = await stockPlan("prod");
  });

  it("protects the cluster, KMS key, VPC, AMP workspace and CRD-owning releases (retained if ever removed)", () => {
    const p = protectedUrns(baseline);
    for (const name of ["cluster-eks", "cluster-secrets", "network-vpc", "amp"])
      assert.ok(
        p.some((u) => u.includes(`::${name} `)),
        name,
      );
    for (const release of ["cert-manager", "istio-base", "keda", "kserve-crd", "kube-prometheus-stack"])
      assert.ok(
        p.some((u) => u.includes(`::${release}-release retain=true`)),
        release,
      );
  });

  it("EKS add-ons change version only when config names one; unpinned, prod warns", async () => {
    const addons = (p: Plan) => p.resources.filter((r) => r.type === "aws:eks/addon:Addon");
    assert.equal(addons(baseline).length, 5);
    // Unpinned: EKS's default for the cluster's Kubernetes version (a minor upgrade moves it too).
    for (const a of addons(baseline)) assert.deepEqual(a.ignoreChanges, [], a.name);
    const pinned = await planWith(
      "prod",
      (r) => (r.cluster.addonVersions = { "vpc-cni": "v1.20.1-eksbuild.3" }),
    );
    const cni = addons(pinned).find((a) => a.name.endsWith("-vpc-cni"))!;
    assert.equal(cni.inputs.addonVersion, "v1.20.1-eksbuild.3");
    const withVersions = (addonVersions: Record<string, string>) => {
      const raw: Raw = stackRaw("prod");
      raw.cluster.addonVersions = addonVersions;
      return configError(raw, "prod").message;
    };
    assert.match(
      withVersions({ "vpc-cnii": "v1.20.1-eksbuild.3" }),
      /cluster\.addonVersions\.vpc-cnii: not an EKS add-on the platform installs .*did you mean vpc-cni\?/,
    );
    assert.match(
      withVersions({ coredns: "latest" }),
      /cluster\.addonVersions\.coredns: an EKS add-on version, like v1\.20\.1-eksbuild\.3/,
    );
  });

  it("renaming a model replaces only that model's objects; nothing protected changes", async () => {
    const renamed = await planWith("prod", (r) => (r.models[1].name = "qwen25-7b-instruct"));
    const isvcs = (p: Plan) =>
      p.objects
        .filter((o) => o.object.kind === "InferenceService")
        .map((o) => o.object.metadata!.name)
        .sort();
    assert.deepEqual(isvcs(renamed), ["llama-31-70b", "qwen25-7b-instruct"]);
    assert.deepEqual(protectedUrns(renamed), protectedUrns(baseline));
  });

  it("changing a CPU model's deployment mode replaces its InferenceService explicitly (KServe refuses the update)", async () => {
    const p = await planWith(
      "local",
      (r) => (r.models.find((m: Raw) => m.name === "churn-xgb").deploymentMode = "Knative"),
    );
    const churn = (plan: Plan) =>
      plan.resources.find((r) => r.type.endsWith(":InferenceService") && r.name.includes("churn-xgb"))!;
    const mode = (plan: Plan) =>
      (churn(plan).inputs as Raw).metadata.annotations["serving.kserve.io/deploymentMode"];
    assert.equal(mode(await stockPlan("local")), "Standard");
    assert.equal(mode(p), "Knative", "the edit reached the InferenceService");
    const isvc = churn(p);
    assert.deepEqual(isvc.replaceOnChanges, [DEPLOYMENT_MODE_PATH]);
    assert.equal(isvc.deleteBeforeReplace, true);
  });

  it("refuses moving an LLM to Knative mode, saying why", () => {
    const raw: Raw = stackRaw("prod");
    raw.models[0].deploymentMode = "Knative";
    assert.match(configError(raw, "prod").message, /models\[0\]\.deploymentMode: LLMs run in Standard mode/);
  });

  it("changing the cluster name keeps the protected cluster: pulumi up refuses to replace it", async () => {
    const p = await planWith("prod", (r) => (r.cluster.name = "inference-prod-2"));
    const cluster = p.resources.find((r) => r.type === "eks:index:Cluster")!;
    assert.equal(cluster.protect, true);
    assert.equal(cluster.inputs.name, "inference-prod-2");
  });

  it("refuses removing the GPU pool that models use", () => {
    const raw: Raw = stackRaw("prod");
    raw.gpuPools = raw.gpuPools.filter((p: Raw) => p.name !== "l4");
    const err = configError(raw, "prod");
    assert.ok(
      err.problems.some(
        (p) => p.path === "models[1].gpu.pool" && /no GPU pool "l4" \(pools: l40s-x4\)/.test(p.message),
      ),
    );
  });

  it("refuses removing a CRD-owning add-on that models depend on", () => {
    const keda: Raw = stackRaw("prod");
    keda.addons.keda = { enabled: false };
    assert.match(
      configError(keda, "prod").message,
      /models\[0\]\.autoscaling\.triggers\[0\]\.type: queueDepth scales through KEDA; enable addons.keda/,
    );
    const monitoring: Raw = stackRaw("prod");
    monitoring.addons.monitoring.enabled = false;
    assert.match(
      configError(monitoring, "prod").message,
      /is read from Prometheus; enable addons.monitoring/,
    );
  });
});
