/**
 * Plan-time compatibility checks, from the data in ./data.ts: (a) a GPU model's image CUDA against its
 * pool's NVIDIA driver, (b) quantization against the GPU's compute capability, (c) runtime against
 * protocol and quantization, (d) the add-ons against the cluster's Kubernetes version, (e) pinned
 * serving images. Errors stop the plan; warnings are reported. The policy pack reuses these functions.
 */
import type { Problem } from "../../config/problems";
import { poolGpu } from "../cluster/nodePools";
import { isLlm } from "../schema";
import type { ModelConfig, PlacedModels } from "../plannedModel";
import {
  CHARTS,
  CLUSTER_AUTOSCALER_TAGS,
  IMAGES,
  KARPENTER_KUBERNETES,
  KARPENTER_VERSION,
} from "../versions";
import { imagePinProblem, parseImage } from "../serving/images";
import { runtimeSpec } from "../serving/runtimes";
import {
  AL2023_LATEST,
  AL2023_R580_SINCE,
  BOTTLEROCKET_LATEST,
  BOTTLEROCKET_R580_SINCE,
  CHART_MIN_KUBERNETES,
  DRIVER_BRANCHES,
  IMAGE_CUDA,
  MIN_DRIVER_FOR_CUDA_MAJOR,
} from "./data";

export interface NodeDriver {
  readonly branch: number;
  readonly driver?: string;
  /** Where the answer comes from: the pinned release, or the newest the data knows. */
  readonly basis: string;
}

