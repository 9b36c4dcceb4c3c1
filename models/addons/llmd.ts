/**
 * llm-d serving (KServe's LLMInferenceService), installed only when a model uses it:
 *   kserve-llmisvc-crd — its CRDs, and before them Gateway API's CRDs (standard channel), which the
 *     controller only watches if they exist when it starts (llmisvc controller.go 428-454);
 *   kserve-llmisvc-resources — the llmisvc controller and webhooks, and the Gateway API Inference
 *     Extension CRDs (InferencePool) at the version KServe bundles (createGIECRDs);
 *   the Gateway API Gateway its HTTPRoutes attach to.
 * The presets ship in kserve-runtime-configs (llmisvcConfigs) and istiod turns on InferencePool support
 * (models/addons/kserve.ts, istio.ts).
 */
import { customObject, PART_OF } from "../k8s";
import { CHARTS, GATEWAY_API } from "../versions";
import { LLMD_GATEWAY } from "../serving/llmInferenceService";
import { INGRESS_GATEWAY_SERVICE } from "./istio";
import type { AddonContext, AddonSpec } from "./types";
import type * as crds from "../crds";

export function kserveLlmisvcCrd(): AddonSpec {
  return {
    name: "kserve-llmisvc-crd",
    namespace: "kserve",
    chart: CHARTS.kserveLlmisvcCrd,
    values: {},
    manifests: [{ name: "gateway-api-crds", ...GATEWAY_API }],
    dependsOn: [],
    timeoutSeconds: 300,
    ownsCrds: true,
  };
}

/**
 * The Gateway llm-d routes attach to, served by the platform's existing Istio ingress gateway: one
 * Hostname address makes it a manual deployment — istiod programs that gateway's pods instead of
 * deploying new ones (istio 1.30.3 pilot/pkg/config/kube/gatewaycommon/gateway_utils.go 64-77) — so
 * llm-d traffic enters through the same internal load balancer and JWT check as the other models.
 * Routes may attach from model namespaces only.
 */
function llmdGateway(ctx: Pick<AddonContext, "domain" | "modelNamespaces">) {
  return customObject("gateway.networking.k8s.io/v1/Gateway", {
    metadata: { name: LLMD_GATEWAY.name, namespace: LLMD_GATEWAY.namespace, labels: { ...PART_OF } },
    spec: {
      gatewayClassName: "istio",
      addresses: [hostnameAddress(INGRESS_GATEWAY_SERVICE)],
      listeners: [
        {
          name: "http",
          port: 80,
          protocol: "HTTP",
          hostname: `*.${ctx.domain}`,
          allowedRoutes: {
            namespaces: {
              from: "Selector",
              selector: {
                matchExpressions: [
                  { key: "kubernetes.io/metadata.name", operator: "In", values: [...ctx.modelNamespaces] },
                ],
              },
            },
          },
        },
      ],
    },
  });
}

type GatewayAddress = NonNullable<NonNullable<crds.GatewayApiGateway["spec"]>["addresses"]>[number];

/**
 * A Hostname address. The CRD says "any type but IPAddress" with a oneOf/not the generated type cannot
 * express (it keeps only the IPAddress branch's fields), hence the one cast; the e2e's API server checks it.
 */
function hostnameAddress(value: string): GatewayAddress {
  return { type: "Hostname", value } as unknown as GatewayAddress;
}

export function kserveLlmisvcResources(ctx: AddonContext): AddonSpec {
  return {
    name: "kserve-llmisvc-resources",
    namespace: "kserve",
    chart: CHARTS.kserveLlmisvcResources,
    values: {
      kserve: {
        // The shared ConfigMap, Issuer and storage container come from kserve-resources.
        createSharedResources: false,
        llmisvc: {
          createGIECRDs: true,
          // Its LeaderWorkerSet watch is set up at start only when the CRD exists (controller.go
          // 454-456): when the first model over several nodes brings LeaderWorkerSet to a running stack,
          // this annotation rolls the controller so it watches the groups' status.
          ...(ctx.usesMultiNodeLlmd
            ? { controller: { podAnnotations: { "inference-platform/leaderworkerset": "watched" } } }
            : {}),
        },
      },
    },
    // LeaderWorkerSet first when a model spans nodes: the controller watches its kind only if the CRD
    // exists when it starts (llmisvc controller.go 454-456).
    dependsOn: [
      "cert-manager",
      "kserve-resources",
      "kserve-llmisvc-crd",
      "istiod",
      ...(ctx.usesMultiNodeLlmd ? (["lws"] as const) : []),
    ],
    timeoutSeconds: 600,
    objects: [llmdGateway(ctx)],
    ownsCrds: true,
  };
}
