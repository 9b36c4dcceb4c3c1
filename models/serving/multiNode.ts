/**
 * Models larger than one node, served the way KServe v0.20 supports it: the multi-node Hugging Face
 * runtime (kserve-runtime-configs resources.yaml, `kserve-huggingfaceserver-multinode`) runs one Ray
 * cluster per InferenceService — a head Deployment (the predictor) and a worker Deployment from
 * `predictor.workerSpec` — and vLLM splits the model tensor-parallel within each node and pipeline-
 * parallel across them (`--tensor-parallel-size=$TENSOR_PARALLEL_SIZE --pipeline-parallel-size=
 * $PIPELINE_PARALLEL_SIZE`, set by the controller from workerSpec).
 *
 * What KServe requires, and the platform therefore builds (kserve v0.20.0):
 * - autoscalerClass `none` and storage on pvc:// or oci:// (pkg/apis/serving/v1beta1/
 *   inference_service_validation.go 406-416);
 * - one replica: the worker Deployment always has RAY_NODE_COUNT − 1 pods, whatever the head's
 *   replicas (pkg/controller/v1beta1/inferenceservice/reconcilers/deployment/deployment_reconciler.go
 *   90-128), so a second head would find no workers of its own;
 * - the worker pod spec comes from the runtime's workerSpec and the InferenceService's workerSpec only
 *   (components/predictor.go multiNodeProcess 594-606): placement, GPUs and /dev/shm are repeated there;
 * - GPUs per pod: with the Ray backend the controller derives the node count from the worker's GPU
 *   request (computeRayNodeAndGPUs): head and worker both request the node's `count` GPUs, so
 *   TP × PP / count = PP pods, one per node.
 *
 * The runtime's containers probe with exec (its health_check.py checks the Ray nodes and the server):
 * the platform leaves those handlers and only sizes the startup probe's failure threshold, since KServe
 * merges the InferenceService's container onto the runtime's field by field.
 */
import type { DeepInput } from "../k8s";
import type * as crds from "../crds";
import { GPU_TAINT, LABELS } from "../cluster/nodePools";
import type { ResolvedModel } from "./resolve";

export const MULTI_NODE_RUNTIME = "kserve-huggingfaceserver-multinode";
/** The runtime's worker container and its /dev/shm volume (resources.yaml 171-186, 249-256). */
export const WORKER_CONTAINER = "worker-container";
const MULTI_NODE_SHM_VOLUME = "shm";

/**
 * The pod's in-memory /dev/shm, named as the runtime names its own (single-node HF runtime `devshm`,
 * multi-node `shm`): KServe merges pod specs by volume name, so this one replaces and sizes it.
 */
export function devShm(model: Pick<ResolvedModel, "resolvedGpu" | "shmSize">) {
  if (!model.shmSize) return { volumes: [], volumeMounts: [] };
  const name = isMultiNode(model) ? MULTI_NODE_SHM_VOLUME : "devshm";
  return {
    volumes: [{ name, emptyDir: { medium: "Memory", sizeLimit: model.shmSize } }],
    volumeMounts: [{ name, mountPath: "/dev/shm" }],
  };
}
/** The runtime's startup probes run every 30 s after 60 s (resources.yaml 159-170, 230-240). */
const RUNTIME_STARTUP = { initialDelaySeconds: 60, periodSeconds: 30 };
/** Extended resource of the EFA device plugin: one per EFA interface of the node. */
export const EFA_RESOURCE = "vpc.amazonaws.com/efa";

/**
 * KServe's webhook takes every extended resource beside CPU, memory and storage for a GPU type and
 * refuses the unknown ones (pkg/utils/utils.go HasUnknownGpuResourceType 355-392, called from
 * validateMultiNodeVariables): the EFA interface must be declared in its gpu-resource-types annotation.
 * Harmless for the GPU count: the controller counts the default types first, nvidia.com/gpu among them
 * (deployment_reconciler.go addGPUResourceToDeployment 407-427; utils.go GetGPUResourceQtyByType).
 */
