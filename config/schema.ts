/**
 * The stack-config schema: every `inference-platform:*` key of Pulumi.<stack>.yaml.
 * Structure, defaults and per-field limits live here; rules across fields in ./semantics.ts.
 * Every object is strict: an unknown (misspelt) key is an error, never silently ignored.
 */
import { z } from "zod";
import { modelSchema } from "../models/schema";

export const ENVIRONMENTS = ["dev", "prod", "local"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const cidr = z
  .string()
  .regex(
    /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/,
    "must be an IPv4 CIDR such as 10.0.0.0/16",
  );

const dnsLabel = z.string().regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label");

export const gpuPoolSchema = z.strictObject({
  name: dnsLabel.max(24),
  instanceTypes: z
    .array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, "must be an EC2 instance type such as g6.xlarge"))
    .min(1),
  capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
  minSize: z.number().int().min(0).max(1000).default(0),
  maxSize: z.number().int().min(1).max(1000).default(2),
  desiredSize: z.number().int().min(0).max(1000).optional(),
  diskSizeGiB: z.number().int().min(50).max(16_384).default(200),
  os: z.enum(["al2023", "bottlerocket"]).default("al2023"),
  /** EKS AMI release version to pin (e.g. `1.34.4-20260714`); unpinned, EKS uses its latest for the cluster version. */
  releaseVersion: z.string().optional(),
  efa: z.boolean().default(false),
  placementGroup: z.boolean().default(false),
});
export type GpuPoolConfig = z.infer<typeof gpuPoolSchema>;

