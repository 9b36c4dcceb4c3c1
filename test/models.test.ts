import * as assert from "node:assert/strict";
import {
  amiTypeFor,
  clusterAutoscalerTags,
  gpuNodeLabels,
  nodeLocalStorageUserData,
} from "../models/cluster/nodePools";
import { cidrSubnet, planNetwork } from "../models/cluster/network";
import { orderAddons, type AddonSpec } from "../models/addons";
import { CHARTS } from "../models/versions";
import { expanderPriorities } from "../models/addons/clusterAutoscaler";
import { vllmArgs } from "../models/serving/runtimes";
import { parseStorageUri } from "../models/serving/storage";
import { trafficSplit } from "../models/serving/traffic";
import { boundedName } from "../models/names";
import { engineSchema, rolloutSchema } from "../models/schema";
import { gpuPoolSchema } from "../config/schema";

describe("pure builders", () => {
  it("derives the AMI type from OS and instance family, never wrong", () => {
    for (const t of ["g5.xlarge", "g6.xlarge", "g6e.12xlarge", "p4d.24xlarge", "p5.48xlarge"]) {
      assert.equal(amiTypeFor("al2023", t, true).amiType, "AL2023_x86_64_NVIDIA", t);
      assert.equal(amiTypeFor("bottlerocket", t, true).amiType, "BOTTLEROCKET_x86_64_NVIDIA", t);
      assert.match(amiTypeFor("al2023", t, false).error ?? "", /GPU instance/);
    }
    assert.match(
      amiTypeFor("al2023", "trn1.2xlarge", true).error ?? "",
      /Trainium accelerators, not NVIDIA GPUs/,
    );
    assert.equal(amiTypeFor("al2023", "m6i.xlarge", false).amiType, "AL2023_x86_64_STANDARD");
  });

  it("puts instance-store NVMe under containerd and the kubelet where the instance has it", () => {
    const decode = (s: string | undefined) => Buffer.from(s ?? "", "base64").toString("utf8");
    const al2023 = decode(nodeLocalStorageUserData({ os: "al2023", instanceTypes: ["g6e.12xlarge"] }));
    assert.match(al2023, /Content-Type: application\/node.eks.aws/);
    assert.match(al2023, /kind: NodeConfig\n[\s\S]*localStorage:\n {6}strategy: RAID0/);
    const br = decode(nodeLocalStorageUserData({ os: "bottlerocket", instanceTypes: ["g5.2xlarge"] }));
    assert.match(
      br,
      /apiclient", "ephemeral-storage", "bind", "--dirs", "\/var\/lib\/containerd", "\/var\/lib\/kubelet"/,
    );
    // p5e/p5en and a mixed pool with one store-less type: nothing to set up.
    assert.equal(nodeLocalStorageUserData({ os: "al2023", instanceTypes: ["m6i.2xlarge"] }), undefined);
  });

  it("gives an empty GPU pool what Cluster Autoscaler needs to scale it from zero", () => {
    const pool = gpuPoolSchema.parse({ name: "l4", instanceTypes: ["g6.12xlarge"] });
    const tags = clusterAutoscalerTags(pool, "c1");
    assert.equal(tags["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"], "true:NoSchedule");
    assert.equal(tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"], "4");
    assert.equal(
      tags["k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator"],
      "nvidia-l4",
    );
    assert.equal(tags["k8s.io/cluster-autoscaler/c1"], "owned");
    assert.equal(gpuNodeLabels(pool)["inference-platform/pool"], "l4");
  });

  it("prefers the cheapest GPU pool in the priority expander, matching only this cluster's ASGs", () => {
    const pools = [
      gpuPoolSchema.parse({ name: "h100", instanceTypes: ["p5.48xlarge"] }),
      gpuPoolSchema.parse({ name: "l4", instanceTypes: ["g6.xlarge"] }),
    ];
    const priorities = expanderPriorities({ clusterName: "c1", gpuPools: pools } as never);
    const rank = (pool: string) =>
      Number(Object.entries(priorities).find(([, v]) => v[0]!.includes(`-${pool}-`))![0]);
    assert.ok(rank("l4") > rank("h100"));
    const l4 = new RegExp(priorities[String(rank("l4"))]![0]!);
    assert.ok(l4.test("eks-c1-l4-20261128-4ec9a1b2-aaaa-bbbb-cccc-0123456789ab"));
    assert.equal(l4.test("eks-c2-l4-20261128-4ec9a1b2"), false);
  });

  it("carves subnets like cidrsubnet and tags them for load balancers", () => {
    assert.equal(cidrSubnet("10.0.0.0/16", 2, 1), "10.0.64.0/18");
    assert.equal(cidrSubnet("10.0.0.0/16", 8, 255), "10.0.255.0/24");
    const plan = planNetwork({
      cidr: "10.0.0.0/16",
      zones: ["us-west-2a", "us-west-2b"],
      clusterName: "c",
      natPerZone: false,
    });
    assert.equal(plan.natZones.length, 1);
    assert.equal(
      plan.subnets.filter((s) => s.public).every((s) => s.tags["kubernetes.io/role/elb"] === "1"),
      true,
    );
  });

  it("orders add-ons and names a missing dependency or a cycle", () => {
    const spec = (name: string, dependsOn: string[]): AddonSpec =>
      ({
        name,
        namespace: "x",
        chart: CHARTS.keda,
        values: {},
        dependsOn,
        timeoutSeconds: 1,
        ownsCrds: false,
      }) as unknown as AddonSpec;
    assert.deepEqual(
      orderAddons([spec("kserve-resources", ["cert-manager"]), spec("cert-manager", [])]).map((s) => s.name),
      ["cert-manager", "kserve-resources"],
    );
    assert.throws(
      () => orderAddons([spec("kserve-resources", ["cert-manager"])]),
      /^Error: Add-on 'kserve-resources' needs 'cert-manager', which is not enabled$/,
    );
    assert.throws(
      () => orderAddons([spec("istiod", ["keda"]), spec("keda", ["istiod"])]),
      /^Error: Cycle: istiod → keda → istiod$/,
    );
  });

  it("maps engine settings to vLLM flags", () => {
    const engine = engineSchema.parse({
      maxModelLen: 8192,
      quantization: "fp8",
      kvCacheDtype: "fp8",
      speculative: { method: "ngram" },
    });
    const args = vllmArgs({ servedName: "m", engine, derived: {}, tensorParallelSize: 2 });
    for (const a of [
      "--model_name=m",
      "--backend=vllm",
      "--tensor-parallel-size=2",
      "--max-model-len=8192",
      "--quantization=fp8",
      "--kv-cache-dtype=fp8",
      "--enable-prefix-caching",
    ])
      assert.ok(args.includes(a), a);
    assert.ok(
      args.includes(
        '--speculative-config={"method":"ngram","num_speculative_tokens":5,"prompt_lookup_max":4}',
      ),
    );
  });

  it("parses storage URIs by scheme", () => {
    assert.deepEqual(parseStorageUri("s3://bucket-a/models/llama/"), {
      scheme: "s3",
      bucket: "bucket-a",
      prefix: "models/llama",
    });
    assert.deepEqual(parseStorageUri("hf://meta-llama/Llama-3.1-8B:main"), {
      scheme: "hf",
      repo: "meta-llama/Llama-3.1-8B",
      revision: "main",
    });
    assert.match(
      (parseStorageUri("oci://ghcr.io/acme/model:latest") as { error: string }).error,
      /floating tag/,
    );
    assert.deepEqual(parseStorageUri("pvc://models-pvc/llama"), {
      scheme: "pvc",
      claim: "models-pvc",
      path: "llama",
    });
  });

  it("splits traffic so weights always sum to 100", () => {
    for (let percent = 0; percent <= 100; percent += 5) {
      for (const mode of ["canary", "ab", "blueGreen", "shadow"] as const) {
        const rollout = rolloutSchema.parse({
          candidate: { storageUri: "s3://b/p" },
          mode,
          percent: mode === "blueGreen" ? 0 : percent,
        });
        const split = trafficSplit({ rollout });
        assert.equal(split.stable + split.candidate, 100, `${mode} ${percent}`);
      }
    }
  });

  it("shortens long AWS names with a hash, keeping them distinct", () => {
    const a = boundedName(["ip", "x".repeat(70), "a"], 64);
    const b = boundedName(["ip", "x".repeat(70), "b"], 64);
    assert.equal(a.length <= 64 && b.length <= 64, true);
    assert.notEqual(a, b);
    assert.equal(boundedName(["short"], 64), "short");
  });
});
