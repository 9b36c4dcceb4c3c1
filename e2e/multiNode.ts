/**
 * Multi-node models on the real control plane (models/serving/multiNode.ts): what KServe's real
 * controller makes of a predictor with a workerSpec — the head Deployment `<isvc>-predictor` and the
 * worker Deployment `<isvc>-predictor-worker` with pipelineParallelSize − 1 pods (kserve v0.20.0
 * constants.PredictorWorkerServiceName, deployment_reconciler.go 90-128), the degrees it hands the
 * runtime, each pod's GPUs and EFA interface — and where the real scheduler puts them: every pod of the
 * replica on its own node of the model's pool.
 *
 * The model's pvc:// claim is the user's (a ReadWriteMany volume such as FSx for Lustre, which no CSI
 * driver can provide here): the e2e stands in for it with a claim bound to a static volume, so the real
 * PV controller binds it and the scheduler can place the pods.
 */
import { waitFor, type Kube, type KubeObject } from "./kube";
import { LABELS } from "../models/cluster/nodePools";
import { EFA_RESOURCE, WORKER_CONTAINER } from "../models/serving/multiNode";
import { gpuPoolSchema, type GpuPoolConfig } from "../config/schema";
import { modelSchema } from "../models/schema";
import { planModel } from "../models/capacity/planner";
import { resolveModel, type ResolvedModel } from "../models/serving/resolve";
import { inferenceService } from "../models/serving/inferenceService";
import type { ModelConfig } from "../models/plannedModel";
import type { K8sObject } from "../models/k8s";
import type { StackFileConfig } from "../tools/stackFile";

/** The EFA pool of 8× H100 nodes in one placement group that a 405B model spans. */
export const EFA_POOL: GpuPoolConfig = gpuPoolSchema.parse({
  name: "h100-efa",
  instanceTypes: ["p5.48xlarge"],
  maxSize: 2,
  releaseVersion: "1.34.4-20260714",
  efa: true,
  placementGroup: true,
});

/**
 * Llama 3.1 405B in BF16 as the platform would serve it across nodes: placed by the real planner (no
 * single p5.48xlarge holds it: two, tensor parallel 8 × pipeline parallel 2), resolved and built by
 * the real builders — the objects config validation stops while the pinned KServe cannot serve them
 * (KSERVE_MULTI_NODE_DEFECT).
 */
export function multiNodeFixture(namespace = "models"): { model: ResolvedModel; isvc: K8sObject } {
  const input = modelSchema.parse({
    name: "llama-31-405b",
    runtime: "vllm",
    storageUri: "pvc://llama-405b-weights/Llama-3.1-405B-Instruct",
    architecture: "llama-3.1-405b",
    gpu: { pool: EFA_POOL.name },
    engine: { maxModelLen: 16384 },
    autoscaling: { minReplicas: 1, maxReplicas: 1 },
  });
  const planned = planModel({ model: input, at: "models[0]", pools: [EFA_POOL] });
  if (!planned.plan) throw new Error(planned.problems.map((p) => p.message).join("; "));
  const placed: ModelConfig = {
    ...input,
    namespace,
    gpu: { pool: EFA_POOL.name, count: planned.plan.gpusPerReplica, nodes: planned.plan.nodesPerReplica },
    capacity: planned.plan,
  };
  const model = resolveModel(placed, { gpuPools: [EFA_POOL], environment: "prod" });
  const isvc = inferenceService(model, {
    name: model.name,
    track: "stable",
    version: { storageUri: model.storageUri, image: model.image, args: model.args },
    serviceAccountName: `${model.name}-model`,
    replicas: { min: 1, max: 1 },
  });
  return { model, isvc };
}

/**
 * Llama 3.1 405B over two p5.48xlarge nodes through llm-d: an LLMInferenceService that KServe runs as a
 * LeaderWorkerSet on the platform's pipeline-parallel preset (models/serving/llmdPipelineParallel.ts).
 * Its weights on a ReadWriteMany claim every node mounts; one replica, whose node loss is accepted.
 */
export const MULTI_NODE_LLMD_MODEL = {
  name: "llama-31-405b",
  namespace: "models",
  runtime: "vllm",
  storageUri: "pvc://llama-405b-weights/Llama-3.1-405B-Instruct",
  architecture: "llama-3.1-405b",
  gpu: { pool: EFA_POOL.name },
  engine: { maxModelLen: 16384 },
  // llm-d's v0.8.0 components list gives CUDA 13.0.2 for its llm-d-cuda:v0.8.0 (llm-d/llm-d#1819).
  cudaVersion: "13.0",
  llmd: {},
  autoscaling: {
    minReplicas: 1,
    maxReplicas: 1,
    outageOnNodeLoss: "one 405B replica is two p5.48xlarge nodes ($110/h); a second doubles it",
  },
} as const;