export const clusterSchema = z.strictObject({
  mode: z.enum(["eks", "existing"]).default("eks"),
  name: dnsLabel.max(40),
  kubernetesVersion: z
    .string()
    .regex(/^1\.[0-9]{2}$/, "must be a Kubernetes minor version such as 1.34")
    .default("1.34"),
  /** Existing-cluster mode: a kubeconfig context (the kubeconfig itself is a secret: `secrets.kubeconfig`). */
  context: z.string().optional(),
  endpoint: z
    .strictObject({
      privateAccess: z.boolean().default(true),
      publicAccess: z.boolean().default(true),
      publicAccessCidrs: z.array(cidr).default([]),
    })
    .prefault({}),
  /** IAM role ARNs given cluster-admin through EKS access entries. */
  adminRoleArns: z
    .array(z.string().regex(/^arn:aws:iam::[0-9]{12}:role\/.+$/, "must be an IAM role ARN"))
    .default([]),
  systemNodeGroup: z
    .strictObject({
      instanceTypes: z.array(z.string()).min(1).default(["m6i.xlarge"]),
      minSize: z.number().int().min(1).default(2),
      maxSize: z.number().int().min(1).default(4),
      desiredSize: z.number().int().min(1).optional(),
      diskSizeGiB: z.number().int().min(20).default(100),
    })
    .prefault({}),
  /**
   * Who grows the GPU pools: Cluster Autoscaler over managed node groups, or Karpenter (a NodePool and
   * EC2NodeClass per pool; the system node group stays managed). `none`: pools stay at their size.
   */
  nodeAutoscaler: z.enum(["cluster-autoscaler", "karpenter", "none"]).default("cluster-autoscaler"),
  /** SSM Session Manager on the nodes (no SSH either way); off: the node role cannot reach SSM at all. */
  nodeSsmSessions: z.boolean().default(false),
  /** Protect data-bearing and cluster-wide resources from deletion (defaults on in prod). */
  protect: z.boolean().optional(),
  /**
   * EKS managed add-on versions (vpc-cni, kube-proxy, coredns, eks-pod-identity-agent, aws-ebs-csi-driver), e.g.
   * `v1.20.1-eksbuild.3`. Left out: EKS's default for the cluster's Kubernetes version, which AWS moves
   * (prod warns); pinned, an add-on changes only when config does.
   */
  addonVersions: z
    .record(
      z.string(),
      z
        .string()
        .regex(
          /^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$/,
          "an EKS add-on version, like v1.20.1-eksbuild.3",
        ),
    )
    .default({}),
  logTypes: z
    .array(z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"]))
    .default(["api", "audit", "authenticator"]),
});
export type ClusterConfig = z.infer<typeof clusterSchema>;

export const networkSchema = z.strictObject({
  cidr: cidr.default("10.0.0.0/16"),
  /** Explicit zones; default: the first 2 (dev) or 3 (prod) zones of the region. */
  availabilityZones: z
    .array(z.string().regex(/^[a-z]{2}-[a-z]+-[0-9][a-z]$/, "must be an AZ name such as us-west-2a"))
    .optional(),
  natGateways: z.enum(["single", "perAz"]).optional(),
});

const toggle = (enabledByDefault: boolean) =>
  z.strictObject({ enabled: z.boolean().default(enabledByDefault) }).prefault({});

export const addonsSchema = z.strictObject({
  /**
   * Extra Helm values per release (`addons.values.keda: {...}`), merged last over the platform's; the
   * offline plan checks them against the chart's values.yaml.
   */
  values: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  certManager: toggle(true),
  istio: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Internet-facing ingress; needs `jwt` so every request is authenticated, and TLS on EKS. */
      publicIngress: z.boolean().default(false),
      /** ACM certificate the gateway's NLB terminates TLS with (port 443 only, no plaintext listener). */
      tlsCertificateArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[0-9a-f-]+$/,
          "an ACM certificate ARN, like arn:aws:acm:us-east-1:123456789012:certificate/<id>",
        )
        .optional(),
      jwt: z
        .strictObject({
          issuer: z.string().url(),
          jwksUri: z.string().url(),
          audiences: z.array(z.string()).default([]),
        })
        .optional(),
    })
    .prefault({}),
  /** `auto`: installed only when a model uses Knative mode. */
  knative: z
    .strictObject({ enabled: z.union([z.boolean(), z.literal("auto")]).default("auto") })
    .prefault({}),
  keda: toggle(true),
  kserve: z
    .strictObject({
      defaultDeploymentMode: z.enum(["Standard", "Knative"]).default("Standard"),
      domain: z.string().default("models.internal"),
    })
    .prefault({}),
  nvidiaDevicePlugin: toggle(true),
  dcgmExporter: toggle(true),
  monitoring: z
    .strictObject({
      enabled: z.boolean().default(true),
      grafana: z.boolean().default(true),
      retention: z
        .string()
        .regex(/^[0-9]+[dh]$/)
        .default("15d"),
      /** Where Alertmanager delivers alerts (required in prod); the credential is a stack secret. */
      alerts: z
        .strictObject({
          receiver: z.enum(["slack", "pagerduty", "webhook"]),
          secret: z.string().min(1),
          channel: z.string().optional(),
        })
        .optional(),
      /** GiB of EBS volume per Prometheus and Alertmanager replica on EKS (gp3, encrypted). */
      storageGi: z.number().int().min(10).max(16384).default(50),
      /** Amazon Managed Prometheus: remote-write from the in-cluster Prometheus, KEDA queries AMP. */
      amp: z.boolean().default(false),
    })
    .prefault({}),
});
export type AddonsConfig = z.infer<typeof addonsSchema>;

export const platformSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  region: z
    .string()
    .regex(/^[a-z]{2}-[a-z]+-[0-9]$/, "must be an AWS region such as us-west-2")
    .default("us-west-2"),
  cluster: clusterSchema,
  network: networkSchema.prefault({}),
  gpuPools: z.array(gpuPoolSchema).default([]),
  addons: addonsSchema.prefault({}),
  models: z.array(modelSchema).default([]),
  /** Names of the secure values under `inference-platform:secrets` (values never enter this object). */
  secretNames: z.array(z.string()).default([]),
});
/** The config as parsed, before capacity planning. */
export type PlatformInput = z.infer<typeof platformSchema>;

/** Config keys users write in Pulumi.<stack>.yaml, each under the `inference-platform:` namespace. */
export const CONFIG_KEYS = [
  "environment",
  "cluster",
  "network",
  "gpuPools",
  "addons",
  "models",
  "secrets",
] as const;
