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
import { modelObjects } from "../models/serving/modelObjects";
import { resolveModel } from "../models/serving/resolve";
import { validateCustomResource } from "../conformance/crdSchema";
import { configError, stackRaw, validate } from "./helpers";

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

describe("multi-model servers and batch jobs", () => {
  const local = () => stackRaw("local") as { models: Array<Record<string, unknown>> };
  const dev = () => stackRaw("dev") as { models: Array<Record<string, unknown>> };

  it("hosts TrainedModels on one sklearn server, each valid against KServe's CRD", () => {
    const cfg = validate(local(), "local");
    const host = cfg.models.find((m) => m.name === "sklearn-shared")!;
    const ctx = {
      region: cfg.region,
      domain: "models.internal",
      prometheus: { serverAddress: "http://p" },
      secretObjectNames: {},
    };
    const o = modelObjects(resolveModel(host, cfg), ctx);
    const trained = o.extras.filter((x) => x.kind === "TrainedModel");
    assert.deepEqual(
      trained.map((t) => t.metadata.name),
      ["iris-a", "iris-b"],
    );
    for (const t of trained) assert.deepEqual(validateCustomResource(t), []);
    const spec = o.inferenceServices[0]!.spec as { predictor: { model: Record<string, unknown> } };
    const model = spec.predictor.model;
    assert.equal(model.storageUri, undefined, "the server loads its TrainedModels, not a model of its own");
  });

  it("rejects multi-model mistakes with the key path and the reason", () => {
    const cases: Array<[(m: Record<string, unknown>) => void, string, RegExp]> = [
      [(m) => (m.storageUri = "gs://my-models/m"), "models[1].storageUri", /has no storageUri of its own/],
      [(m) => (m.runtime = "torchserve"), "models[1].trainedModels", /runs on triton and sklearn/],
      [
        (m) => ((m.trainedModels as Array<Record<string, unknown>>)[1]!.name = "iris-a"),
        "models[1].trainedModels[1].name",
        /duplicate/,
      ],
      [
        (m) => ((m.trainedModels as Array<Record<string, unknown>>)[0]!.memory = "3Gi"),
        "models[1].trainedModels",
        /need 3.3 GiB together but the server has 2.0 GiB/,
      ],
      [(m) => delete m.trainedModels, "models[1].storageUri", /required \(or trainedModels/],
    ];
    for (const [breakIt, path, message] of cases) {
      const raw = local();
      breakIt(raw.models[1]!);
      const problem = configError(raw, "local").problems.find((p) => p.path === path);
      assert.ok(problem, `no problem at ${path}`);
      assert.match(problem.message, message);
    }
  });

  it("runs a batch job with the model's identity, weights, GPU and shm, writing only to its output prefix", () => {
    const cfg = validate(dev(), "dev");
    const llama = resolveModel(cfg.models[0]!, cfg);
    const ctx = {
      region: cfg.region,
      domain: "models.internal",
      prometheus: { serverAddress: "http://p" },
      secretObjectNames: { hfToken: "hf-token" },
    };
    const o = modelObjects(llama, ctx);
    const cron = o.extras.find((x) => x.kind === "CronJob")!;
    const spec = cron.spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(spec.concurrencyPolicy, "Forbid");
    const pod = spec.jobTemplate.spec.template.spec;
    // Its own identity: the only one that may write, and only the outputs; no API token.
    assert.equal(pod.serviceAccountName, "llama-31-8b-batch");
    assert.equal(o.batch!.serviceAccount.metadata.name, "llama-31-8b-batch");
    assert.equal(o.batch!.serviceAccount.automountServiceAccountToken, false);
    assert.deepEqual(pod.nodeSelector, { "inference-platform/pool": "l4" });
    assert.equal(pod.tolerations[0].key, "nvidia.com/gpu");
    assert.deepEqual(
      pod.initContainers.map((c: { args: string[] }) => c.args[0]),
      [llama.storageUri, "s3://example-batch-dev/eval/requests"],
    );
    assert.equal(pod.initContainers[0].env[0].valueFrom.secretKeyRef.name, "hf-token");
    const main = pod.containers[0];
    assert.equal(main.resources.requests["nvidia.com/gpu"], "1");
    assert.deepEqual(main.resources.requests, main.resources.limits);
    assert.ok(main.volumeMounts.some((m: { mountPath: string }) => m.mountPath === "/dev/shm"));
    assert.ok(
      o.s3.every((s) => s.writePrefixes.length === 0) && !/PutObject/.test(o.s3Policy ?? ""),
      "the serving role writes nothing",
    );
    const policy = JSON.parse(o.batch!.s3.find((s) => s.bucket === "example-batch-dev")!.policy) as {
      Statement: Array<{ Sid: string; Resource: string[] }>;
    };
    assert.deepEqual(policy.Statement.find((s) => s.Sid === "WriteBatchOutput")!.Resource, [
      "arn:aws:s3:::example-batch-dev/eval/results/*",
    ]);
    assert.deepEqual(policy.Statement.find((s) => s.Sid === "ReadModel")!.Resource, [
      "arn:aws:s3:::example-batch-dev/eval/requests/*",
    ]);
    // A second bucket (the weights elsewhere, which batch runs read too): still one policy, for one role
    // and one Pod Identity association per ServiceAccount (EKS allows no second).
    const twoBuckets = dev();
    twoBuckets.models[0]!.storageUri = "s3://example-models-dev/llama-3.1-8b";
    const c3 = validate(twoBuckets, "dev");
    const o3 = modelObjects(resolveModel(c3.models[0]!, c3), ctx);
    assert.equal(o3.batch!.s3.length, 2);
    const merged = JSON.parse(o3.batch!.s3Policy!) as {
      Statement: Array<{ Sid: string; Resource: string[] }>;
    };
    const sids = merged.Statement.map((st) => st.Sid);
    assert.equal(new Set(sids).size, sids.length, "statement ids are unique");
    for (const bucket of ["example-batch-dev", "example-models-dev"])
      assert.ok(
        merged.Statement.some((st) => st.Resource.some((r) => r.startsWith(`arn:aws:s3:::${bucket}`))),
        bucket,
      );
    // Without a schedule: a one-off Job that pulumi up does not wait for.
    const raw = dev();
    delete (raw.models[0]!.batchJobs as Array<Record<string, unknown>>)[0]!.schedule;
    const c2 = validate(raw, "dev");
    const job = modelObjects(resolveModel(c2.models[0]!, c2), ctx).extras.find((x) => x.kind === "Job")!;
    assert.equal((job.metadata.annotations as Record<string, string>)["pulumi.com/skipAwait"], "true");
  });

  it("rejects batch jobs with bad URIs, names too long for a CronJob, or on a multi-model server", () => {
    const raw = dev();
    const jobs = raw.models[0]!.batchJobs as Array<Record<string, unknown>>;
    jobs[0]!.output = "hf://org/model";
    jobs.push({ ...jobs[0]!, name: "a-very-long-batch-job-name-for-the-nightly-eval", output: "s3://b/o" });
    const paths = configError(raw, "dev")
      .problems.map((p) => `${p.path}: ${p.message}`)
      .join("\n");
    assert.match(
      paths,
      /models\[0\]\.batchJobs\[0\]\.output: batch output must be s3:\/\/, gs:\/\/ or pvc:\/\//,
    );
    assert.match(
      paths,
      /models\[0\]\.batchJobs\[1\]\.name: "llama-31-8b-a-very-long-batch-job-name-for-the-nightly-eval" is 59 characters; a CronJob name may have 52/,
    );
    const mms = stackRaw("local") as { models: Array<Record<string, unknown>> };
    mms.models[1]!.batchJobs = [
      { name: "score", command: ["score"], input: "gs://my-data/in", output: "gs://my-data/out" },
    ];
    assert.match(
      configError(mms, "local").message,
      /models\[1\]\.batchJobs\[0\]: batch jobs run a model with its own storageUri/,
    );
  });
});