/** The prod stack's config with the EFA pool and the multi-node llm-d model added. */
export function multiNodeLlmdStackConfig(file: StackFileConfig): Record<string, string> {
  const models = JSON.parse(file.config["inference-platform:models"]!) as unknown[];
  const pools = JSON.parse(file.config["inference-platform:gpuPools"]!) as unknown[];
  return {
    ...file.config,
    "inference-platform:models": JSON.stringify([...models, MULTI_NODE_LLMD_MODEL]),
    "inference-platform:gpuPools": JSON.stringify([...pools, EFA_POOL]),
  };
}

interface WorkerDegrees {
  tensorParallelSize: number;
  pipelineParallelSize: number;
}
interface Container {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  resources?: { limits?: Record<string, string> };
}
interface PodTemplate {
  nodeSelector?: Record<string, string>;
  containers: Container[];
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
}

export interface MultiNodeReport {
  readonly errors: string[];
  readonly checked: number;
}

/** Multi-node InferenceServices among `objects`, with their degrees, pvc:// claim, EFA and pool. */
function multiNodeModels(objects: readonly KubeObject[]) {
  return objects
    .filter((o) => o.kind === "InferenceService")
    .flatMap((isvc) => {
      const predictor = (isvc.spec as { predictor: Record<string, unknown> }).predictor;
      const worker = predictor.workerSpec as WorkerDegrees | undefined;
      if (!worker) return [];
      const model = predictor.model as { storageUri?: string; resources?: Container["resources"] };
      const uri = model.storageUri ?? "";
      const claim = uri.startsWith("pvc://") ? uri.slice("pvc://".length).split("/")[0] : undefined;
      const efa = model.resources?.limits?.[EFA_RESOURCE] !== undefined;
      return [
        { isvc, worker, claim, efa, pool: (predictor.nodeSelector as Record<string, string>)[LABELS.pool] },
      ];
    });
}

/**
 * Stands in for a multi-node model's ReadWriteMany claim (FSx for Lustre on a cluster): a static volume
 * and a claim bound to it, so the real PV controller binds it and the scheduler places the pods.
 */
export async function provideStaticClaim(kube: Kube, namespace: string, claim: string): Promise<void> {
  const volume = `e2e-${namespace}-${claim}`;
  await kube.apply({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: volume },
    spec: {
      capacity: { storage: "1Ti" },
      accessModes: ["ReadWriteMany"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      claimRef: { namespace, name: claim },
      hostPath: { path: `/e2e/${volume}` },
    },
  } as KubeObject);
  await kube.apply({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claim, namespace },
    spec: {
      accessModes: ["ReadWriteMany"],
      storageClassName: "",
      volumeName: volume,
      resources: { requests: { storage: "1Ti" } },
    },
  } as KubeObject);
}

/** Each multi-node InferenceService's claim (provideStaticClaim). */
export async function provideModelClaims(kube: Kube, objects: readonly KubeObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const { isvc, claim } of multiNodeModels(objects)) {
    if (!claim) continue;
    const namespace = isvc.metadata.namespace!;
    try {
      await provideStaticClaim(kube, namespace, claim);
    } catch (err) {
      errors.push(`claim ${namespace}/${claim}: ${(err as Error).message}`);
    }
  }
  return errors;
}

const envOf = (c: Container | undefined, name: string) => c?.env?.find((e) => e.name === name)?.value;

