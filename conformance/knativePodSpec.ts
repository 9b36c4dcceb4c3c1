/**
 * What Knative Serving admits in a Knative Service's pod template, for Knative-mode InferenceServices:
 * KServe copies the predictor's pod-level fields into the Knative Service unchanged (kserve v0.20.0
 * predictor.go 432, utils.go MergePodSpec), and Knative's webhook refuses every field its mask does not
 * carry over (knative.dev/serving v0.50.0 pkg/apis/serving/fieldmask.go PodSpecMask 222-301,
 * k8s_validation.go 409) — so the InferenceService is accepted and never becomes Ready.
 * The check projects each predictor onto that mask with the feature flags the stack's KnativeServing sets.
 */

/** PodSpec fields Knative always carries over (fieldmask.go 231-239; automountServiceAccountToken only when false). */
const ALWAYS: readonly string[] = [
  "serviceAccountName",
  "containers",
  "volumes",
  "imagePullSecrets",
  "enableServiceLinks",
];

/** PodSpec fields behind a config-features flag (fieldmask.go 242-292; defaults: features.go defaultFeaturesConfig, all Disabled). */
const BY_FEATURE: Readonly<Record<string, string>> = {
  affinity: "kubernetes.podspec-affinity",
  topologySpreadConstraints: "kubernetes.podspec-topologyspreadconstraints",
  hostAliases: "kubernetes.podspec-hostaliases",
  nodeSelector: "kubernetes.podspec-nodeselector",
  runtimeClassName: "kubernetes.podspec-runtimeclassname",
  tolerations: "kubernetes.podspec-tolerations",
  securityContext: "kubernetes.podspec-securitycontext",
  shareProcessNamespace: "kubernetes.podspec-shareprocessnamespace",
  priorityClassName: "kubernetes.podspec-priorityclassname",
  schedulerName: "kubernetes.podspec-schedulername",
  initContainers: "kubernetes.podspec-init-containers",
  dnsPolicy: "kubernetes.podspec-dnspolicy",
  dnsConfig: "kubernetes.podspec-dnsconfig",
  hostIPC: "kubernetes.podspec-hostipc",
  hostPID: "kubernetes.podspec-hostpid",
  hostNetwork: "kubernetes.podspec-hostnetwork",
};

/** Every field of a Kubernetes v1.34 PodSpec: the predictor keys KServe treats as pod fields. */
const POD_SPEC_FIELDS: readonly string[] = [
  "activeDeadlineSeconds",
  "affinity",
  "automountServiceAccountToken",
  "containers",
  "dnsConfig",
  "dnsPolicy",
  "enableServiceLinks",
  "ephemeralContainers",
  "hostAliases",
  "hostIPC",
  "hostNetwork",
  "hostPID",
  "hostUsers",
  "hostname",
  "hostnameOverride",
  "imagePullSecrets",
  "initContainers",
  "nodeName",
  "nodeSelector",
  "os",
  "overhead",
  "preemptionPolicy",
  "priority",
  "priorityClassName",
  "readinessGates",
  "resourceClaims",
  "resources",
  "restartPolicy",
  "runtimeClassName",
  "schedulerName",
  "schedulingGates",
  "securityContext",
  "serviceAccount",
  "serviceAccountName",
  "setHostnameAsFQDN",
  "shareProcessNamespace",
  "subdomain",
  "terminationGracePeriodSeconds",
  "tolerations",
  "topologySpreadConstraints",
  "volumes",
];

/**
 * Problems of one Knative-mode predictor against Knative's mask, given the stack's config-features
 * (`enabled` / `allowed` turn a field on). Empty when Knative would admit it.
 */
export function knativePodSpecProblems(
  predictor: Record<string, unknown>,
  features: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  for (const field of Object.keys(predictor)) {
    if (!POD_SPEC_FIELDS.includes(field) || ALWAYS.includes(field)) continue;
    if (field === "automountServiceAccountToken" && predictor[field] === false) continue;
    const flag = BY_FEATURE[field];
    const on = flag !== undefined && ["enabled", "allowed"].includes(features[flag] ?? "disabled");
    if (on) continue;
    problems.push(
      flag
        ? `spec.predictor.${field}: Knative refuses it in a Knative Service unless config-features ${flag} is enabled (must not set the field(s): spec.template.spec.${field})`
        : `spec.predictor.${field}: Knative never allows it in a Knative Service (must not set the field(s): spec.template.spec.${field}); KServe copies it there unchanged`,
    );
  }
  return problems;
}
