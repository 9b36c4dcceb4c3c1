/**
 * A model's weights kept on every node of its GPU pool, so a new replica on such a node mounts them
 * instead of downloading. KServe v0.20's LocalModelCache would do this, but its download Jobs carry no
 * tolerations and never land on the platform's tainted GPU nodes (docs/local-model-cache.md), so the
 * platform runs the same download itself:
 *
 * - a DaemonSet per cached model on its pool: KServe's storage initializer (same URI schemes), under the
 *   model's own ServiceAccount (same Pod Identity role, same Hugging Face token), writes the checkpoint to
 *   `<root>/<namespace>-<model>/<key>` on the node and marks it complete; `<key>` hashes the storageUri,
 *   so a new version downloads beside nothing: older keys are removed first;
 * - the stable predictor mounts that directory read-only at /mnt/models (where every runtime reads, e.g.
 *   huggingfaceserver's --model_dir default, Triton's --model-store) and has no storageUri, so KServe
 *   injects no download; its init container waits for the marker, so a replica on a fresh node starts
 *   once the node's copy is complete.
 *
 * The directory is on the node's root volume (portable across AL2023 and Bottlerocket, whose instance-
 * store mounts differ), beside the images: pools are sized for both (config rules).
 */
import type { types } from "@pulumi/kubernetes";
import { coreObject, PART_OF, type K8sObject } from "../k8s";
import { GPU_TAINT, LABELS } from "../cluster/nodePools";
import { shortHash } from "../names";
import { IMAGES } from "../versions";
import { formatImage } from "./images";
import { hfTokenEnv } from "./namespace";
import type { ResolvedModel } from "./resolve";

export const WEIGHT_CACHE = {
  /**
   * On the node: one directory per model, under the kubelet's directory, which the instance-store NVMe
   * RAID0 holds on every GPU pool (AL2023: nodeadm's setup-local-disks bind-mounts /var/lib/kubelet onto
   * the array unless --no-bind-kubelet, awslabs/amazon-eks-ami templates/shared/runtime/bin/
   * setup-local-disks; Bottlerocket: the platform's ephemeral-storage bind, models/cluster/nodePools.ts).
   * Outside pods/, nothing of the kubelet's touches it.
   */
  hostRoot: "/var/lib/kubelet/inference-platform-models",
  /** Marks the DaemonSet's pods (and selects them). */
  label: "inference-platform/weight-cache",
  /** Where the predictor's init container sees the model's cache directory. */
  stateMount: "/cache",
  /** The storage initializer image's user (kserve python/storage-initializer.Dockerfile: useradd -u 1000). */
  downloaderUid: 1000,
} as const;

/** The storage-initializer image's entrypoint (kserve v0.20.0 storage-initializer.Dockerfile ENTRYPOINT). */
const INITIALIZER = "/storage-initializer/scripts/initializer-entrypoint";

/**
 * Space on the node's kubelet disk kept for what is not cached weights: the serving images unpacked
 * (containerd shares the array: vllm-openai 28.6 GB, vllm-project/vllm#22377; Triton about 15.5 GB,
 * triton-inference-server/server#7474) and pods' emptyDirs and logs (EKS's default node disk, 20 GiB:
 * CreateNodegroup diskSize).
 */
export const NODE_DISK_RESERVE_GIB = 65;

/** Versions of a model a node may hold at once: the current one and the one before it. */
export const CACHED_VERSIONS = 2;

/** What a downloader pod keeps off its node for the scheduler (the largest of its containers' requests). */
export const WEIGHT_CACHE_REQUESTS = { cpu: "50m", memory: "128Mi" } as const;

export function weightCacheKey(storageUri: string): string {
  return shortHash(storageUri, 16);
}

function weightCacheDir(model: Pick<ResolvedModel, "namespace" | "name">): string {
  return `${WEIGHT_CACHE.hostRoot}/${model.namespace}-${model.name}`;
}

function weightCacheName(model: Pick<ResolvedModel, "name">): string {
  return `${model.name}-weights`;
}

/** The stable version of a cached model reads its weights from the node (the candidate downloads its own). */
export function readsFromNodeCache(model: ResolvedModel, storageUri: string | undefined): boolean {
  return model.nodeCache !== undefined && storageUri !== undefined && storageUri === model.storageUri;
}

const RESTRICTED = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
const SMALL = { cpu: "10m", memory: "32Mi" };

const cacheVolume = (model: ResolvedModel) => ({
  name: "weight-cache",
  hostPath: { path: weightCacheDir(model), type: "DirectoryOrCreate" },
});

/**
 * Fetch the current version unless complete; then keep it and the version before it (pods of the last
 * rollout may still read that one) and drop the rest, and any unfinished download of another version.
 */
