/**
 * Everything one model deployment consists of, as plain objects: its ServiceAccount, one or two
 * InferenceServices (stable, and a candidate during a Standard-mode rollout), autoscalers, routing and
 * disruption budgets, plus the S3 read access its storage needs. components/modelDeployment.ts
 * registers these; nothing here touches Pulumi.
 */
import type { K8sObject } from "../k8s";
import { weightCacheDaemonSet } from "./weightCache";
import { coreObject, PART_OF } from "../k8s";
import { candidateName } from "../names";
import { llmdDecodeScaledObject, scaledObject, type PrometheusTarget } from "./autoscaling";
import {
  inferenceService,
  OUTAGE_ON_NODE_LOSS_ANNOTATION,
  predictorPodLabels,
  disruptionBudget,
  type Track,
} from "./inferenceService";
import type { ResolvedModel } from "./resolve";
import { isStorageError, parseStorageUri, s3AccessPolicy, s3AccessPolicyForBuckets } from "./storage";
import { destinationRule, servingComponents, trackReplicas, virtualService } from "./traffic";
import { trainedModel } from "./trainedModels";
import { batchJob } from "./batchJobs";
import { isLlmd, isLlmdAutoscaled, llmdDisruptionBudgets, llmInferenceService } from "./llmInferenceService";
import { llmdEndpointPickerServiceAccount, llmdEndpointPickerTls } from "./llmdMesh";

export interface ModelContext {
  readonly region: string;
  readonly domain: string;
  readonly prometheus: PrometheusTarget;
  /** Kubernetes Secret names by platform secret name (e.g. hfToken → hf-token). */
  readonly secretObjectNames: Readonly<Record<string, string>>;
}

export interface S3Access {
  readonly bucket: string;
  readonly prefixes: string[];
  /** Batch job outputs: the only prefixes the batch role may write (the serving role writes none). */
  readonly writePrefixes: string[];
  readonly policy: string;
}

/** An identity of the model: a ServiceAccount and the S3 access of its own IAM role. */
export interface ModelIdentity {
  readonly serviceAccount: K8sObject;
  /** s3:// buckets and prefixes it reads (and, for batch runs, writes). */
  readonly s3: S3Access[];
  /** The one IAM policy of its role covering all of them; none without s3://. */
  readonly s3Policy?: string;
}

export interface ModelObjects {
  readonly serviceAccount: K8sObject;
  readonly inferenceServices: K8sObject[];
  readonly autoscalers: K8sObject[];
  readonly routing: K8sObject[];
  readonly disruptionBudgets: K8sObject[];
  /** TrainedModels of a multi-model server, and batch Jobs / CronJobs. */
  readonly extras: K8sObject[];
  /** s3:// buckets and prefixes this model reads (stable and candidate). */
  readonly s3: S3Access[];
  /** The one IAM policy of the model's ServiceAccount role covering all of them; none without s3://. */
  readonly s3Policy?: string;
  /**
   * ServiceAccounts a controller creates that read the same storage and get the same s3Policy: llm-d's
   * endpoint picker, whose tokenizer downloads the model as `<name>-epp-sa` (llmInferenceService.ts).
   */
  readonly storageReaders: string[];
  /**
   * Batch runs' own identity: they read the model and their inputs and write their outputs, which the
   * serving pods must not (a predictor that can write to S3 is a leak waiting to happen).
   */
  readonly batch?: ModelIdentity;
  /** The DaemonSet keeping the weights on every node of the pool (nodeCache), applied before the predictors. */
  readonly weightCache?: K8sObject;
}

export function serviceAccountName(model: Pick<ResolvedModel, "name">): string {
  return `${model.name}-model`;
}

export function batchServiceAccountName(model: Pick<ResolvedModel, "name">): string {
  return `${model.name}-batch`;
}

/** What the serving pods read: the model, the candidate, TrainedModels. */
function servingS3Access(model: ResolvedModel): S3Access[] {
  return s3Access(
    [
      model.storageUri,
      ...(model.rollout ? [model.rollout.candidate.storageUri] : []),
      ...(model.trainedModels ?? []).map((t) => t.storageUri),
      ...model.adapters.map((a) => a.storageUri),
    ],
    [],
  );
}

