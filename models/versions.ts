/**
 * Every chart, image and CRD version the platform installs, pinned in one place with its upstream
 * repository. Conformance tests read the CRDs and chart defaults of exactly these versions
 * (../shared/crds, ../shared/charts), so a bump here is a bump everywhere.
 *
 * Helm resource choice: every chart is installed with `helm.v3.Release` (Helm itself), because
 * - cert-manager, KServe, KEDA, Istio base and kube-prometheus-stack install CRDs that later
 *   resources depend on, and a Release with `skipAwait: false` only completes when its workloads
 *   are ready (so webhooks answer before the next step);
 * - kube-prometheus-stack and cert-manager rely on Helm hooks (admission-webhook jobs, startupapicheck),
 *   which `helm.v4.Chart` silently drops (pulumi/pulumi-kubernetes#3284);
 * - `atomic` + `cleanupOnFail` roll a failed install back instead of leaving it half-applied.
 * The cost is no per-object preview; the offline plan shows each release's chart, version and values.
 */

export interface ChartPin {
  /** Chart name as published. */
  readonly chart: string;
  /** Exact chart version. */
  readonly version: string;
  /** Helm repository URL, or an OCI registry prefix (then `chart` is appended by Helm). */
  readonly repository: string;
  /** Where the chart's source lives (`owner/repo path`), for whoever bumps it and for `npm run crds`. */
  readonly source: string;
  /** The source repository's tag of this chart version. */
  readonly sourceTag: string;
  /** The chart ships a values.schema.json (Helm enforces it). */
  readonly hasSchema?: boolean;
  /** Folder of the chart defaults under ../shared/charts (name/version). */
  readonly defaultsDir: string;
  /**
   * The chart's source inside a Go module the proxy serves (module, version, folder), for a chart
   * ../shared does not hold: conformance and the e2e read it from the Go module cache
   * (conformance/goModuleCharts.ts), never from a copy in this repository.
   */
  readonly goModule?: { readonly module: string; readonly version: string; readonly dir: string };
}

export const ISTIO_VERSION = "1.30.3";
export const KSERVE_VERSION = "v0.20.0";
/**
 * Why the pinned KServe cannot serve a model across nodes, or undefined once it can. v0.20.0's
 * predictor reconciler deletes the multi-node worker Deployment and the head/worker Services as
 * "orphaned" in the same reconcile that creates them (pkg/controller/v1beta1/inferenceservice/
 * components/predictor.go 1000-1042: the kept names are the stable and canary predictors only), so the
 * Ray cluster never forms — kserve/kserve#6113, fixed on master by #5899 and not in a release the Go
 * module proxy serves. e2e/test/multiNode.test.ts shows it on the real controller and fails once a
 * KServe pin without it is tried, which is when this becomes undefined.
 */
export const KSERVE_MULTI_NODE_DEFECT: string | undefined =
  `KServe ${KSERVE_VERSION}, which the platform pins, deletes a multi-node predictor's worker Deployment and Services on every reconcile (kserve/kserve#6113, fixed on master by #5899, unreleased): the replica would never form`;
export const KNATIVE_VERSION = "1.23.0";
/**
 * LeaderWorkerSet, which KServe v0.20.0's llmisvc controller builds multi-node models on (go.mod pins
 * sigs.k8s.io/lws v0.8.0; workload_multi_node.go 170-186).
 */
export const LWS_VERSION = "v0.8.0";
export const KEDA_VERSION = "2.20.2";
export const KARPENTER_VERSION = "1.14.1";
/**
 * Kubernetes minors Karpenter 1.14 supports (aws/karpenter-provider-aws v1.14.1
 * hack/docs/compatibilitymatrix_gen/compatibility.yaml: appVersion 1.14.x, min 1.26, max 1.36).
 */
export const KARPENTER_KUBERNETES = { min: "1.26", max: "1.36" } as const;