export function downloadScript(initializer = INITIALIZER): string {
  return [
    "set -eu",
    'cd "$CACHE"',
    'if [ ! -f "$KEY.complete" ]; then',
    '  rm -rf "$KEY"',
    `  ${initializer} "$STORAGE_URI" "$CACHE/$KEY"`,
    "fi",
    // Also when already complete: the version in use is always the newest, never the one dropped.
    'touch "$KEY.complete"',
    `ls -1t -- *.complete 2>/dev/null | tail -n +${CACHED_VERSIONS + 1} | while read -r marker; do rm -rf -- "\${marker%.complete}" "$marker"; done`,
    'find . -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" -exec sh -c \'[ -f "$1.complete" ] || rm -rf -- "$1"\' _ {} \\;',
  ].join("\n");
}

/** Its init containers: hand the new host directory to the downloader's user, then fetch if incomplete. */
function downloaderInitContainers(
  model: ResolvedModel,
  hfTokenSecretName: string | undefined,
): types.input.core.v1.Container[] {
  const image = formatImage(IMAGES.storageInitializer);
  const cacheMount = { name: "weight-cache", mountPath: WEIGHT_CACHE.stateMount };
  const uid = WEIGHT_CACHE.downloaderUid;
  return [
    {
      // A new hostPath directory belongs to root: hand it over, with CAP_CHOWN and nothing else.
      name: "own-cache-dir",
      image,
      command: ["/bin/sh", "-c", `chown ${uid}:${uid} "$CACHE"`],
      env: [{ name: "CACHE", value: WEIGHT_CACHE.stateMount }],
      securityContext: {
        runAsUser: 0,
        runAsNonRoot: false,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"], add: ["CHOWN"] },
      },
      resources: { requests: SMALL, limits: SMALL },
      volumeMounts: [cacheMount],
    },
    {
      name: "download",
      image,
      command: ["/bin/sh", "-c", downloadScript()],
      env: [
        { name: "CACHE", value: WEIGHT_CACHE.stateMount },
        { name: "KEY", value: weightCacheKey(model.storageUri!) },
        { name: "STORAGE_URI", value: model.storageUri! },
        ...(hfTokenSecretName ? [hfTokenEnv(hfTokenSecretName)] : []),
      ],
      securityContext: { ...RESTRICTED, runAsUser: uid, runAsNonRoot: true },
      // Requests are what the scheduler keeps off the node for the pod's whole life (an init container's
      // count too): small, so the model's replica still fits beside it; the download bursts to the limits.
      resources: { requests: WEIGHT_CACHE_REQUESTS, limits: { cpu: "1", memory: "1Gi" } },
      volumeMounts: [cacheMount],
    },
  ];
}

export function weightCacheDaemonSet(
  model: ResolvedModel,
  opts: { serviceAccountName: string; hfTokenSecretName?: string },
): K8sObject {
  const selector = { [WEIGHT_CACHE.label]: model.name };
  const labels = { ...PART_OF, "inference-platform/model": model.name, ...selector };
  return coreObject("apps/v1/DaemonSet", {
    // Not awaited: a pool may have no node yet, and a download may outlast Pulumi's wait.
    metadata: {
      name: weightCacheName(model),
      namespace: model.namespace,
      labels,
      annotations: { "pulumi.com/skipAwait": "true" },
    },
    spec: {
      selector: { matchLabels: selector },
      // Every node may fetch a new version at once: these pods serve nothing.
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "100%" } },
      template: {
        // Outside the mesh, like KServe's own download: it talks only to the model's storage.
        metadata: { labels, annotations: { "sidecar.istio.io/inject": "false" } },
        spec: {
          serviceAccountName: opts.serviceAccountName,
          nodeSelector: { [LABELS.pool]: model.resolvedGpu!.pool.name },
          tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
          initContainers: downloaderInitContainers(model, opts.hfTokenSecretName),
          containers: [
            {
              // Holds the node's slot; the work is done by the init containers.
              name: "hold",
              image: formatImage(IMAGES.storageInitializer),
              command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 3600 & wait $!; done"],
              securityContext: { ...RESTRICTED, runAsUser: WEIGHT_CACHE.downloaderUid, runAsNonRoot: true },
              resources: { requests: SMALL, limits: SMALL },
            },
          ],
          terminationGracePeriodSeconds: 5,
          volumes: [cacheVolume(model)],
        },
      },
    },
  });
}

/** What a predictor reading the node's copy adds: the volume, the mount and the wait for completion. */
export function nodeCachePredictor(model: ResolvedModel, storageUri: string) {
  const key = weightCacheKey(storageUri);
  return {
    volumes: [cacheVolume(model)],
    volumeMounts: [{ name: "weight-cache", mountPath: "/mnt/models", subPath: key, readOnly: true }],
    initContainers: [
      {
        name: "wait-for-weights",
        image: formatImage(IMAGES.storageInitializer),
        command: ["/bin/sh", "-c", 'until [ -f "$CACHE/$KEY.complete" ]; do sleep 5; done'],
        env: [
          { name: "CACHE", value: WEIGHT_CACHE.stateMount },
          { name: "KEY", value: key },
        ],
        securityContext: { ...RESTRICTED, runAsUser: WEIGHT_CACHE.downloaderUid, runAsNonRoot: true },
        resources: { requests: SMALL, limits: SMALL },
        volumeMounts: [{ name: "weight-cache", mountPath: WEIGHT_CACHE.stateMount, readOnly: true }],
      },
    ],
  };
}
