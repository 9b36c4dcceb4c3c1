/**
 * Objects every model namespace gets: sidecar injection, STRICT mTLS, who may call the predictors,
 * NetworkPolicies, the Secrets its models reference, and the PodMonitor that scrapes model metrics.
 */
import type { Input } from "@pulumi/pulumi";
import type { K8sObject } from "../k8s";
import { ENVIRONMENT_LABEL, coreObject, customObject, PART_OF } from "../k8s";
import { PROMETHEUS_RELEASE } from "../addons/monitoring";
import { podSecurityLabels, SIDECAR_LIMIT } from "../addons/podSecurity";
import { modelNetworkPolicies } from "./networkPolicies";
import type * as crds from "../crds";

export const NAMESPACES = {
  istio: "istio-system",
  knative: "knative-serving",
  monitoring: "monitoring",
  kserve: "kserve",
  keda: "keda",
} as const;

/**
 * The data key under which a Hugging Face token is stored: the key KServe's credential builder looks for
 * in the Secrets a model's ServiceAccount lists (kserve pkg/credentials/hf/hf_secret.go 24), and hands
 * to the storage initializer as HF_TOKEN. Batch jobs read the same Secret and key.
 */
export const HF_TOKEN_KEY = "HF_TOKEN";

export function secretObjectName(secretName: string): string {
  return secretName
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
}

/** The one port the injected istio-proxy container declares (istiod chart files/injection-template.yaml). */
export const ISTIO_PROXY_METRICS_PORT_NAME = "http-envoy-prom";
/** Its number: Envoy's own stats. */
export const ISTIO_PROXY_METRICS_PORT = 15090;
/** The sidecar agent's status port, where `enablePrometheusMerge` serves app + Envoy metrics. */
export const ISTIO_MERGED_METRICS_PORT = 15020;

export function namespaceObjects(
  namespace: string,
  environment: string,
  kubernetesVersion: string,
  /** Some model of the namespace is served through llm-d: its pods are scraped too. */
  servesLlmd = false,
): K8sObject[] {
  const labels = { ...PART_OF, "inference-platform/models": "true", [ENVIRONMENT_LABEL]: environment };
  return [
    coreObject("v1/Namespace", {
      metadata: {
        name: namespace,
        labels: {
          ...labels,
          "istio-injection": "enabled",
          // Sidecars cap it (SIDECAR_LIMIT); warn baseline and audit restricted show what remains.
          ...podSecurityLabels(SIDECAR_LIMIT.level, kubernetesVersion),
        },
      },
    }),
    customObject("security.istio.io/v1/PeerAuthentication", {
      metadata: { name: "default", namespace, labels },
      spec: { mtls: { mode: "STRICT" } },
    }),
    // Only the ingress gateway, Knative's activator and the namespace itself may call predictors.
    customObject("security.istio.io/v1/AuthorizationPolicy", {
      metadata: { name: "allow-platform", namespace, labels },
      spec: {
        action: "ALLOW",
        rules: [{ from: [{ source: { namespaces: [NAMESPACES.istio, NAMESPACES.knative, namespace] } }] }],
      },
    }),
    ...modelNetworkPolicies({
      namespace,
      labels,
      callers: [NAMESPACES.istio, NAMESPACES.knative, NAMESPACES.monitoring],
      istioNamespace: NAMESPACES.istio,
      knativeNamespace: NAMESPACES.knative,
      ...(servesLlmd
        ? {
            llmd: {
              selector: LLMD_WORKLOAD_SELECTOR,
              excludeLabel: {
                key: "kserve.io/component",
                value: LLMD_WORKLOAD_SELECTOR.matchLabels["kserve.io/component"],
              },
              // kserve v0.20.0 workload_multi_node.go 139-143, constants.go 420, 445.
              workerLabel: {
                key: "app.kubernetes.io/component",
                value: "llminferenceservice-workload-worker",
              },
              servingPort: LLMD_SERVING_PORT,
              monitoring: {
                namespace: NAMESPACES.monitoring,
                ports: [ISTIO_MERGED_METRICS_PORT, ISTIO_PROXY_METRICS_PORT],
              },
            },
          }
        : {}),
    }),
    mergedMetricsPodMonitor(namespace, labels, "inference-services", {
      matchExpressions: [{ key: "serving.kserve.io/inferenceservice", operator: "Exists" }],
    }),
    ...(servesLlmd
      ? [
          mergedMetricsPodMonitor(namespace, labels, "llm-d-workloads", LLMD_WORKLOAD_SELECTOR),
          ...llmdPodIpTraffic(namespace, labels),
        ]
      : []),
  ];
}