export const CHARTS = {
  certManager: {
    chart: "cert-manager",
    version: "v1.19.6",
    repository: "https://charts.jetstack.io",
    source: "cert-manager/cert-manager deploy/charts/cert-manager",
    sourceTag: "v1.19.6",
    hasSchema: true,
    defaultsDir: "cert-manager/v1.19.6",
  },
  istioBase: {
    chart: "base",
    version: ISTIO_VERSION,
    repository: "https://istio-release.storage.googleapis.com/charts",
    source: "istio/istio manifests/charts/base",
    sourceTag: ISTIO_VERSION,
    defaultsDir: `base/${ISTIO_VERSION}`,
  },
  istiod: {
    chart: "istiod",
    version: ISTIO_VERSION,
    repository: "https://istio-release.storage.googleapis.com/charts",
    source: "istio/istio manifests/charts/istio-control/istio-discovery",
    sourceTag: ISTIO_VERSION,
    defaultsDir: `istiod/${ISTIO_VERSION}`,
  },
  istioGateway: {
    chart: "gateway",
    version: ISTIO_VERSION,
    repository: "https://istio-release.storage.googleapis.com/charts",
    source: "istio/istio manifests/charts/gateway",
    sourceTag: ISTIO_VERSION,
    hasSchema: true,
    defaultsDir: `gateway/${ISTIO_VERSION}`,
  },
  knativeOperator: {
    chart: "knative-operator",
    version: KNATIVE_VERSION,
    repository: "https://knative.github.io/operator",
    source: "knative/operator config/charts/knative-operator",
    sourceTag: `knative-v${KNATIVE_VERSION}`,
    defaultsDir: `knative-operator/${KNATIVE_VERSION}`,
  },
  keda: {
    chart: "keda",
    version: KEDA_VERSION,
    repository: "https://kedacore.github.io/charts",
    source: "kedacore/charts keda",
    sourceTag: `v${KEDA_VERSION}`,
    defaultsDir: `keda/${KEDA_VERSION}`,
  },
  kserveCrd: {
    chart: "kserve-crd",
    version: KSERVE_VERSION,
    repository: "oci://ghcr.io/kserve/charts",
    source: "kserve/kserve charts/kserve-crd",
    sourceTag: KSERVE_VERSION,
    defaultsDir: `kserve-crd/${KSERVE_VERSION}`,
  },
  kserveResources: {
    chart: "kserve-resources",
    version: KSERVE_VERSION,
    repository: "oci://ghcr.io/kserve/charts",
    source: "kserve/kserve charts/kserve-resources",
    sourceTag: KSERVE_VERSION,
    defaultsDir: `kserve-resources/${KSERVE_VERSION}`,
  },
  kserveRuntimeConfigs: {
    chart: "kserve-runtime-configs",
    version: KSERVE_VERSION,
    repository: "oci://ghcr.io/kserve/charts",
    source: "kserve/kserve charts/kserve-runtime-configs",
    sourceTag: KSERVE_VERSION,
    defaultsDir: `kserve-runtime-configs/${KSERVE_VERSION}`,
  },
  kserveLlmisvcCrd: {
    chart: "kserve-llmisvc-crd",
    version: KSERVE_VERSION,
    repository: "oci://ghcr.io/kserve/charts",
    source: "kserve/kserve charts/kserve-llmisvc-crd",
    sourceTag: KSERVE_VERSION,
    defaultsDir: `kserve-llmisvc-crd/${KSERVE_VERSION}`,
  },
  kserveLlmisvcResources: {
    chart: "kserve-llmisvc-resources",
    version: KSERVE_VERSION,
    repository: "oci://ghcr.io/kserve/charts",
    source: "kserve/kserve charts/kserve-llmisvc-resources",
    sourceTag: KSERVE_VERSION,
    hasSchema: true,
    defaultsDir: `kserve-llmisvc-resources/${KSERVE_VERSION}`,
  },
  nvidiaDevicePlugin: {
    chart: "nvidia-device-plugin",
    version: "0.20.0",
    repository: "https://nvidia.github.io/k8s-device-plugin",
    source: "NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin",
    sourceTag: "v0.20.0",
    defaultsDir: "nvidia-device-plugin/0.20.0",
  },
  dcgmExporter: {
    chart: "dcgm-exporter",
    version: "4.8.2",
    repository: "https://nvidia.github.io/dcgm-exporter/helm-charts",
    source: "NVIDIA/dcgm-exporter deployment",
    sourceTag: "4.5.3-4.8.2",
    defaultsDir: "dcgm-exporter/4.8.2",
  },
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    version: "88.5.3",
    repository: "https://prometheus-community.github.io/helm-charts",
    source: "prometheus-community/helm-charts charts/kube-prometheus-stack",
    sourceTag: "kube-prometheus-stack-88.5.3",
    defaultsDir: "kube-prometheus-stack/88.5.3",
  },
  clusterAutoscaler: {
    chart: "cluster-autoscaler",
    version: "9.59.0",
    repository: "https://kubernetes.github.io/autoscaler",
    source: "kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler",
    sourceTag: "cluster-autoscaler-chart-9.59.0",
    defaultsDir: "cluster-autoscaler/9.59.0",
  },
  awsLoadBalancerController: {
    chart: "aws-load-balancer-controller",
    version: "1.17.1",
    repository: "https://aws.github.io/eks-charts",
    source: "aws/eks-charts stable/aws-load-balancer-controller",
    sourceTag: "9639b8b69c99164b1f09af63427f8046b0634f35",
    defaultsDir: "aws-load-balancer-controller/1.17.1",
  },
  karpenterCrd: {
    chart: "karpenter-crd",
    version: KARPENTER_VERSION,
    repository: "oci://public.ecr.aws/karpenter",
    source: "aws/karpenter-provider-aws charts/karpenter-crd",
    sourceTag: `v${KARPENTER_VERSION}`,
    defaultsDir: `karpenter-crd/${KARPENTER_VERSION}`,
  },
  karpenter: {
    chart: "karpenter",
    version: KARPENTER_VERSION,
    repository: "oci://public.ecr.aws/karpenter",
    source: "aws/karpenter-provider-aws charts/karpenter",
    sourceTag: `v${KARPENTER_VERSION}`,
    defaultsDir: `karpenter/${KARPENTER_VERSION}`,
  },
  // The chart published as oci://registry.k8s.io/lws/charts/lws 0.8.0 (hack/push-chart.sh stamps the
  // release version into the source's Chart.yaml 0.1.0 and its image tag `main`; values set the tag).
  lws: {
    chart: "lws",
    version: LWS_VERSION.replace(/^v/, ""),
    repository: "oci://registry.k8s.io/lws/charts",
    source: "kubernetes-sigs/lws charts/lws",
    sourceTag: LWS_VERSION,
    defaultsDir: `lws/${LWS_VERSION.replace(/^v/, "")}`,
    goModule: { module: "sigs.k8s.io/lws", version: LWS_VERSION, dir: "charts/lws" },
  },
  metricsServer: {
    chart: "metrics-server",
    version: "3.13.1",
    repository: "https://kubernetes-sigs.github.io/metrics-server/",
    source: "kubernetes-sigs/metrics-server charts/metrics-server",
    sourceTag: "metrics-server-helm-chart-3.13.1",
    defaultsDir: "metrics-server/3.13.1",
  },
} as const satisfies Record<string, ChartPin>;

