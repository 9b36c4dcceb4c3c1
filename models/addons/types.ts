/**
 * The add-on contract: a Helm release (chart pin, namespace, values) plus the custom resources the
 * add-on owns, and the add-ons it needs first. One generic component installs any spec.
 */
import type { Input } from "@pulumi/pulumi";
import type { AddonsConfig, Environment, GpuPoolConfig } from "../../config/schema";
import type { K8sObject } from "../k8s";
import type { ChartPin } from "../versions";
import type { NodeClassInputs } from "../cluster/karpenterPools";

export type KarpenterNodeInputs = Omit<NodeClassInputs, "placementGroupName" | "clusterName"> & {
  readonly placementGroups: Record<string, Input<string>>;
};

/** Every add-on release the platform can install, by release name. */
export const ADDON_NAMES = [
  "cert-manager",
  "istio-base",
  "istiod",
  "istio-ingressgateway",
  "knative-operator",
  "keda",
  "kube-prometheus-stack",
  "kserve-crd",
  "kserve-resources",
  "kserve-runtime-configs",
  "kserve-llmisvc-crd",
  "kserve-llmisvc-resources",
  "lws",
  "nvidia-device-plugin",
  "dcgm-exporter",
  "cluster-autoscaler",
  "karpenter-crd",
  "karpenter",
  "aws-load-balancer-controller",
  "metrics-server",
] as const;
export type AddonName = (typeof ADDON_NAMES)[number];

export interface AddonContext {
  readonly environment: Environment;
  readonly clusterName: string;
  readonly clusterMode: "eks" | "existing";
  readonly kubernetesVersion: string;
  readonly region: string;
  readonly addons: AddonsConfig;
  readonly gpuPools: readonly GpuPoolConfig[];
  /** Who grows and shrinks the GPU pools (EKS only). */
  readonly nodeAutoscaler: "cluster-autoscaler" | "karpenter" | "none";
  /** The managed system node group (under Karpenter, CPU models get a NodePool of its instance types). */
  readonly systemNodeGroup: { instanceTypes: string[]; maxSize: number; diskSizeGiB: number };
  /** EKS with Karpenter: the AWS ids its node classes select (known after deploy). */
  readonly karpenterNodes?: KarpenterNodeInputs;
  readonly usesKnative: boolean;
  /** Some model is served through llm-d (KServe's LLMInferenceService). */
  readonly usesLlmd: boolean;
  /** Some llm-d model spans nodes: LeaderWorkerSet and the pipeline-parallel preset are installed. */
  readonly usesMultiNodeLlmd: boolean;
  /** Some autoscaler reads CPU or memory (KServe's HPA): the resource metrics API must exist. */
  readonly usesResourceMetrics: boolean;
  /** EKS: the cluster's VPC (the load balancer controller cannot read it from instance metadata). */
  readonly vpcId?: Input<string>;
  /** Namespaces that hold models (alert rules select their pods). */
  readonly modelNamespaces: readonly string[];
  readonly domain: string;
  /** The alert receiver's credential (the stack secret addons.monitoring.alerts.secret names). */
  readonly alertReceiverCredential?: Input<string>;
  /** AMP remote-write URL (prod with addons.monitoring.amp), known after deploy. */
  readonly ampRemoteWriteUrl?: Input<string>;
}

export interface ManifestPin {
  /** Short name, unique within the add-on. */
  readonly name: string;
  readonly version: string;
  readonly url: string;
  /** The same documents, one file each, in these folders under ../shared/crds-extra. */
  readonly crdsExtraDirs: readonly string[];
}

export interface AddonSpec {
  readonly name: AddonName;
  readonly namespace: string;
  readonly chart: ChartPin;
  readonly values: Record<string, unknown>;
  readonly dependsOn: readonly AddonName[];
  /** Seconds Helm waits for the release's workloads to be ready (then rolls back: atomic). */
  readonly timeoutSeconds: number;
  /**
   * Upstream manifests no chart ships, by release URL (Gateway API's CRDs), applied before the release
   * (Pulumi's yaml/v2 ConfigFile reads the URL; the e2e reads the same files from ../shared/crds-extra).
   */
  readonly manifests?: readonly ManifestPin[];
  /** Objects the release's pods need from their start (e.g. the Role a chart is told to bind), applied first. */
  readonly preObjects?: readonly K8sObject[];
  /** Custom resources that belong to this add-on, applied after its release (and their own deps). */
  readonly objects?: readonly K8sObject[];
  /**
   * Partial objects applied server-side onto objects the release created, for fields its chart has no
   * value for (registered as Pulumi `*Patch` resources after the release).
   */
  readonly patches?: readonly K8sObject[];
  /** Leave out the chart's crds/ directory (another release owns and upgrades those CRDs). */
  readonly skipCrds?: boolean;
  /** The release installs CRDs: deleting it deletes every custom resource of those kinds. */
  readonly ownsCrds: boolean;
}
