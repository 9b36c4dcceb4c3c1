/**
 * Batch inference jobs of a model: a Job (or a CronJob on a schedule) that runs the model's runtime
 * image under the same rules as its predictor — its ServiceAccount (and so its IAM role), KServe's
 * storage initializer for the weights, the GPU pool's node selector, toleration and GPU count, an
 * in-memory /dev/shm, and requests equal to limits.
 */
import type { types } from "@pulumi/kubernetes";
import type { K8sObject } from "../k8s";
import { coreObject, PART_OF } from "../k8s";
import { GPU_TAINT, LABELS } from "../cluster/nodePools";
import type { BatchJobConfig } from "../schema";
import { IMAGES } from "../versions";
import { formatImage } from "./images";
import type { ResolvedModel } from "./resolve";
import { runtimeSpec } from "./runtimes";
import { hfTokenEnv } from "./namespace";

export const MODEL_DIR = "/mnt/models";
export const INPUT_DIR = "/mnt/input";

export function batchJobName(model: string, job: string): string {
  return `${model}-${job}`;
}

export function batchJob(
  model: ResolvedModel,
  job: BatchJobConfig,
  serviceAccountName: string,
  hfTokenSecretName?: string,
): K8sObject {
  const name = batchJobName(model.name, job.name);
  const labels = {
    ...PART_OF,
    "inference-platform/model": model.name,
    "inference-platform/batch-job": job.name,
  };
  const pod = batchPod(model, job, labels, serviceAccountName, hfTokenSecretName);
  const jobSpec = {
    parallelism: job.parallelism,
    ...(job.completions !== undefined ? { completions: job.completions } : {}),
    backoffLimit: job.backoffLimit,
    activeDeadlineSeconds: job.activeDeadlineSeconds,
    template: pod,
  };
  const metadata = { name, namespace: model.namespace, labels };
  if (!job.schedule)
    // A one-off Job is kept (no TTL): deleting it would make the next refresh + up run it again.
    // `pulumi up` does not wait for it to finish; editing the job's config replaces it, which reruns it.
    return coreObject("batch/v1/Job", {
      metadata: { ...metadata, annotations: { "pulumi.com/skipAwait": "true" } },
      spec: jobSpec,
    });
  return coreObject("batch/v1/CronJob", {
    metadata,
    spec: {
      schedule: job.schedule,
      timeZone: "Etc/UTC",
      // A run still going when the next is due would double the GPU bill: skip the new one.
      concurrencyPolicy: "Forbid",
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      // Scheduled runs are the CronJob's own: their Jobs may expire a day after finishing.
      jobTemplate: { metadata: { labels }, spec: { ...jobSpec, ttlSecondsAfterFinished: 86400 } },
    },
  });
}
/**
 * The pod of a batch run: KServe's storage initializer downloads the model and the input (same URI
 * schemes and credentials as the predictor), then the runtime's image runs the job's command on the
 * model's GPUs, outside the mesh.
 */
function batchPod(
  model: ResolvedModel,
  job: BatchJobConfig,
  labels: Record<string, string>,
  serviceAccountName: string,
  hfTokenSecretName: string | undefined,
): types.input.core.v1.PodTemplateSpec {
  const gpus = model.resolvedGpu?.count ?? 0;
  const resources = {
    cpu: model.cpu,
    memory: model.memory,
    ...(gpus > 0 ? { "nvidia.com/gpu": String(gpus) } : {}),
  };
  const security = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
  const volumes: types.input.core.v1.Volume[] = [
    { name: "model", emptyDir: {} },
    { name: "input", emptyDir: {} },
  ];
  const mounts = [
    { name: "model", mountPath: MODEL_DIR },
    { name: "input", mountPath: INPUT_DIR },
  ];
  if (model.shmSize) {
    volumes.push({ name: "devshm", emptyDir: { medium: "Memory", sizeLimit: model.shmSize } });
    mounts.push({ name: "devshm", mountPath: "/dev/shm" });
  }
  return {
    metadata: { labels, annotations: { "sidecar.istio.io/inject": "false" } },
    spec: {
      serviceAccountName,
      restartPolicy: "Never",
      ...(model.resolvedGpu
        ? {
            nodeSelector: { [LABELS.pool]: model.resolvedGpu.pool.name },
            tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
          }
        : {}),
      // The download KServe does for predictors (same URI schemes and credentials): the model, then the input.
      initContainers: [
        { name: "storage-initializer", uri: model.storageUri!, dir: MODEL_DIR, volume: "model" },
        { name: "input-download", uri: job.input, dir: INPUT_DIR, volume: "input" },
      ].map((d) => ({
        name: d.name,
        image: formatImage(IMAGES.storageInitializer),
        args: [d.uri, d.dir],
        ...(hfTokenSecretName && d.volume === "model" ? { env: [hfTokenEnv(hfTokenSecretName)] } : {}),
        resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
        volumeMounts: [{ name: d.volume, mountPath: d.dir }],
        securityContext: security,
      })),
      containers: [
        {
          name: "batch",
          image: model.image ?? runtimeSpec(model.runtime, model.format).image,
          command: job.command,
          args: job.args,
          env: [
            { name: "MODEL_DIR", value: MODEL_DIR },
            { name: "INPUT_URI", value: job.input },
            { name: "INPUT_DIR", value: INPUT_DIR },
            { name: "OUTPUT_URI", value: job.output },
          ],
          resources: { requests: resources, limits: resources },
          volumeMounts: mounts,
          securityContext: security,
        },
      ],
      volumes,
    },
  };
}