export type ChartKey = keyof typeof CHARTS;

/**
 * Gateway API CRDs (standard channel), which no chart of the platform ships: LLMInferenceService routes
 * through an HTTPRoute on a Gateway API Gateway. KServe v0.20.0 builds against v1.5.1 (go.mod 56); the
 * platform pins v1.6.1, the release whose CRDs the conformance and the e2e check (../shared/crds-extra),
 * a superset of v1.5's v1 kinds. Istio 1.30.3 ignores only CRDs older than its minimums
 * (pkg/config/schema/gatewayapi/minimumversions.go 28-32).
 */
export const GATEWAY_API: {
  readonly version: string;
  readonly url: string;
  readonly crdsExtraDirs: readonly string[];
} = {
  version: "v1.6.1",
  url: "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.1/standard-install.yaml",
  /**
   * The install YAML's documents, one file each, under ../shared/crds-extra (the conformance and the e2e
   * read these): the CRDs, and the "safe-upgrades" ValidatingAdmissionPolicy and binding.
   */
  crdsExtraDirs: ["gateway-api/standard", "gateway-api/non-crd/standard"],
};

/** Serving images the platform pins (KServe's runtime defaults float or are old). */
export const IMAGES = {
  /**
   * The vLLM image llm-d's presets run unless a model sets its own (kserve-runtime-configs v0.20.0
   * files/llmisvcconfigs/resources.yaml 2580): a preset default, not a platform pin.
   */
  llmdCuda: { repository: "ghcr.io/llm-d/llm-d-cuda", tag: "v0.8.0" },
  /** KServe Hugging Face server with vLLM 0.24.0; the `-gpu` tag is CUDA 13.3 (kserve python/huggingface_server.Dockerfile). */
  huggingfaceServer: { repository: "kserve/huggingfaceserver", tag: `${KSERVE_VERSION}-gpu` },
  /** Triton: KServe's default 23.05 is three years old; 25.06 is the last CUDA 12 release (12.9.1). */
  triton: { repository: "nvcr.io/nvidia/tritonserver", tag: "25.06-py3" },
  /** TGI 3.3.7: CUDA 12.8 runtime via PyTorch cu128 (huggingface/text-generation-inference Dockerfile). */
  tgi: { repository: "ghcr.io/huggingface/text-generation-inference", tag: "3.3.7" },
  sklearnServer: { repository: "kserve/sklearnserver", tag: KSERVE_VERSION },
  xgbServer: { repository: "kserve/xgbserver", tag: KSERVE_VERSION },
  lgbServer: { repository: "kserve/lgbserver", tag: KSERVE_VERSION },
  torchserve: { repository: "pytorch/torchserve-kfs", tag: "0.9.0" },
  /** KServe's storage initializer: the same download (and credentials) the predictors use, for batch jobs. */
  storageInitializer: { repository: "kserve/storage-initializer", tag: KSERVE_VERSION },
  /**
   * The EFA device plugin, as aws/eks-charts stable/aws-efa-k8s-device-plugin (chart v0.5.30, appVersion
   * v0.5.20) pulls it: its values.yaml hard-codes the us-west-2 registry of EKS's image account.
   */
  efaDevicePlugin: {
    repository: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-efa-k8s-device-plugin",
    tag: "v0.5.20",
  },
} as const;