export function efaAnnotations(model: ResolvedModel): Record<string, string> {
  return efaSettings(model).env.length > 0
    ? { "serving.kserve.io/gpu-resource-types": JSON.stringify([EFA_RESOURCE]) }
    : {};
}

/** One replica spans several nodes (the planner or config split it across them). */
export function isMultiNode(model: Pick<ResolvedModel, "resolvedGpu">): boolean {
  return (model.resolvedGpu?.nodes ?? 1) > 1;
}

type Predictor = DeepInput<NonNullable<crds.InferenceService["spec"]>["predictor"]>;
type WorkerSpec = NonNullable<Predictor["workerSpec"]>;
type Container = NonNullable<WorkerSpec["containers"]>[number];

/**
 * The startup probe of a multi-node pod: the runtime's exec handler, given as long as the model's
 * predicted load (model.startupSeconds) before the kubelet restarts it.
 */
export function multiNodeStartupProbe(model: ResolvedModel) {
  const waiting = Math.max(0, model.startupSeconds - RUNTIME_STARTUP.initialDelaySeconds);
  return {
    ...RUNTIME_STARTUP,
    failureThreshold: Math.max(1, Math.ceil(waiting / RUNTIME_STARTUP.periodSeconds)),
  };
}

/**
 * EFA between the nodes, when the pool attaches it: the interface the EFA device plugin advertises (one
 * per node: the launch template's) and libfabric's EFA provider, as AWS's multi-node vLLM samples set it
 * (aws-ia/terraform-aws-eks-blueprints patterns/multi-node-vllm/lws.yaml; awslabs/ai-on-eks
 * lws-deployment.yaml). NCCL uses it only through aws-ofi-nccl in the image: KServe's huggingfaceserver
 * image does not bring it, so there NCCL falls back to TCP sockets — models[].image may name a
 * huggingfaceserver build that adds it (the runtime's command runs KServe's server and health checks,
 * so another vLLM image will not do). NCCL_NET is left unset for that reason (forcing "ofi" fails
 * where the plugin is missing); FI_EFA_USE_DEVICE_RDMA is not for libfabric ≥ 1.18
 * (aws-samples/awsome-distributed-training 1.architectures/efa-cheatsheet.md).
 */
export function efaSettings(model: ResolvedModel): {
  resources: Record<string, string>;
  env: Array<{ name: string; value: string }>;
} {
  // Only a replica across nodes talks between nodes; single-node models on an EFA pool leave it be.
  if (!isMultiNode(model) || !model.resolvedGpu?.pool.efa) return { resources: {}, env: [] };
  return {
    resources: { [EFA_RESOURCE]: "1" },
    env: [{ name: "FI_PROVIDER", value: "efa" }],
  };
}

/**
 * The InferenceService's workerSpec: the parallel degrees, and the worker pods' GPUs, resources,
 * placement and /dev/shm (nothing of the predictor's pod spec reaches them).
 */
export function workerSpec(
  model: ResolvedModel,
  pod: { resources: Container["resources"]; serviceAccountName: string; image: string },
): WorkerSpec {
  const gpu = model.resolvedGpu!;
  const efa = efaSettings(model);
  const shm = devShm(model);
  return {
    tensorParallelSize: gpu.count,
    pipelineParallelSize: gpu.nodes ?? 1,
    serviceAccountName: pod.serviceAccountName,
    nodeSelector: { [LABELS.pool]: gpu.pool.name },
    tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
    // A pipeline stage must outlive a head's in-flight requests as long as the head does.
    terminationGracePeriodSeconds: 120,
    ...(shm.volumes.length > 0 ? { volumes: shm.volumes } : {}),
    containers: [
      {
        name: WORKER_CONTAINER,
        image: pod.image,
        resources: pod.resources,
        ...(efa.env.length > 0 ? { env: efa.env } : {}),
        ...(shm.volumeMounts.length > 0 ? { volumeMounts: shm.volumeMounts } : {}),
        startupProbe: multiNodeStartupProbe(model),
      },
    ],
  };
}
