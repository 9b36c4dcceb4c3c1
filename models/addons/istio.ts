/**
 * Istio base → istiod → ingress gateway (one version for all three). The gateway is an internal NLB
 * unless config makes it public; a public gateway requires JWT request authentication.
 */
import { ONE_AT_A_TIME, PLATFORM_PRIORITY_CLASS, highlyAvailable } from "./highAvailability";
import type { K8sObject } from "../k8s";
import { customObject, PART_OF } from "../k8s";
import { CHARTS } from "../versions";
import { PROMETHEUS_RELEASE } from "./monitoring";
import type { AddonContext, AddonSpec } from "./types";
import { LLMD_GATEWAY } from "../serving/llmInferenceService";

export const INGRESS_GATEWAY_LABEL = { istio: "ingressgateway" };
/** The label naming the Gateway API Gateway a gateway pod serves (istio's label.IoK8sNetworkingGatewayGatewayName). */
export const GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";
/** The ingress gateway's Service (the gateway chart names it after the release, istio-ingressgateway). */
export const INGRESS_GATEWAY_SERVICE = "istio-ingressgateway.istio-system.svc.cluster.local";

export function istioBase(): AddonSpec {
  return {
    name: "istio-base",
    namespace: "istio-system",
    chart: CHARTS.istioBase,
    values: { defaultRevision: "default" },
    dependsOn: [],
    timeoutSeconds: 300,
    ownsCrds: true,
  };
}

export function istiod(ctx: Pick<AddonContext, "environment" | "usesLlmd">): AddonSpec {
  return {
    name: "istiod",
    namespace: "istio-system",
    chart: CHARTS.istiod,
    values: {
      meshConfig: { accessLogFile: "/dev/stdout", enablePrometheusMerge: true },
      autoscaleMin: 2,
      resources: { requests: { cpu: "500m", memory: "2Gi" } },
      // llm-d's HTTPRoutes point at an InferencePool, which istiod refuses unless this is on (istio
      // 1.30.3 pilot/pkg/features/experimental.go 208, pilot/pkg/config/kube/gateway/conversion.go 1137-1143).
      ...(ctx.usesLlmd ? { env: { ENABLE_GATEWAY_API_INFERENCE_EXTENSION: "true" } } : {}),
      // Used by istiod's own Deployment only, not by injected sidecars (istiod 1.30.3 values.yaml 331).
      ...(highlyAvailable(ctx) ? { global: { priorityClassName: PLATFORM_PRIORITY_CLASS } } : {}),
    },
    dependsOn: ["istio-base"],
    timeoutSeconds: 600,
    ownsCrds: false,
  };
}

/**
 * TLS at the gateway's NLB (AWS Load Balancer Controller Service annotations aws-load-balancer-ssl-cert,
 * -ssl-ports, -ssl-negotiation-policy): clients reach 443 only; the NLB forwards to the gateway's plain
 * port 80, where the Istio Gateway's HTTP server listens. TLS 1.2 and 1.3 only.
 */
export const GATEWAY_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

function gatewayTls(certificateArn: string, isPublic: boolean) {
  return {
    annotations: {
      "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": certificateArn,
      "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "https",
      "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": GATEWAY_TLS_POLICY,
    },
    // The chart's defaults (gateway 1.30.3 values.yaml 49-61) without the plaintext listener; a public NLB
    // gets no status port either (the controller makes a listener per Service port; its health check
    // uses the traffic port).
    ports: [
      ...(isPublic ? [] : [{ name: "status-port", port: 15021, protocol: "TCP", targetPort: 15021 }]),
      { name: "https", port: 443, protocol: "TCP", targetPort: 80 },
    ],
  };
}

