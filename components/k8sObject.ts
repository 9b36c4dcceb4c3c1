/**
 * Registers one plain Kubernetes object from a builder with the matching @pulumi/kubernetes class:
 * typed classes for core kinds (so previews, policies and awaits understand them), CustomResource for
 * the rest.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { K8sObject } from "../models/k8s";

type Ctor = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const CORE_KINDS: Record<string, Ctor> = {
  "v1/Namespace": k8s.core.v1.Namespace as unknown as Ctor,
  "v1/ServiceAccount": k8s.core.v1.ServiceAccount as unknown as Ctor,
  "v1/Secret": k8s.core.v1.Secret as unknown as Ctor,
  "v1/ConfigMap": k8s.core.v1.ConfigMap as unknown as Ctor,
  "v1/Service": k8s.core.v1.Service as unknown as Ctor,
  "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget as unknown as Ctor,
  "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy as unknown as Ctor,
  "batch/v1/Job": k8s.batch.v1.Job as unknown as Ctor,
  "batch/v1/CronJob": k8s.batch.v1.CronJob as unknown as Ctor,
  "storage.k8s.io/v1/StorageClass": k8s.storage.v1.StorageClass as unknown as Ctor,
  "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role as unknown as Ctor,
};

export function registerObject(
  name: string,
  object: K8sObject,
  opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
  const ctor = CORE_KINDS[`${object.apiVersion}/${object.kind}`];
  if (ctor) {
    const { apiVersion: _a, kind: _k, ...rest } = object;
    return new ctor(name, rest as never, opts);
  }
  return new k8s.apiextensions.CustomResource(name, object as k8s.apiextensions.CustomResourceArgs, opts);
}

const PATCH_KINDS: Record<string, Ctor> = {
  "apps/v1/Deployment": k8s.apps.v1.DeploymentPatch as unknown as Ctor,
};

/**
 * Registers a partial object, server-side applied onto an object something else created (a chart's):
 * only the fields it sets are owned by this program.
 */
export function registerPatch(
  name: string,
  object: K8sObject,
  opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
  const ctor = PATCH_KINDS[`${object.apiVersion}/${object.kind}`];
  if (!ctor) throw new Error(`no Patch resource for ${object.apiVersion}/${object.kind}`);
  const { apiVersion: _a, kind: _k, ...rest } = object;
  return new ctor(name, rest as never, opts);
}

/** Resource name for an object: kind and namespace/name, unique within a stack. */
export function objectResourceName(object: K8sObject): string {
  const ns = object.metadata.namespace ? `${object.metadata.namespace}-` : "";
  return `${object.kind.toLowerCase()}-${ns}${object.metadata.name}`;
}