const version = (v: string) => v.split(".").map((n) => Number(n));
function compareVersions(a: string, b: string): number {
  const [x, y] = [version(a), version(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The NVIDIA driver branch of a GPU pool's node image (release version pinned, or the newest known). */
export function nodeDriver(
  os: "al2023" | "bottlerocket",
  kubernetesVersion: string,
  releaseVersion?: string,
): NodeDriver {
  if (os === "bottlerocket") {
    if (!releaseVersion)
      return {
        branch: 580,
        driver: BOTTLEROCKET_LATEST.driver,
        basis: `unpinned: newest known Bottlerocket ${BOTTLEROCKET_LATEST.release}`,
      };
    const release = releaseVersion.split("-")[0]!;
    const r580 = compareVersions(release, BOTTLEROCKET_R580_SINCE) >= 0 || kubernetesVersion === "1.34";
    return { branch: r580 ? 580 : 570, basis: `Bottlerocket ${release}` };
  }
  if (!releaseVersion)
    return {
      branch: 580,
      driver: AL2023_LATEST.driver,
      basis: `unpinned: newest known AL2023 NVIDIA release v${AL2023_LATEST.release}`,
    };
  const date = releaseVersion.split("-")[1] ?? "";
  const since = AL2023_R580_SINCE[kubernetesVersion];
  const r580 = since !== undefined && date >= since;
  return { branch: r580 ? 580 : 570, basis: `AL2023 NVIDIA ${releaseVersion}` };
}

/** CUDA inside an image, null for a CPU build, undefined when the data does not know the image. */
export function imageCuda(image: string): string | null | undefined {
  const ref = parseImage(image);
  const row = IMAGE_CUDA.find(
    (r) =>
      r.repository === ref.repository &&
      ref.tag !== undefined &&
      (typeof r.tag === "string" ? r.tag === ref.tag : r.tag.test(ref.tag)),
  );
  return row === undefined ? undefined : row.cuda;
}

/** info: supported and expected to work, worth knowing (shown in the plan, never as a warning). */
export type Verdict = "ok" | "info" | "warning" | "error";

export interface ModelCompat {
  readonly model: string;
  readonly image: string;
  readonly cuda: string | null;
  readonly pool?: string;
  readonly driverBranch?: number;
  readonly nativeCuda?: string;
  readonly driverBasis?: string;
  readonly verdict: Verdict;
  readonly notes: string[];
}

export interface CompatReport {
  readonly models: ModelCompat[];
  readonly errors: Problem[];
  readonly warnings: Problem[];
  readonly infos: Problem[];
}

/** (a) image CUDA vs the node driver. */
export function cudaVerdict(cuda: string, branch: number): { verdict: Verdict; note: string } {
  const native = DRIVER_BRANCHES[branch]?.nativeCuda;
  const [major, minor] = version(cuda);
  const min = MIN_DRIVER_FOR_CUDA_MAJOR[major!];
  if (!native || min === undefined)
    return { verdict: "error", note: `no data for CUDA ${cuda} on driver R${branch}` };
  const [nMajor, nMinor] = version(native);
  if (branch < min || major! > nMajor!)
    return {
      verdict: "error",
      note: `CUDA ${cuda} needs driver R${min}+, the node runs R${branch} (CUDA ${native}): the container fails with "CUDA driver version is insufficient"; pin a newer node release or an image built for CUDA ${nMajor}`,
    };
  // NVIDIA's CUDA minor-version compatibility (CUDA >= 11.1) supports this; serving images ship compiled
  // kernels for the GPUs they target, so only PTX JIT of a newer minor would fail: worth knowing, not a warning.
  if (major === nMajor && minor! > nMinor!)
    return {
      verdict: "info",
      note: `CUDA ${cuda} on R${branch} (native ${native}) runs through CUDA minor-version compatibility: kernels needing PTX JIT for a newer minor will fail`,
    };
  return { verdict: "ok", note: `CUDA ${cuda} on R${branch} (native ${native})` };
}

function modelImages(m: ModelConfig): Array<[string, string]> {
  const spec = runtimeSpec(m.runtime, m.format);
  const presetImage = m.llmd ? `${IMAGES.llmdCuda.repository}:${IMAGES.llmdCuda.tag}` : spec.image;
  const out: Array<[string, string]> = [["image", m.image ?? presetImage]];
  if (m.rollout?.candidate.image) out.push(["rollout.candidate.image", m.rollout.candidate.image]);
  return out;
}

type Collected = { errors: Problem[]; warnings: Problem[]; infos: Problem[] };

/** One model image against its node image's driver: CUDA known, a GPU build, and runnable on the branch. */
function imageCompat(
  m: PlacedModels["models"][number],
  at: string,
  key: string,
  image: string,
  cfg: PlacedModels,
  out: Collected,
): ModelCompat {
  const pool = m.gpu ? cfg.gpuPools.find((p) => p.name === m.gpu!.pool) : undefined;
  const driver =
    pool && cfg.cluster.mode === "eks"
      ? nodeDriver(pool.os, cfg.cluster.kubernetesVersion, pool.releaseVersion)
      : undefined;
  const notes: string[] = [];
  let verdict: Verdict = "ok";
  const raise = (v: Verdict, note: string) => {
    notes.push(note);
    if (v === "error") {
      verdict = "error";
      out.errors.push({ path: `${at}.${key}`, message: note });
    } else if (v === "warning") {
      if (verdict === "ok" || verdict === "info") verdict = "warning";
      out.warnings.push({ path: `${at}.${key}`, message: note });
    } else if (v === "info") {
      if (verdict === "ok") verdict = "info";
      out.infos.push({ path: `${at}.${key}`, message: note });
    }
  };
  // (e) pinned images: floating tags are errors in prod (config semantics report them), warnings elsewhere.
  const pin = imagePinProblem(image, cfg.environment);
  if (pin) notes.push(pin.message);
  const cuda = m.cudaVersion ?? imageCuda(image);
  if (m.gpu) {
    if (cuda === null)
      raise("error", `${image} is a CPU build on a GPU model; use the image's GPU (-gpu) tag`);
    else if (cuda === undefined)
      raise(
        "error",
        m.llmd && !m.image
          ? `the CUDA version of ${image}, the vLLM image llm-d's presets run, is not in the compatibility data (no source the platform could cite gives it); check it (e.g. the image's CUDA_VERSION environment) and set cudaVersion on the model, or set image to one whose CUDA the data knows`
          : `the CUDA version of ${image} is not in the compatibility data (models/compat/data.ts); set cudaVersion on the model`,
      );
    else if (driver) {
      const v = cudaVerdict(cuda, driver.branch);
      raise(v.verdict, `${v.note} (${driver.basis})`);
    }
  }
  return {
    model: m.name,
    image,
    cuda: cuda ?? null,
    pool: pool?.name,
    driverBranch: driver?.branch,
    nativeCuda: driver ? DRIVER_BRANCHES[driver.branch]?.nativeCuda : undefined,
    driverBasis: driver?.basis,
    verdict,
    notes,
  };
}

/** (b) quantization and dtype against the GPU; (c) runtime against protocol. */
function modelFeatureProblems(
  m: PlacedModels["models"][number],
  at: string,
  cfg: PlacedModels,
  out: Collected,
): void {
  const pool = m.gpu ? cfg.gpuPools.find((p) => p.name === m.gpu!.pool) : undefined;
  const gpu = pool ? poolGpu(pool) : undefined;
  if (gpu && isLlm(m)) {
    const cc = gpu.model.computeCapability;
    if (m.engine.quantization === "fp8" && !gpu.model.fp8)
      out.warnings.push({
        path: `${at}.engine.quantization`,
        message: `${gpu.model.name} (compute capability ${cc}) has no FP8 tensor cores: vLLM runs FP8 weight-only (W8A16, FP8 Marlin), saving memory but not compute; L4, L40S, H100 and H200 run FP8 natively`,
      });
    if (m.engine.dtype === "bfloat16" && !gpu.model.bf16)
      out.errors.push({
        path: `${at}.engine.dtype`,
        message: `${gpu.model.name} does not support bfloat16; use float16`,
      });
  }
  if (m.runtime === "triton" && m.protocol === "v1")
    out.errors.push({
      path: `${at}.protocol`,
      message: "Triton speaks the v2 (Open Inference) protocol only",
    });
}

/** (d) add-ons and node images against the cluster's Kubernetes version. */
function clusterVersionProblems(cfg: PlacedModels): Problem[] {
  const errors: Problem[] = [];
  const k8s = cfg.cluster.kubernetesVersion;
  if (cfg.cluster.mode === "eks") {
    if (cfg.cluster.nodeAutoscaler === "cluster-autoscaler" && !CLUSTER_AUTOSCALER_TAGS[k8s])
      errors.push({
        path: "cluster.kubernetesVersion",
        message: `no Cluster Autoscaler release is known for Kubernetes ${k8s} (it must match the cluster minor; known: ${Object.keys(CLUSTER_AUTOSCALER_TAGS).join(", ")})`,
      });
    const { min, max } = KARPENTER_KUBERNETES;
    if (
      cfg.cluster.nodeAutoscaler === "karpenter" &&
      (compareVersions(k8s, min) < 0 || compareVersions(k8s, max) > 0)
    )
      errors.push({
        path: "cluster.kubernetesVersion",
        message: `Karpenter ${KARPENTER_VERSION} supports Kubernetes ${min} to ${max}, not ${k8s}`,
      });
    if (cfg.gpuPools.some((p) => p.os === "al2023") && !AL2023_LATEST.kubernetes.includes(k8s))
      errors.push({
        path: "cluster.kubernetesVersion",
        message: `EKS publishes AL2023 NVIDIA node images for Kubernetes ${AL2023_LATEST.kubernetes.join(", ")}, not ${k8s}`,
      });
  }
  for (const chart of Object.values(CHARTS)) {
    const min = CHART_MIN_KUBERNETES[chart.chart];
    if (min && compareVersions(k8s, min) < 0)
      errors.push({
        path: "cluster.kubernetesVersion",
        message: `${chart.chart} ${chart.version} needs Kubernetes ${min} or newer`,
      });
  }
  return errors;
}

export function checkCompat(cfg: PlacedModels): CompatReport {
  const out: Collected = { errors: [], warnings: [], infos: [] };
  const models: ModelCompat[] = [];
  cfg.models.forEach((m, i) => {
    const at = `models[${i}]`;
    for (const [key, image] of modelImages(m)) models.push(imageCompat(m, at, key, image, cfg, out));
    modelFeatureProblems(m, at, cfg, out);
  });
  out.errors.push(...clusterVersionProblems(cfg));
  return { models, ...out };
}