export function istioIngressGateway(ctx: AddonContext): AddonSpec {
  const isPublic = ctx.addons.istio.publicIngress;
  const cert = ctx.clusterMode === "eks" ? ctx.addons.istio.tlsCertificateArn : undefined;
  const tls = cert ? gatewayTls(cert, isPublic) : undefined;
  const awsLb =
    ctx.clusterMode === "eks"
      ? {
          "service.beta.kubernetes.io/aws-load-balancer-type": "external",
          "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
          "service.beta.kubernetes.io/aws-load-balancer-scheme": isPublic ? "internet-facing" : "internal",
          ...tls?.annotations,
        }
      : {};
  const objects = gatewayObjects(ctx);
  return {
    name: "istio-ingressgateway",
    namespace: "istio-system",
    chart: CHARTS.istioGateway,
    // The chart labels the pods istio=<release name without "istio-">, i.e. istio=ingressgateway.
    values: {
      service: {
        type: ctx.clusterMode === "eks" ? "LoadBalancer" : "ClusterIP",
        annotations: awsLb,
        ...(tls ? { ports: tls.ports } : {}),
      },
      autoscaling: { minReplicas: highlyAvailable(ctx) ? 3 : 1 },
      // llm-d: istiod adds the endpoint picker's ext_proc filter only on gateway pods labelled with the
      // Gateway API Gateway they serve (istio 1.30.3 pilot/pkg/networking/core/listener_builder.go
      // 414-418); without it requests would go round-robin over the InferencePool. Selector-based
      // policies on these pods (the JWT objects below) still apply to a labelled gateway
      // (ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY defaults to true: pilot/pkg/features/pilot.go 274,
      // pilot/pkg/model/policyattachment.go 126-148). The chart puts labels on the pods and the Service.
      ...(ctx.usesLlmd ? { labels: { [GATEWAY_NAME_LABEL]: LLMD_GATEWAY.name } } : {}),
      // Rendered only with more than one replica and a non-empty value (gateway 1.30.3
      // templates/poddisruptionbudget.yaml 1-3).
      ...(highlyAvailable(ctx)
        ? { podDisruptionBudget: ONE_AT_A_TIME, priorityClassName: PLATFORM_PRIORITY_CLASS }
        : {}),
    },
    // On EKS the gateway's NLB comes from the AWS Load Balancer Controller, which must run first.
    dependsOn: [
      "istiod",
      ...(ctx.clusterMode === "eks" ? (["aws-load-balancer-controller"] as const) : []),
      ...(ctx.addons.monitoring.enabled ? (["kube-prometheus-stack"] as const) : []),
    ],
    timeoutSeconds: 600,
    objects,
    ownsCrds: false,
  };
}
/**
 * The objects around the ingress gateway: its Istio Gateway for the model hosts, a PodMonitor on its
 * Envoy stats when monitoring is on, and JWT request authentication that token-less requests cannot
 * bypass when config sets it.
 */
function gatewayObjects(ctx: AddonContext): K8sObject[] {
  const objects: K8sObject[] = [
    customObject("networking.istio.io/v1/Gateway", {
      metadata: { name: "inference-gateway", namespace: "istio-system", labels: { ...PART_OF } },
      spec: {
        selector: INGRESS_GATEWAY_LABEL,
        servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: [`*.${ctx.domain}`] }],
      },
    }),
  ];
  if (ctx.addons.monitoring.enabled)
    // The gateway's Envoy stats (istio_requests_total per destination Service): the wake-up signal of
    // models scaled to zero in Standard mode, and the traffic the gateway sees. The gateway pods
    // declare 15090 http-envoy-prom (gateway chart templates/deployment.yaml).
    objects.push(
      customObject("monitoring.coreos.com/v1/PodMonitor", {
        metadata: {
          name: "ingress-gateway",
          namespace: "istio-system",
          labels: { ...PART_OF, release: PROMETHEUS_RELEASE },
        },
        spec: {
          selector: { matchLabels: INGRESS_GATEWAY_LABEL },
          podMetricsEndpoints: [{ port: "http-envoy-prom", path: "/stats/prometheus", interval: "15s" }],
        },
      }),
    );
  const jwt = ctx.addons.istio.jwt;
  if (jwt) {
    objects.push(
      customObject("security.istio.io/v1/RequestAuthentication", {
        metadata: { name: "inference-gateway-jwt", namespace: "istio-system", labels: { ...PART_OF } },
        spec: {
          selector: { matchLabels: INGRESS_GATEWAY_LABEL },
          jwtRules: [
            {
              issuer: jwt.issuer,
              jwksUri: jwt.jwksUri,
              ...(jwt.audiences.length ? { audiences: jwt.audiences } : {}),
              forwardOriginalToken: false,
            },
          ],
        },
      }),
      // RequestAuthentication alone lets token-less requests through; this denies them.
      customObject("security.istio.io/v1/AuthorizationPolicy", {
        metadata: {
          name: "inference-gateway-require-jwt",
          namespace: "istio-system",
          labels: { ...PART_OF },
        },
        spec: {
          selector: { matchLabels: INGRESS_GATEWAY_LABEL },
          action: "DENY",
          rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }],
        },
      }),
    );
  }
  return objects;
}
