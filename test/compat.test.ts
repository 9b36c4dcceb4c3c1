import * as assert from "node:assert/strict";
import { cudaVerdict, imageCuda, nodeDriver } from "../models/compat/checks";
import { configError, stackRaw, validate } from "./helpers";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("compatibility: image CUDA vs node driver", () => {
  const cases: Array<[string, number, "ok" | "info" | "error"]> = [
    ["13.0", 570, "error"], // a CUDA 13 image on a 570-driver node
    ["13.0", 580, "ok"],
    ["13.3", 580, "info"], // newer minor: minor-version compatibility
    ["12.9", 580, "ok"],
    ["12.8", 570, "ok"],
    ["12.9", 570, "info"],
    ["13.2", 595, "ok"],
    ["12.2", 535, "ok"],
    ["13.0", 535, "error"],
  ];
  for (const [cuda, branch, verdict] of cases)
    it(`CUDA ${cuda} on R${branch}: ${verdict}`, () =>
      assert.equal(cudaVerdict(cuda, branch).verdict, verdict));

  it("knows the CUDA of the images the stack uses, and which are CPU builds", () => {
    assert.equal(imageCuda("kserve/huggingfaceserver:v0.20.0-gpu"), "13.3");
    assert.equal(imageCuda("nvcr.io/nvidia/tritonserver:25.06-py3"), "12.9");
    assert.equal(imageCuda("nvcr.io/nvidia/tritonserver:25.08-py3"), "13.0");
    assert.equal(imageCuda("ghcr.io/huggingface/text-generation-inference:3.3.7"), "12.8");
    assert.equal(imageCuda("vllm/vllm-openai:v0.22.1-cu129"), "12.9");
    assert.equal(imageCuda("pytorch/torchserve-kfs:0.9.0"), null);
    assert.equal(imageCuda("example.com/my/server:1.0"), undefined);
  });

  it("derives the node driver from the pinned release, or says it assumes the newest", () => {
    assert.equal(nodeDriver("al2023", "1.34", "1.34.0-20250901").branch, 570);
    assert.equal(nodeDriver("al2023", "1.34", "1.34.2-20251023").branch, 580);
    assert.equal(nodeDriver("al2023", "1.30", "1.30.9-20251108").branch, 570, "1.29/1.30 moved later");
    assert.match(
      nodeDriver("al2023", "1.34").basis,
      /unpinned: newest known AL2023 NVIDIA release v20260714/,
    );
    assert.equal(nodeDriver("bottlerocket", "1.33", "1.49.0-abc").branch, 570);
    assert.equal(
      nodeDriver("bottlerocket", "1.34", "1.49.0-abc").branch,
      580,
      "aws-k8s-1.34-nvidia shipped 580 first",
    );
    assert.equal(nodeDriver("bottlerocket", "1.33", "1.53.0-abc").branch, 580);
  });
});

describe("compatibility: plan-time verdicts on the stacks", () => {
  it("fails a CUDA 13 image on a node group pinned to a 570-driver release, naming the fix", () => {
    const raw: Raw = stackRaw("prod");
    raw.gpuPools[1].releaseVersion = "1.34.0-20250901";
    const problem = configError(raw, "prod").problems.find((p) => p.path === "models[1].image");
    assert.ok(problem);
    assert.match(
      problem.message,
      /CUDA 13.3 needs driver R580\+, the node runs R570 .*pin a newer node release or an image built for CUDA 12/,
    );
  });

  it("notes (neither fails nor warns) the KServe image's CUDA 13.3 on R580 through minor-version compatibility, and reports each model's chain", () => {
    const cfg = validate(stackRaw("prod"), "prod");
    const m = cfg.compat.models.find((x) => x.model === "llama-31-70b")!;
    assert.deepEqual([m.cuda, m.driverBranch, m.nativeCuda, m.verdict], ["13.3", 580, "13.0", "info"]);
    assert.deepEqual(cfg.compat.warnings, []);
    assert.ok(
      cfg.compat.infos.some(
        (i) => i.path === "models[0].image" && /minor-version compatibility/.test(i.message),
      ),
    );
    assert.match(m.driverBasis!, /AL2023 NVIDIA 1.34.4-20260714/);
  });

  it("warns about FP8 on a GPU without FP8 tensor cores (A10G: weight-only), and passes it on L4", () => {
    const raw: Raw = stackRaw("dev");
    raw.gpuPools[0].instanceTypes = ["g5.2xlarge"];
    raw.models[0].engine.quantization = "fp8";
    const cfg = validate(raw, "dev");
    assert.ok(
      cfg.compat.warnings.some(
        (w) => w.path === "models[0].engine.quantization" && /A10G .* weight-only \(W8A16/.test(w.message),
      ),
    );
    const l4: Raw = stackRaw("dev");
    l4.models[0].engine.quantization = "fp8";
    assert.ok(!validate(l4, "dev").compat.warnings.some((w) => w.path.endsWith("quantization")));
  });

  it("refuses a Kubernetes version the add-ons or node images do not support", () => {
    const raw: Raw = stackRaw("prod");
    raw.cluster.kubernetesVersion = "1.21";
    const messages = configError(raw, "dev")
      .problems.filter((p) => p.path === "cluster.kubernetesVersion")
      .map((p) => p.message)
      .join("\n");
    assert.match(messages, /cert-manager v1.19.6 needs Kubernetes 1.22 or newer/);
    assert.match(messages, /no Cluster Autoscaler release is known for Kubernetes 1.21/);
    const dev: Raw = stackRaw("dev");
    dev.cluster.kubernetesVersion = "1.21";
    assert.match(
      configError(dev, "dev").message,
      /cluster\.kubernetesVersion: Karpenter 1\.14\.1 supports Kubernetes 1\.26 to 1\.36, not 1\.21/,
    );
    assert.match(messages, /EKS publishes AL2023 NVIDIA node images for Kubernetes 1.30, .* not 1.21/);
  });

  it("refuses a CPU build or an unknown image on a GPU model unless cudaVersion says", () => {
    const raw: Raw = stackRaw("dev");
    raw.models[1].image = "example.com/vision/triton-custom:2.1";
    assert.match(
      configError(raw, "dev").message,
      /models\[1\]\.image: the CUDA version of example.com\/vision\/triton-custom:2.1 is not in the compatibility data .*set cudaVersion/,
    );
    raw.models[1].cudaVersion = "12.4";
    assert.equal(validate(raw, "dev").compat.models.find((m) => m.model === "resnet50")!.verdict, "ok");
    const cpu: Raw = stackRaw("dev");
    cpu.models[1].runtime = "torchserve";
    delete cpu.models[1].format;
    assert.match(
      configError(cpu, "dev").message,
      /pytorch\/torchserve-kfs:0.9.0 is a CPU build on a GPU model/,
    );
  });

  it("refuses a floating image tag in prod, and Triton on protocol v1", () => {
    const raw: Raw = stackRaw("prod");
    raw.models[0].image = "kserve/huggingfaceserver:latest-gpu";
    assert.match(configError(raw, "prod").message, /models\[0\]\.image: .*floating tag "latest-gpu"/);
    const dev: Raw = stackRaw("dev");
    dev.models[1].protocol = "v1";
    assert.match(configError(dev, "dev").message, /models\[1\]\.protocol: Triton speaks the v2/);
  });
});
