/**
 * Knative Serving through the Knative Operator, with net-istio. Pod-spec features are enabled so GPU
 * models can carry nodeSelector, tolerations and affinity; the progress deadline covers large models.
 */
import { coreObject, customObject, PART_OF } from "../k8s";
import { CHARTS, KNATIVE_VERSION } from "../versions";
import type { AddonSpec } from "./types";
import { addonNamespaceLevel, podSecurityLabels } from "./podSecurity";

export function knative(domain: string, kubernetesVersion: string): AddonSpec {
  return {
    name: "knative-operator",
    namespace: "knative-operator",
    chart: CHARTS.knativeOperator,
    values: {},
    dependsOn: ["istiod"],
    timeoutSeconds: 600,
    ownsCrds: true,
    objects: [
      coreObject("v1/Namespace", {
        metadata: {
          name: "knative-serving",
          labels: {
            ...PART_OF,
            "istio-injection": "enabled",
            ...podSecurityLabels(addonNamespaceLevel("knative-serving", true), kubernetesVersion),
          },
        },
      }),
      customObject("operator.knative.dev/v1beta1/KnativeServing", {
        metadata: {
          name: "knative-serving",
          namespace: "knative-serving",
          labels: { ...PART_OF },
          // KServe must not start before Serving is installed: its manager decides at startup whether to
          // watch Knative Services, and an InferenceService reconciled while the ksvc CRD is missing fails
          // terminally, without a requeue (kserve v0.20.0 pkg/controller/v1beta1/inferenceservice/
          // controller.go:239-256, 629). The operator installs Serving asynchronously after this CR is
          // created, so Pulumi waits for Ready (pulumi-kubernetes pkg/metadata/overrides.go ReadyCondition)
          // before the kserve-resources release, which depends on this object.
          annotations: { "pulumi.com/waitFor": "condition=Ready" },
        },
        spec: {
          version: KNATIVE_VERSION,
          ingress: { istio: { enabled: true } },
          config: {
            domain: { [domain]: "" },
            features: {
              "kubernetes.podspec-nodeselector": "enabled",
              "kubernetes.podspec-tolerations": "enabled",
              "kubernetes.podspec-affinity": "enabled",
              "kubernetes.podspec-topologyspreadconstraints": "enabled",
              "kubernetes.podspec-persistent-volume-claim": "enabled",
              "kubernetes.podspec-persistent-volume-write": "enabled",
            },
            // Model images are large and model loads slow: don't fail a revision after Knative's 10 minutes.
            deployment: {
              "progress-deadline": "1800s",
              "registries-skipping-tag-resolving": "nvcr.io,index.docker.io,ghcr.io",
            },
            autoscaler: { "enable-scale-to-zero": "true", "scale-to-zero-grace-period": "60s" },
          },
        },
      }),
    ],
  };
}
