/**
 * One model deployment: registers the objects models/serving/modelObjects.ts decides on, and, for
 * s3:// storage on EKS, the model's own read-only IAM role bound to its ServiceAccount.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ModelObjects } from "../models/serving/modelObjects";
import { registerObject, objectResourceName } from "./k8sObject";
import { PodIdentityRole } from "./podIdentityRole";

export interface ModelDeploymentArgs {
  readonly objects: ModelObjects;
  readonly namespace: string;
  readonly provider: k8s.Provider;
  /** Serving stack readiness (CRDs, webhooks) plus the namespace's own objects. */
  readonly dependsOn: pulumi.Resource[];
  /** EKS only: cluster name and pod identity agent for s3 access. */
  readonly aws?: { clusterName: string; agent: pulumi.Resource; tags: Record<string, string> };
}

/**
 * KServe's TrainedModel webhook refuses a change of spec.model.memory (trainedmodel_webhook.go 113-121,
 * v0.20.0): such an edit replaces the object (old one first, the name is fixed) instead of failing.
 */
export const TRAINED_MODEL_MEMORY_PATH = "spec.model.memory";

function replaceOptions(obj: { kind: string }): pulumi.CustomResourceOptions {
  return obj.kind === "TrainedModel"
    ? { replaceOnChanges: [TRAINED_MODEL_MEMORY_PATH], deleteBeforeReplace: true }
    : {};
}

/** Pulumi property path of an LLMInferenceService's pipeline degree: its node span per replica. */
export const PIPELINE_PATH = "spec.parallelism.pipeline";

/** Pulumi property path of the KServe deployment-mode annotation. */
export const DEPLOYMENT_MODE_PATH = 'metadata.annotations["serving.kserve.io/deploymentMode"]';

export class ModelDeployment extends pulumi.ComponentResource {
  static readonly TYPE = "inference-platform:models:ModelDeployment";
  readonly inferenceServices: pulumi.CustomResource[];

  constructor(name: string, args: ModelDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ModelDeployment.TYPE, name, {}, opts);
    const o = args.objects;
    const register = (
      obj: (typeof o.inferenceServices)[number],
      dependsOn: pulumi.Resource[],
      extra: pulumi.CustomResourceOptions = {},
    ) =>
      registerObject(`${name}-${objectResourceName(obj)}`, obj, {
        parent: this,
        provider: args.provider,
        dependsOn,
        ...extra,
      });
    const sa = register(o.serviceAccount, args.dependsOn);
    const access: pulumi.Resource[] = [sa];
    // One role per ServiceAccount (one Pod Identity association each), covering every bucket: the
    // model's (named as the first bucket's role was, so existing stacks keep their role and
    // association) and those a controller makes that read the same weights (llm-d's endpoint picker;
    // associations go by ServiceAccount name, so they may exist before the account does).
    const s3Policy = o.s3Policy;
    if (args.aws && s3Policy) {
      const aws = args.aws;
      const readers: Array<[string, string]> = [
        [`${name}-s3-0`, String(o.serviceAccount.metadata.name)],
        ...o.storageReaders.map((reader): [string, string] => [`${name}-${reader}-s3`, reader]),
      ];
      for (const [roleName, serviceAccount] of readers)
        access.push(
          new PodIdentityRole(
            roleName,
            {
              clusterName: aws.clusterName,
              namespace: args.namespace,
              serviceAccount,
              policy: s3Policy,
              tags: aws.tags,
              agent: aws.agent,
            },
            { parent: this },
          ),
        );
    }
    // Batch runs: their own ServiceAccount and role (the only one that may write, and only the outputs).
    const batch = o.batch;
    if (batch) {
      access.push(register(batch.serviceAccount, args.dependsOn));
      if (args.aws && batch.s3Policy)
        access.push(
          new PodIdentityRole(
            `${name}-batch-s3`,
            {
              clusterName: args.aws.clusterName,
              namespace: args.namespace,
              serviceAccount: String(batch.serviceAccount.metadata.name),
              policy: batch.s3Policy,
              tags: args.aws.tags,
              agent: args.aws.agent,
            },
            { parent: this },
          ),
        );
    }
    // The node copies of the weights: started before the predictors, which wait for them, and after the
    // model's Pod Identity association: EKS injects credentials only into pods created after it exists.
    if (o.weightCache) access.push(register(o.weightCache, [...access]));
    // KServe rejects a change of deployment mode on an existing InferenceService: replace it instead
    // (old one first, the name is fixed). The safe route without downtime is a new model name.
    // Likewise KServe's llmisvc webhook rejects a change of a LeaderWorkerSet's group size (the
    // pipeline degree: llm_inference_service_validation.go 336-362).
    this.inferenceServices = o.inferenceServices.map((isvc) =>
      register(isvc, [...args.dependsOn, ...access], {
        replaceOnChanges: isvc.kind === "LLMInferenceService" ? [PIPELINE_PATH] : [DEPLOYMENT_MODE_PATH],
        deleteBeforeReplace: true,
      }),
    );
    for (const obj of [...o.autoscalers, ...o.routing, ...o.disruptionBudgets, ...o.extras])
      register(obj, [...args.dependsOn, ...this.inferenceServices], replaceOptions(obj));
    this.registerOutputs({});
  }
}
