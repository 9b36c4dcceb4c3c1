import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { registeredBeforeFailure } from "../tools/mockRuntime";
import { stockPlan } from "./plans";
import { planStack, summarize, writePlan, type Plan } from "../tools/planRunner";
import { readStackFile, SECRET_PLACEHOLDER_PREFIX } from "../tools/stackFile";
import { ROOT } from "./helpers";

async function plan(stack: string): Promise<Plan> {
  return stockPlan(stack);
}

function byName(p: Plan, type: string, name: string) {
  const r = p.resources.find((x) => x.type === type && x.name === name);
  assert.ok(r, `no ${type} named ${name}`);
  return r;
}

describe("offline plan of the real program", () => {
  for (const stack of ["dev", "prod", "local"]) {
    it(`plans ${stack} with every object conforming to the upstream APIs`, async () => {
      const p = await plan(stack);
      assert.deepEqual(p.conformance.errors, []);
      assert.deepEqual(p.conformance.unverified, [], "no object or release went unchecked");
      assert.ok(p.conformance.checked.customResources >= 5);
      assert.ok(p.objects.some((o) => o.object.kind === "InferenceService"));
    });
  }

  it("registers no AWS or EKS resources in existing-cluster mode", async () => {
    const p = await plan("local");
    const cloud = p.resources.filter((r) => r.type.startsWith("aws:") || r.type.startsWith("eks:"));
    assert.deepEqual(cloud, []);
    assert.equal(
      p.releases.some(
        (r) => r.chart.includes("nvidia") || r.chart.includes("dcgm") || r.chart.includes("autoscaler"),
      ),
      false,
    );
  });

  it("orders add-ons: CRDs and webhooks before what needs them", async () => {
    const p = await plan("dev");
    const urn = (name: string) => byName(p, "kubernetes:helm.sh/v3:Release", `${name}-release`).urn;
    const deps = (name: string) => byName(p, "kubernetes:helm.sh/v3:Release", `${name}-release`).dependsOn;
    assert.ok(deps("kserve-resources").includes(urn("cert-manager")));
    assert.ok(deps("kserve-resources").includes(urn("kserve-crd")));
    assert.ok(deps("istiod").includes(urn("istio-base")));
    assert.ok(deps("istio-ingressgateway").includes(urn("istiod")));
    assert.ok(deps("knative-operator").includes(urn("istiod")));
    assert.ok(deps("kserve-runtime-configs").includes(urn("kserve-resources")));
    assert.ok(deps("dcgm-exporter").includes(urn("kube-prometheus-stack")));
    for (const isvc of p.resources.filter(
      (r) => r.type === "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    )) {
      assert.ok(
        isvc.dependsOn.includes(urn("kserve-runtime-configs")),
        `${isvc.name} must wait for the runtimes`,
      );
      assert.ok(
        isvc.dependsOn.includes(urn("kserve-resources")),
        `${isvc.name} must wait for KServe's webhooks`,
      );
    }
    for (const monitor of p.resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"))) {
      assert.ok(
        monitor.dependsOn.includes(urn("kube-prometheus-stack")),
        `${monitor.name} needs the Prometheus Operator CRDs`,
      );
    }
    for (const so of p.resources.filter((r) => r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject"))
      assert.ok(so.dependsOn.includes(urn("keda")));
  });

  it("installs no add-on before the system node group exists (pods need nodes)", async () => {
    const p = await plan("dev");
    const nodes = byName(p, "aws:eks/nodeGroup:NodeGroup", "cluster-system").urn;
    for (const release of p.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release")) {
      assert.ok(release.dependsOn.includes(nodes), `${release.name} must wait for the system node group`);
    }
  });

  it("writes capacity.json and passes the planner's settings to vLLM", async () => {
    const p = await plan("prod");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    let capacity: {
      models: Array<{ model: string; gpusPerReplica: number; llm?: { engine: { maxNumSeqs: number } } }>;
      totals: { gpusAtMaxReplicas: number; dollarsPerHourAtMax: number };
    };
    try {
      writePlan(p, dir);
      capacity = JSON.parse(fs.readFileSync(path.join(dir, "capacity.json"), "utf8")) as typeof capacity;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(
      capacity.models.map((m) => [m.model, m.gpusPerReplica]),
      [
        ["llama-31-70b", 4],
        ["qwen25-7b", 1],
      ],
    );
    assert.equal(capacity.totals.gpusAtMaxReplicas, 4 * 4 + 6);
    assert.match(summarize(p), /total: 6\.\.22 GPUs/);
    // maxNumSeqs was left out of the 70B's config: the planner's value reaches the container args.
    const isvc = p.objects.find(
      (o) => o.object.kind === "InferenceService" && o.object.metadata?.name === "llama-31-70b",
    );
    const args = (isvc!.object.spec as { predictor: { model: { args: string[] } } }).predictor.model.args;
    assert.ok(args.includes(`--max-num-seqs=${capacity.models[0]!.llm!.engine.maxNumSeqs}`), args.join(" "));
  });

  it("never writes a secret value in clear text", async () => {
    const file = readStackFile(ROOT, "dev");
    assert.ok(file.secretKeys.includes("inference-platform:secrets"));
    const p = await plan("dev");
    const text = JSON.stringify({ resources: p.resources, outputs: p.outputs }) + summarize(p);
    assert.equal(text.includes(SECRET_PLACEHOLDER_PREFIX), false);
    // And nothing the plan writes to disk.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    try {
      writePlan(p, dir);
      const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
      assert.ok(files.length > 10);
      for (const f of files) {
        const body = fs.readFileSync(path.join(f.parentPath, f.name), "utf8");
        assert.equal(body.includes(SECRET_PLACEHOLDER_PREFIX), false, f.name);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const secret = byName(p, "kubernetes:core/v1:Secret", "secret-models-hf-token");
    assert.equal(secret.inputs.stringData, "[secret]");
  });

  it("protects the cluster, its KMS key, the VPC and CRD-owning releases in prod only", async () => {
    for (const [stack, expected] of [
      ["prod", true],
      ["dev", false],
    ] as const) {
      const p = await plan(stack);
      for (const type of ["eks:index:Cluster", "aws:kms/key:Key", "aws:ec2/vpc:Vpc"]) {
        const r = p.resources.find((x) => x.type === type)!;
        assert.equal(r.protect, expected, `${stack} ${type}`);
      }
      assert.equal(byName(p, "kubernetes:helm.sh/v3:Release", "kserve-crd-release").protect, expected);
      assert.equal(byName(p, "kubernetes:helm.sh/v3:Release", "istiod-release").protect, false);
    }
  });

  it("gives GPU node groups NVIDIA AMIs, the GPU taint and labels the add-ons select on", async () => {
    const p = await plan("prod");
    const ng = byName(p, "aws:eks/nodeGroup:NodeGroup", "gpu-l4-ng").inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(ng.amiType, "AL2023_x86_64_NVIDIA");
    assert.deepEqual(ng.taints, [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
    assert.equal(ng.labels["nvidia.com/gpu.present"], "true");
    assert.equal(ng.scalingConfig.minSize, 0);
    const plugin = p.releases.find((r) => r.chart === "nvidia-device-plugin")!.values as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const term =
      plugin.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]
        .matchExpressions[0];
    assert.equal(ng.labels[term.key], term.values[0], "device plugin affinity matches the GPU node label");
    assert.ok(
      plugin.tolerations.some(
        (t: { key: string; operator: string }) => t.key === "nvidia.com/gpu" && t.operator === "Exists",
      ),
    );
    const lt = byName(p, "aws:ec2/launchTemplate:LaunchTemplate", "gpu-l4-lt").inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(lt.metadataOptions.httpTokens, "required");
    // Every launch template of every node group: one hop, so pods cannot reach the node's credentials.
    for (const t of p.resources.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate"))
      assert.equal(
        (t.inputs.metadataOptions as { httpPutResponseHopLimit: number }).httpPutResponseHopLimit,
        1,
        t.name,
      );
  });

  for (const stack of ["dev", "prod", "local"])
    it(`plans ${stack} twice to byte-identical files (resources, manifests, reports)`, async () => {
      const dirs = [
        fs.mkdtempSync(path.join(os.tmpdir(), "plan-a-")),
        fs.mkdtempSync(path.join(os.tmpdir(), "plan-b-")),
      ];
      writePlan(await plan(stack), dirs[0]);
      writePlan(await planStack(stack), dirs[1]);
      const read = (dir: string) =>
        fs
          .readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((f) => f.isFile())
          .map((f) => path.join(f.parentPath, f.name))
          .sort()
          .map((f) => [path.relative(dir, f), fs.readFileSync(f, "utf8")]);
      const [a, b] = dirs.map(read);
      assert.ok(a!.length > 10);
      assert.deepEqual(b, a);
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

  it("fails before registering anything when config is invalid", async () => {
    const file = readStackFile(ROOT, "dev");
    const config = {
      ...file.config,
      "inference-platform:gpuPools": '[{"name":"l4","instanceTypes":["inf2.xlarge"]}]',
    };
    await assert.rejects(planStack("dev", { config, secretKeys: file.secretKeys }), (err: Error) => {
      assert.match(err.message, /Invalid stack config for stack "dev"/);
      assert.match(
        err.message,
        /gpuPools\[0\]\.instanceTypes\[0\]: inf2\.xlarge: inf2 carries AWS Inferentia2/,
      );
      // Only the root stack resource exists: nothing of the platform was registered.
      assert.deepEqual(
        registeredBeforeFailure(err)?.map((r) => r.type),
        ["pulumi:pulumi:Stack"],
      );
      return true;
    });
  });
});