/** What batch runs read (the model, their inputs) and write (their outputs). */
function batchS3Access(model: ResolvedModel): S3Access[] {
  return s3Access(
    [model.storageUri, ...model.batchJobs.map((j) => j.input)],
    model.batchJobs.map((j) => j.output),
  );
}

function s3Access(reads: ReadonlyArray<string | undefined>, writes: readonly string[]): S3Access[] {
  const byBucket = new Map<string, { read: string[]; write: string[] }>();
  const add = (uri: string | undefined, kind: "read" | "write") => {
    if (!uri) return;
    const parsed = parseStorageUri(uri);
    if (isStorageError(parsed) || parsed.scheme !== "s3") return;
    const entry = byBucket.get(parsed.bucket) ?? { read: [], write: [] };
    entry[kind].push(parsed.prefix);
    byBucket.set(parsed.bucket, entry);
  };
  reads.forEach((u) => add(u, "read"));
  writes.forEach((u) => add(u, "write"));
  return [...byBucket.entries()].map(([bucket, { read, write }]) => {
    const prefixes = [...new Set(read)].sort();
    const writePrefixes = [...new Set(write)].sort();
    return { bucket, prefixes, writePrefixes, policy: s3AccessPolicy(bucket, prefixes, writePrefixes) };
  });
}

function pdb(model: ResolvedModel, isvc: string): K8sObject {
  return disruptionBudget(model, isvc, predictorPodLabels(isvc));
}

/**
 * The serving objects: Knative mode, one InferenceService whose spec is the candidate during a rollout
 * (KServe splits traffic between revisions); Standard mode, a stable and a candidate InferenceService,
 * each with its ScaledObject, DestinationRules and budget, behind the platform's VirtualService.
 */
function servingObjects(
  model: ResolvedModel,
  ctx: ModelContext,
  base: { serviceAccountName: string; hfTokenSecretName?: string },
): Pick<ModelObjects, "inferenceServices" | "autoscalers" | "routing" | "disruptionBudgets"> {
  if (isLlmd(model)) {
    // llm-d: KServe's llmisvc controller makes the pods, the endpoint picker and the route; the platform's
    // ScaledObject scales the decode pods when they autoscale.
    const so = isLlmdAutoscaled(model) ? llmdDecodeScaledObject(model, ctx.prometheus) : undefined;
    return {
      inferenceServices: [llmInferenceService(model, base)],
      autoscalers: so ? [so] : [],
      routing: [llmdEndpointPickerTls(model)],
      disruptionBudgets: llmdDisruptionBudgets(model),
    };
  }
  const stableVersion = { storageUri: model.storageUri, image: model.image, args: model.args };
  const replicas = { min: model.autoscaling.minReplicas, max: model.autoscaling.maxReplicas };

  const inferenceServices: K8sObject[] = [];
  const autoscalers: K8sObject[] = [];
  const routing: K8sObject[] = [];
  const disruptionBudgets: K8sObject[] = [];
  const addStandard = (
    name: string,
    track: Track,
    version: typeof stableVersion,
    trackCount: { min: number; max: number },
  ) => {
    inferenceServices.push(inferenceService(model, { ...base, name, track, version, replicas: trackCount }));
    const so = scaledObject(model, name, ctx.prometheus, trackCount);
    if (so && trackCount.max > trackCount.min) autoscalers.push(so);
    for (const component of servingComponents(model)) routing.push(destinationRule(model, name, component));
    if (trackCount.min >= 2) disruptionBudgets.push(pdb(model, name));
  };

  if (model.deploymentMode === "Knative") {
    // Knative: one InferenceService; during a rollout its spec is the candidate and KServe splits
    // traffic between the new revision and the last rolled-out one (canaryTrafficPercent).
    const version = model.rollout ? { ...model.rollout.candidate } : stableVersion;
    const canaryTrafficPercent = model.rollout ? model.rollout.percent : undefined;
    inferenceServices.push(
      inferenceService(model, {
        ...base,
        name: model.name,
        track: model.rollout ? "candidate" : "stable",
        version,
        replicas,
        canaryTrafficPercent,
      }),
    );
    if (replicas.min >= 2) disruptionBudgets.push(pdb(model, model.name));
  } else {
    // The idle colour of a blue/green pair stays warm at its minimum; a stable without traffic keeps one replica.
    const [stableReplicas, candidateReplicas] = trackReplicas(model);
    addStandard(model.name, "stable", stableVersion, stableReplicas!);
    if (model.rollout && candidateReplicas) {
      const candidate = model.rollout.candidate;
      addStandard(
        candidateName(model.name),
        "candidate",
        {
          storageUri: candidate.storageUri,
          image: candidate.image ?? model.image,
          args: candidate.args.length > 0 ? candidate.args : model.args,
          ...(candidate.engine ? { engine: candidate.engine } : {}),
        },
        candidateReplicas,
      );
    }
    routing.unshift(virtualService(model, ctx.domain));
  }
  return { inferenceServices, autoscalers, routing, disruptionBudgets };
}