export async function assertMultiNode(kube: Kube, objects: readonly KubeObject[]): Promise<MultiNodeReport> {
  const errors: string[] = [];
  let checked = 0;
  const expect = (what: string, ok: boolean, why: string) => {
    checked++;
    if (!ok) errors.push(`${what}: ${why}`);
  };
  for (const { isvc, worker, claim, efa, pool } of multiNodeModels(objects)) {
    const { name } = isvc.metadata;
    const namespace = isvc.metadata.namespace!;
    const where = `InferenceService ${namespace}/${name}`;
    const tp = String(worker.tensorParallelSize);
    const pp = worker.pipelineParallelSize;
    // Each Deployment as soon as it is seen: on KServe v0.20.0 the worker lives for moments at a time
    // (kserve#6113), so the two are not waited for together.
    const deployments: Record<"head" | "worker", KubeObject | undefined> = {
      head: undefined,
      worker: undefined,
    };
    try {
      for (const [role, suffix] of [
        ["head", "predictor"],
        ["worker", "predictor-worker"],
      ] as const)
        deployments[role] = await waitFor(
          `${where}: KServe's ${role} Deployment ${name}-${suffix}`,
          () => kube.get("apps/v1", "Deployment", `${name}-${suffix}`, namespace),
          { timeoutMs: 120_000, intervalMs: 100 },
        );
    } catch (err) {
      errors.push((err as Error).message);
      continue;
    }
    const template = (d: KubeObject) => (d.spec as { template: { spec: PodTemplate } }).template.spec;
    const head = template(deployments.head!);
    const workers = template(deployments.worker!);
    const headContainer = head.containers.find((c) => c.name === "kserve-container");
    const workerContainer = workers.containers.find((c) => c.name === WORKER_CONTAINER);
    expect(
      `${where}: worker replicas`,
      (deployments.worker!.spec as { replicas?: number }).replicas === pp - 1,
      `${(deployments.worker!.spec as { replicas?: number }).replicas}, expected pipelineParallelSize − 1 = ${pp - 1}`,
    );
    for (const [role, c] of [
      ["head", headContainer],
      ["worker", workerContainer],
    ] as const) {
      expect(
        `${where}: ${role} degrees from KServe`,
        envOf(c, "TENSOR_PARALLEL_SIZE") === tp && envOf(c, "PIPELINE_PARALLEL_SIZE") === String(pp),
        `TENSOR_PARALLEL_SIZE=${envOf(c, "TENSOR_PARALLEL_SIZE")}, PIPELINE_PARALLEL_SIZE=${envOf(c, "PIPELINE_PARALLEL_SIZE")}`,
      );
      const limits = c?.resources?.limits ?? {};
      expect(
        `${where}: ${role} GPUs`,
        limits["nvidia.com/gpu"] === tp,
        `nvidia.com/gpu ${limits["nvidia.com/gpu"]}, expected ${tp} (one node's)`,
      );
      if (efa)
        expect(
          `${where}: ${role} EFA interface`,
          limits[EFA_RESOURCE] === "1",
          `${EFA_RESOURCE} ${limits[EFA_RESOURCE]}`,
        );
    }
    for (const [role, spec] of [
      ["head", head],
      ["worker", workers],
    ] as const) {
      expect(
        `${where}: ${role} on pool ${pool}`,
        spec.nodeSelector?.[LABELS.pool] === pool,
        `nodeSelector ${JSON.stringify(spec.nodeSelector)}`,
      );
    }
    // The real scheduler and KServe's pod webhook: the head pod and a worker pod (of whichever
    // incarnation of the worker Deployment), each on its own node of the pool, each with the claim.
    const selectorOf = (d: KubeObject) =>
      Object.entries((d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    const scheduledPod = (d: KubeObject, role: string, avoid?: string) =>
      waitFor(
        `${where}: a scheduled ${role} pod${avoid ? ` on another node than ${avoid}` : ""}`,
        async () =>
          (await kube.list("v1", "Pod", { namespace, labelSelector: selectorOf(d) })).find((p) => {
            const node = (p.spec as { nodeName?: string }).nodeName;
            return !p.metadata.deletionTimestamp && node && node !== avoid;
          }),
        { timeoutMs: 120_000, intervalMs: 100 },
      );
    try {
      const headPod = await scheduledPod(deployments.head!, "head");
      const headNode = (headPod.spec as { nodeName: string }).nodeName;
      const workerPod = await scheduledPod(deployments.worker!, "worker", headNode);
      const poolNodes = (await kube.list("v1", "Node", { labelSelector: `${LABELS.pool}=${pool}` })).map(
        (n) => n.metadata.name,
      );
      for (const pod of [headPod, workerPod]) {
        const spec = pod.spec as PodTemplate & { nodeName: string };
        expect(
          `${where}: pod ${pod.metadata.name} on pool ${pool}`,
          poolNodes.includes(spec.nodeName),
          `on ${spec.nodeName}`,
        );
        // KServe's pod webhook mounts a pvc:// model's claim itself (storage_initializer_injector.go 528-539).
        if (claim)
          expect(
            `${where}: pod ${pod.metadata.name} mounts claim ${claim}`,
            (spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim),
            `volumes ${JSON.stringify((spec.volumes ?? []).map((v) => v.name))}`,
          );
      }
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return { errors, checked };
}