/** The name of the objects that let llm-d's pod-IP requests reach its serving port. */
export const LLMD_POD_IP_TRAFFIC = "llm-d-pod-ip-traffic";

/**
 * llm-d's endpoint picker scrapes each pod at podIP:8000 and a decode pod sends prompts to its prefill
 * pod at podIP:8000, which Istio's sidecars send in plaintext (models/serving/llmInferenceService.ts). On
 * llm-d pods, that port alone also accepts plaintext, and from any caller the NetworkPolicies let in
 * (allow-llm-d-ingress: the gateway's namespace and the model namespace itself): an ALLOW rule on
 * namespaces cannot match a request without a peer identity. The gateway's own requests still arrive over
 * mTLS (Istio's auto mTLS to sidecar'd endpoints); ports that go through the sidecar stay STRICT.
 */
function llmdPodIpTraffic(namespace: string, labels: Record<string, string>): K8sObject[] {
  const port = String(LLMD_SERVING_PORT);
  return [
    customObject("security.istio.io/v1/PeerAuthentication", {
      metadata: { name: LLMD_POD_IP_TRAFFIC, namespace, labels },
      spec: {
        selector: LLMD_WORKLOAD_SELECTOR,
        mtls: { mode: "STRICT" },
        portLevelMtls: { [port]: { mode: "PERMISSIVE" } },
      },
    }),
    customObject("security.istio.io/v1/AuthorizationPolicy", {
      metadata: { name: LLMD_POD_IP_TRAFFIC, namespace, labels },
      spec: {
        selector: LLMD_WORKLOAD_SELECTOR,
        action: "ALLOW",
        rules: [{ to: [{ operation: { ports: [port] } }] }],
      },
    }),
  ];
}

/**
 * The vLLM pods KServe's llmisvc controller creates (decode and prefill): it labels them with these
 * (pkg/controller/v1alpha2/llmisvc/workload_single_node.go 95-97, 503-509; constants.go 419-439).
 */
export const LLMD_WORKLOAD_SELECTOR = {
  matchLabels: { "kserve.io/component": "workload", "app.kubernetes.io/part-of": "llminferenceservice" },
};

/**
 * The port llm-d's presets serve on (vLLM, or the P/D routing sidecar in front of it: kserve-runtime-configs
 * v0.20.0 files/llmisvcconfigs/resources.yaml 242, 2562) and the InferencePool's target port (2056).
 */
export const LLMD_SERVING_PORT = 8000;

/**
 * Prometheus scrapes the sidecar's plaintext port 15020, where Istio merges the model server's own
 * metrics (the prometheus.io annotations on predictor pods) with Envoy's. 15020 is not a declared
 * container port, and prometheus-operator keeps only declared ports (v0.93.1 pkg/prometheus/promcfg.go
 * 1569-1598), so select the sidecar's one declared port and rewrite the address to 15020, as Istio's
 * own prometheus-operator sample does (samples/addons/extras/prometheus-operator.yaml, 1.30.3).
 */
function mergedMetricsPodMonitor(
  namespace: string,
  labels: Record<string, string>,
  name: string,
  selector: NonNullable<NonNullable<crds.PodMonitor["spec"]>["selector"]>,
): K8sObject {
  return customObject("monitoring.coreos.com/v1/PodMonitor", {
    metadata: { name, namespace, labels: { ...labels, release: PROMETHEUS_RELEASE } },
    spec: {
      selector,
      podMetricsEndpoints: [
        {
          port: ISTIO_PROXY_METRICS_PORT_NAME,
          path: "/stats/prometheus",
          interval: "15s",
          relabelings: [
            {
              sourceLabels: ["__meta_kubernetes_pod_ip"],
              regex: "(.+:.+)",
              targetLabel: "__address__",
              replacement: `[$1]:${ISTIO_MERGED_METRICS_PORT}`,
              action: "replace",
            },
            {
              sourceLabels: ["__meta_kubernetes_pod_ip"],
              regex: "([0-9.]+)",
              targetLabel: "__address__",
              replacement: `$1:${ISTIO_MERGED_METRICS_PORT}`,
              action: "replace",
            },
          ],
        },
      ],
    },
  });
}

/** The env var that hands a Hugging Face token Secret (from secretObject) to a container as HF_TOKEN. */
export function hfTokenEnv(secretObjectName: string) {
  return { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: secretObjectName, key: HF_TOKEN_KEY } } };
}

export function secretObject(namespace: string, secretName: string, value: Input<string>): K8sObject {
  return coreObject("v1/Secret", {
    metadata: { name: secretObjectName(secretName), namespace, labels: { ...PART_OF } },
    type: "Opaque",
    stringData: { [HF_TOKEN_KEY]: value },
  });
}