/** The batch runs' ServiceAccount: no API token (nothing in the pod calls the API; EKS Pod Identity
 * projects its own token, not the ServiceAccount's default one). */
function batchIdentity(model: ResolvedModel): ModelIdentity | undefined {
  if (model.batchJobs.length === 0) return undefined;
  const s3 = batchS3Access(model);
  const s3Policy = s3AccessPolicyForBuckets(s3);
  return {
    serviceAccount: coreObject("v1/ServiceAccount", {
      metadata: {
        name: batchServiceAccountName(model),
        namespace: model.namespace,
        labels: { ...PART_OF, "inference-platform/model": model.name },
      },
      automountServiceAccountToken: false,
    }),
    s3,
    ...(s3Policy ? { s3Policy } : {}),
  };
}

export function modelObjects(model: ResolvedModel, ctx: ModelContext): ModelObjects {
  const s3 = servingS3Access(model);
  const sa = serviceAccountName(model);
  const hfTokenSecretName = model.hfTokenSecret ? ctx.secretObjectNames[model.hfTokenSecret] : undefined;
  const serviceAccount: K8sObject = coreObject("v1/ServiceAccount", {
    metadata: {
      name: sa,
      namespace: model.namespace,
      labels: { ...PART_OF, "inference-platform/model": model.name },
      ...(model.autoscaling.outageOnNodeLoss
        ? { annotations: { [OUTAGE_ON_NODE_LOSS_ANNOTATION]: model.autoscaling.outageOnNodeLoss } }
        : {}),
    },
    // s3://: credentials come from EKS Pod Identity through boto3's default chain (no annotation: KServe
    // reads serving.kserve.io/s3-* ServiceAccount annotations only next to an IRSA role,
    // pkg/credentials/service_account_credentials.go 240-245). hf://: KServe's storage initializer takes
    // the token only from a Secret this ServiceAccount lists, under the data key HF_TOKEN (hf_secret.go 24).
    ...(hfTokenSecretName ? { secrets: [{ name: hfTokenSecretName }] } : {}),
    automountServiceAccountToken: true,
  });
  const { inferenceServices, autoscalers, routing, disruptionBudgets } = servingObjects(model, ctx, {
    serviceAccountName: sa,
    hfTokenSecretName,
  });
  const extras = [
    ...(model.trainedModels ?? []).map((t) => trainedModel(model, t)),
    ...model.batchJobs.map((j) => batchJob(model, j, batchServiceAccountName(model), hfTokenSecretName)),
  ];
  const s3Policy = s3AccessPolicyForBuckets(s3);
  const batch = batchIdentity(model);
  const weightCache =
    model.nodeCache && model.resolvedGpu && model.storageUri
      ? weightCacheDaemonSet(model, { serviceAccountName: sa, hfTokenSecretName })
      : undefined;
  return {
    serviceAccount,
    inferenceServices,
    autoscalers,
    routing,
    disruptionBudgets,
    extras,
    s3,
    ...(s3Policy ? { s3Policy } : {}),
    storageReaders: isLlmd(model) ? [llmdEndpointPickerServiceAccount(model.name)] : [],
    ...(batch ? { batch } : {}),
    ...(weightCache ? { weightCache } : {}),
  };
}
