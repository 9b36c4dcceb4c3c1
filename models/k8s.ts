/**
 * The plain Kubernetes object shape builders return. Values may be Pulumi inputs passed through
 * untouched (e.g. an AMP workspace URL known only after deploy); builders never inspect them.
 */
import type { Input } from "@pulumi/pulumi";
import type { types } from "@pulumi/kubernetes";
import type * as crds from "./crds";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, Input<string>>;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** The core kinds builders emit, typed by @pulumi/kubernetes's input types (the Kubernetes API's fields). */
export interface CoreKinds {
  "v1/Namespace": types.input.core.v1.Namespace;
  "v1/ServiceAccount": types.input.core.v1.ServiceAccount;
  "v1/Secret": types.input.core.v1.Secret;
  "v1/ConfigMap": types.input.core.v1.ConfigMap;
  "policy/v1/PodDisruptionBudget": types.input.policy.v1.PodDisruptionBudget;
  "networking.k8s.io/v1/NetworkPolicy": types.input.networking.v1.NetworkPolicy;
  "batch/v1/Job": types.input.batch.v1.Job;
  "batch/v1/CronJob": types.input.batch.v1.CronJob;
  "storage.k8s.io/v1/StorageClass": types.input.storage.v1.StorageClass;
  "apps/v1/Deployment": types.input.apps.v1.Deployment;
  "apps/v1/DaemonSet": types.input.apps.v1.DaemonSet;
  "rbac.authorization.k8s.io/v1/Role": types.input.rbac.v1.Role;
}

/**
 * A core object checked by the compiler against the Kubernetes API's fields (a misspelt or misplaced
 * field does not compile), returned in the builders' plain shape.
 */
export function coreObject<K extends keyof CoreKinds>(
  type: K,
  body: Omit<CoreKinds[K], "apiVersion" | "kind" | "metadata"> & { metadata: ObjectMeta },
): K8sObject {
  const slash = type.lastIndexOf("/");
  return { apiVersion: type.slice(0, slash), kind: type.slice(slash + 1), ...body } as K8sObject;
}

/**
 * A custom resource's fields as builders may write them: the generated type (from the upstream CRD),
 * with Pulumi inputs allowed wherever a value goes (an AMP URL, a subnet id known after deploy).
 */
export type DeepInput<T> = T extends string | number | boolean
  ? Input<T>
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepInput<U>>
    : T extends object
      ? { [K in keyof T]: DeepInput<T[K]> }
      : T;

/** The custom kinds builders emit, typed from the pinned upstream CRDs (models/crds, tools/crdTypes.ts). */
export interface CustomKinds {
  "serving.kserve.io/v1beta1/InferenceService": crds.InferenceService;
  "serving.kserve.io/v1alpha1/ClusterServingRuntime": crds.ClusterServingRuntime;
  "serving.kserve.io/v1alpha1/TrainedModel": crds.TrainedModel;
  "serving.kserve.io/v1alpha2/LLMInferenceService": crds.LLMInferenceService;
  "serving.kserve.io/v1alpha2/LLMInferenceServiceConfig": crds.LLMInferenceServiceConfig;
  "gateway.networking.k8s.io/v1/Gateway": crds.GatewayApiGateway;
  "keda.sh/v1alpha1/ScaledObject": crds.ScaledObject;
  "keda.sh/v1alpha1/TriggerAuthentication": crds.TriggerAuthentication;
  "networking.istio.io/v1/VirtualService": crds.VirtualService;
  "networking.istio.io/v1/DestinationRule": crds.DestinationRule;
  "networking.istio.io/v1/Gateway": crds.Gateway;
  "security.istio.io/v1/PeerAuthentication": crds.PeerAuthentication;
  "security.istio.io/v1/AuthorizationPolicy": crds.AuthorizationPolicy;
  "security.istio.io/v1/RequestAuthentication": crds.RequestAuthentication;
  "operator.knative.dev/v1beta1/KnativeServing": crds.KnativeServing;
  "monitoring.coreos.com/v1/PodMonitor": crds.PodMonitor;
  "monitoring.coreos.com/v1/ServiceMonitor": crds.ServiceMonitor;
  "monitoring.coreos.com/v1/PrometheusRule": crds.PrometheusRule;
  "karpenter.sh/v1/NodePool": crds.NodePool;
  "karpenter.k8s.aws/v1/EC2NodeClass": crds.EC2NodeClass;
}

/**
 * A custom resource checked by the compiler against its upstream CRD's fields (a misspelt or misplaced
 * field does not compile), returned in the builders' plain shape.
 */
export function customObject<K extends keyof CustomKinds>(
  type: K,
  body: DeepInput<Omit<CustomKinds[K], "apiVersion" | "kind" | "metadata" | "status">> & {
    metadata: ObjectMeta;
  },
): K8sObject {
  const slash = type.lastIndexOf("/");
  return { apiVersion: type.slice(0, slash), kind: type.slice(slash + 1), ...(body as object) } as K8sObject;
}

export const PART_OF = {
  "app.kubernetes.io/part-of": "inference-platform",
  "app.kubernetes.io/managed-by": "pulumi",
} as const;

/** Label (and AWS tag) carrying the stack's environment: checks that see one object or the stack read it. */
export const ENVIRONMENT_LABEL = "inference-platform/environment";