/** Cluster Autoscaler image (registry.k8s.io/autoscaling/cluster-autoscaler) per cluster minor: it must
 * match the cluster ("run CA with the same minor"; kubernetes/k8s.io PRs #8815, #9056; chart 9.59.0
 * default v1.35.0). */
export const CLUSTER_AUTOSCALER_TAGS: Record<string, string> = {
  "1.32": "v1.32.5",
  "1.33": "v1.33.3",
  "1.34": "v1.34.3",
  "1.35": "v1.35.0",
  "1.36": "v1.36.1",
};

/**
 * CRD files by kind, named `<dir>/<group>_<plural>.yaml` as upstream names them. They are read from
 * ../shared/crds, else from the cache `npm run crds` fills from CRD_SOURCES.
 */
export const CRD_FILES = {
  "serving.kserve.io/InferenceService": "kserve/serving.kserve.io_inferenceservices.yaml",
  "serving.kserve.io/ServingRuntime": "kserve/serving.kserve.io_servingruntimes.yaml",
  "serving.kserve.io/ClusterServingRuntime": "kserve/serving.kserve.io_clusterservingruntimes.yaml",
  "serving.kserve.io/TrainedModel": "kserve/serving.kserve.io_trainedmodels.yaml",
  "serving.kserve.io/LLMInferenceService": "kserve/serving.kserve.io_llminferenceservices.yaml",
  "serving.kserve.io/LLMInferenceServiceConfig": "kserve/serving.kserve.io_llminferenceserviceconfigs.yaml",
  "gateway.networking.k8s.io/Gateway": "gateway-api/standard/gateway.networking.k8s.io_gateways.yaml",
  "keda.sh/ScaledObject": "keda/keda.sh_scaledobjects.yaml",
  "keda.sh/TriggerAuthentication": "keda/keda.sh_triggerauthentications.yaml",
  "networking.istio.io/VirtualService": "istio/networking.istio.io_virtualservices.yaml",
  "networking.istio.io/DestinationRule": "istio/networking.istio.io_destinationrules.yaml",
  "networking.istio.io/Gateway": "istio/networking.istio.io_gateways.yaml",
  "security.istio.io/PeerAuthentication": "istio/security.istio.io_peerauthentications.yaml",
  "security.istio.io/AuthorizationPolicy": "istio/security.istio.io_authorizationpolicies.yaml",
  "security.istio.io/RequestAuthentication": "istio/security.istio.io_requestauthentications.yaml",
  "serving.knative.dev/Service": "knative/serving.knative.dev_services.yaml",
  "operator.knative.dev/KnativeServing": "knative/operator.knative.dev_knativeservings.yaml",
  "monitoring.coreos.com/PodMonitor": "prometheus-operator/monitoring.coreos.com_podmonitors.yaml",
  "monitoring.coreos.com/ServiceMonitor": "prometheus-operator/monitoring.coreos.com_servicemonitors.yaml",
  "monitoring.coreos.com/PrometheusRule": "prometheus-operator/monitoring.coreos.com_prometheusrules.yaml",
  // Karpenter's CRDs ship in its chart (../shared/helm-charts/karpenter/<version>/crds).
  "karpenter.sh/NodePool": `karpenter/${KARPENTER_VERSION}/crds/karpenter.sh_nodepools.yaml`,
  "karpenter.k8s.aws/EC2NodeClass": `karpenter/${KARPENTER_VERSION}/crds/karpenter.k8s.aws_ec2nodeclasses.yaml`,
} as const;

