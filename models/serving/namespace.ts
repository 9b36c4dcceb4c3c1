/**
 * Objects every model namespace gets: sidecar injection, STRICT mTLS, who may call the predictors,
 * NetworkPolicies, the Secrets its models reference, and the PodMonitor that scrapes model metrics.
 */
import type { Input } from "@pulumi/pulumi";
import type { K8sObject } from "../k8s";
import { PART_OF } from "../k8s";
import { PROMETHEUS_RELEASE } from "../addons/monitoring";

export const NAMESPACES = {
  istio: "istio-system",
  knative: "knative-serving",
  monitoring: "monitoring",
  kserve: "kserve",
  keda: "keda",
} as const;

/** The key under which a platform secret's value is stored in its Kubernetes Secret. */
const SECRET_KEY = "token";

export function secretObjectName(secretName: string): string {
  return secretName
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
}

export function namespaceObjects(namespace: string): K8sObject[] {
  const labels = { ...PART_OF, "inference-platform/models": "true" };
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace, labels: { ...labels, "istio-injection": "enabled" } },
    },
    {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace, labels },
      spec: { mtls: { mode: "STRICT" } },
    },
    {
      // Only the ingress gateway, Knative's activator and the namespace itself may call predictors.
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-platform", namespace, labels },
      spec: {
        action: "ALLOW",
        rules: [{ from: [{ source: { namespaces: [NAMESPACES.istio, NAMESPACES.knative, namespace] } }] }],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-platform-ingress", namespace, labels },
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [NAMESPACES.istio, NAMESPACES.knative, NAMESPACES.monitoring, namespace].map((ns) => ({
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
            })),
          },
        ],
      },
    },
    {
      // Istio merges the app's metrics into the sidecar's plaintext port 15020, so Prometheus can scrape
      // pods whose serving port is STRICT mTLS.
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: {
        name: "inference-services",
        namespace,
        labels: { ...labels, release: PROMETHEUS_RELEASE },
      },
      spec: {
        selector: { matchExpressions: [{ key: "serving.kserve.io/inferenceservice", operator: "Exists" }] },
        podMetricsEndpoints: [{ targetPort: 15020, path: "/stats/prometheus", interval: "15s" }],
      },
    },
  ];
}

/** The env var that hands a platform secret (a Secret from secretObject) to a container as HF_TOKEN. */
export function hfTokenEnv(secretObjectName: string) {
  return { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: secretObjectName, key: SECRET_KEY } } };
}

export function secretObject(namespace: string, secretName: string, value: Input<string>): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretObjectName(secretName), namespace, labels: { ...PART_OF } },
    type: "Opaque",
    stringData: { [SECRET_KEY]: value },
  };
}
