/**
 * The node weight cache on the real control plane (models/serving/weightCache.ts): the real DaemonSet
 * controller and scheduler put one downloader on every node of the model's pool — past the GPU taint —
 * and none elsewhere; and the predictor pods KServe's real controller and pod webhook create read the
 * node's copy: the hostPath mounted read-only at /mnt/models, the wait for the marker, and no
 * download of the model by KServe's storage initializer (it runs only for LoRA adapters' storageUris).
 */
import type { Plan } from "../tools/planRunner";
import { waitFor, type Kube, type KubeObject } from "./kube";
import { WEIGHT_CACHE } from "../models/serving/weightCache";
import { LABELS } from "../models/cluster/nodePools";
import { predictorPodLabels } from "../models/serving/inferenceService";

interface PodSpec {
  nodeName?: string;
  initContainers?: Array<{ name: string }>;
  containers: Array<{
    name: string;
    volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  }>;
  volumes?: Array<{ name: string; hostPath?: { path: string } }>;
}

export interface CacheReport {
  readonly errors: string[];
  readonly checked: number;
}

const selectorOf = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

async function downloadersPlaced(kube: Kube, ds: KubeObject, errors: string[]): Promise<void> {
  const spec = ds.spec as {
    template: { spec: { nodeSelector: Record<string, string> } };
    selector: { matchLabels: Record<string, string> };
  };
  const pool = spec.template.spec.nodeSelector[LABELS.pool];
  const poolNodes = (await kube.list("v1", "Node", { labelSelector: `${LABELS.pool}=${pool}` })).map(
    (n) => n.metadata.name,
  );
  const where = `DaemonSet ${ds.metadata.namespace}/${ds.metadata.name}`;
  let pods: KubeObject[] = [];
  const placed = await waitFor(
    `${where}: a downloader on every node of pool ${pool}`,
    async () => {
      pods = await kube.list("v1", "Pod", {
        namespace: ds.metadata.namespace,
        labelSelector: selectorOf(spec.selector.matchLabels),
      });
      const nodes = pods.map((p) => (p.spec as PodSpec).nodeName).filter(Boolean);
      return nodes.length === poolNodes.length && poolNodes.every((n) => nodes.includes(n))
        ? true
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  ).then(
    () => true,
    () => false,
  );
  if (!placed)
    errors.push(
      `${where}: downloaders on ${pods.map((p) => (p.spec as PodSpec).nodeName ?? "(pending)").join(", ") || "no node"}; every node of pool ${pool} (${poolNodes.join(", ")}) needs one`,
    );
}

async function predictorsReadCache(kube: Kube, isvc: KubeObject, errors: string[]): Promise<void> {
  const name = isvc.metadata.name;
  const namespace = isvc.metadata.namespace!;
  const pods = await kube.list("v1", "Pod", {
    namespace,
    labelSelector: selectorOf(predictorPodLabels(name)),
  });
  if (pods.length === 0) errors.push(`InferenceService ${namespace}/${name}: no predictor pod to check`);
  for (const pod of pods) {
    const spec = pod.spec as PodSpec;
    const where = `predictor pod ${namespace}/${pod.metadata.name}`;
    const inits = (spec.initContainers ?? []).map((c) => c.name);
    // A storage initializer may fetch LoRA adapters (storageUris), never the base model at /mnt/models.
    const initializer = (spec.initContainers ?? []).find((c) => c.name === "storage-initializer") as
      { args?: string[] } | undefined;
    if (initializer && (initializer.args ?? []).includes("/mnt/models"))
      errors.push(
        `${where}: KServe's storage-initializer downloads the model instead of reading the node's copy`,
      );
    if (!inits.includes("wait-for-weights")) errors.push(`${where}: no wait-for-weights init container`);
    const volume = (spec.volumes ?? []).find((v) => v.hostPath?.path.startsWith(WEIGHT_CACHE.hostRoot));
    const mount = spec.containers
      .flatMap((c) => c.volumeMounts ?? [])
      .find((m) => m.name === volume?.name && m.mountPath === "/mnt/models");
    if (!volume || !mount?.readOnly)
      errors.push(`${where}: the node's weight copy is not mounted read-only at /mnt/models`);
  }
}

export async function assertWeightCache(kube: Kube, plan: Plan): Promise<CacheReport> {
  const errors: string[] = [];
  let checked = 0;
  const daemonSets = plan.objects
    .map((o) => o.object as unknown as KubeObject)
    .filter((o) => o.kind === "DaemonSet" && o.metadata.labels?.[WEIGHT_CACHE.label]);
  for (const ds of daemonSets) {
    checked++;
    await downloadersPlaced(kube, ds, errors);
    const model = ds.metadata.labels![WEIGHT_CACHE.label]!;
    const isvc = plan.objects
      .map((o) => o.object as unknown as KubeObject)
      .find(
        (o) =>
          o.kind === "InferenceService" &&
          o.metadata.name === model &&
          o.metadata.namespace === ds.metadata.namespace,
      );
    checked++;
    if (isvc) await predictorsReadCache(kube, isvc, errors);
    else
      errors.push(
        `DaemonSet ${ds.metadata.namespace}/${ds.metadata.name}: no InferenceService ${model} reads its copy`,
      );
  }
  return { errors, checked };
}