/** kube-prometheus-stack 88.5.3 ships prometheus-operator (and its CRDs) at this version. */
export const PROMETHEUS_OPERATOR_VERSION = "v0.93.1";

export interface CrdSource {
  /** Folder under the CRD cache the documents are written to. */
  readonly dir: string;
  /** Upstream URL at the pinned tag: a single CRD or a multi-document bundle. */
  readonly url: string;
}

const raw = (repo: string, tag: string, file: string) =>
  `https://raw.githubusercontent.com/${repo}/${tag}/${file}`;

/** Where `npm run crds` downloads each pinned CRD from; bundles are split into one file per CRD. */
export const CRD_SOURCES: readonly CrdSource[] = [
  ...["inferenceservices", "servingruntimes", "clusterservingruntimes", "trainedmodels"].map((plural) => ({
    dir: "kserve",
    url: raw("kserve/kserve", KSERVE_VERSION, `config/crd/full/serving.kserve.io_${plural}.yaml`),
  })),
  ...["llminferenceservices", "llminferenceserviceconfigs"].map((plural) => ({
    dir: "kserve",
    url: raw("kserve/kserve", KSERVE_VERSION, `config/crd/full/llmisvc/serving.kserve.io_${plural}.yaml`),
  })),
  ...["scaledobjects", "triggerauthentications", "clustertriggerauthentications"].map((plural) => ({
    dir: "keda",
    url: raw("kedacore/keda", `v${KEDA_VERSION}`, `config/crd/bases/keda.sh_${plural}.yaml`),
  })),
  { dir: "istio", url: raw("istio/istio", ISTIO_VERSION, "manifests/charts/base/files/crd-all.gen.yaml") },
  {
    dir: "knative",
    url: `https://github.com/knative/serving/releases/download/knative-v${KNATIVE_VERSION}/serving-crds.yaml`,
  },
  {
    dir: "knative",
    url: `https://github.com/knative/operator/releases/download/knative-v${KNATIVE_VERSION}/operator.yaml`,
  },
  ...["podmonitors", "servicemonitors", "prometheusrules"].map((plural) => ({
    dir: "prometheus-operator",
    url: raw(
      "prometheus-operator/prometheus-operator",
      PROMETHEUS_OPERATOR_VERSION,
      `example/prometheus-operator-crd/monitoring.coreos.com_${plural}.yaml`,
    ),
  })),
  ...["karpenter.sh_nodepools", "karpenter.k8s.aws_ec2nodeclasses"].map((file) => ({
    dir: `karpenter/${KARPENTER_VERSION}/crds`,
    url: raw("aws/karpenter-provider-aws", `v${KARPENTER_VERSION}`, `pkg/apis/crds/${file}.yaml`),
  })),
];
