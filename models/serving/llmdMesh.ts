/**
 * llm-d inside the platform's Istio mesh: the names KServe's llmisvc controller gives what it makes
 * around a model, and what lets llm-d's components reach each other under STRICT mTLS.
 */
import type { K8sObject } from "../k8s";
import { customObject, PART_OF } from "../k8s";
import type { ResolvedModel } from "./resolve";
import { LLMD_SERVING_PORT } from "./namespace";

/**
 * KServe's names for what the controller makes around a model (kmeta.ChildName, which only hashes names
 * past 63 characters): the endpoint picker's Service and ServiceAccount (scheduler.go 242-256, 653).
 */
export function llmdEndpointPickerService(modelName: string): string {
  return `${modelName}-epp-service`;
}
export function llmdEndpointPickerServiceAccount(modelName: string): string {
  return `${modelName}-epp-sa`;
}

/**
 * The endpoint picker's gRPC (ext_proc) port, the InferencePool's endpointPickerRef port
 * (kserve-runtime-configs v0.20.0 files/llmisvcconfigs/resources.yaml 2044-2049).
 */
export const LLMD_PICKER_GRPC_PORT = 9002;

/**
 * Istio and llm-d's pod-IP traffic. Istio's sidecars only mTLS traffic addressed to a Service's name or
 * ClusterIP; requests to a pod IP leave through the passthrough cluster in plaintext (istio 1.30.3
 * pilot/pkg/networking/core/httproute.go 565-590 adds no pod-IP domains; istio/istio#37431). llm-d
 * addresses pods by IP three ways: the endpoint picker scrapes every pod's /metrics on 8000, the decode
 * pod's routing sidecar sends the prompt to the prefill pod the picker chose (podIP:8000), and NIXL moves
 * the KV cache over its side channel (5600) and UCX on ports it picks. So:
 *  - the endpoint picker runs without a sidecar and the gateway reaches it over its own TLS
 *    (llmdEndpointPickerTls);
 *  - port 8000 of llm-d pods also accepts plaintext (models/serving/namespace.ts);
 *  - prefill/decode pods send only 8000 through the sidecar, so NIXL's ports are not refused by STRICT
 *    mTLS; their other ports (NIXL's, vLLM's 8001 behind the decode pod's routing sidecar) are then
 *    guarded by the network alone: only the namespace's own pods reach them (networkPolicies.ts).
 * The pod labels and annotations below are set in llmInferenceService.ts.
 */
export const SIDECAR_ONLY_SERVING_PORT = {
  "traffic.sidecar.istio.io/includeInboundPorts": String(LLMD_SERVING_PORT),
};
export const NO_SIDECAR = { "sidecar.istio.io/inject": "false" };

/**
 * The gateway's connection to the endpoint picker: the picker serves gRPC over its own self-signed TLS
 * (secure serving on by default: gateway-api-inference-extension v1.5.0 pkg/epp/server/options.go 115,
 * and llm-d-inference-scheduler's own copy, pkg/epp/server/options.go 131 at its 2026-05-17 main — the
 * source of the v0.9.0 image KServe runs was not available to read; KServe passes no flag unless its
 * LLMInferenceService TLS is on, resources.yaml 2069-2075), so the gateway originates TLS without
 * verifying it — what the Inference Extension's own chart does for Istio
 * (config/charts/inferencepool/templates/istio.yaml, v1.5.0). KServe leaves this to distributions
 * (router_platform_networking_default.go 27-32). The pool fails open (resources.yaml 2045): if this
 * handshake failed, requests would still flow, round-robin, so the gateway's ext_proc errors are worth
 * watching.
 */
export function llmdEndpointPickerTls(model: Pick<ResolvedModel, "name" | "namespace">): K8sObject {
  return customObject("networking.istio.io/v1/DestinationRule", {
    metadata: {
      name: llmdEndpointPickerService(model.name),
      namespace: model.namespace,
      labels: { ...PART_OF, "inference-platform/model": model.name },
    },
    spec: {
      host: `${llmdEndpointPickerService(model.name)}.${model.namespace}.svc.cluster.local`,
      // Only the gRPC port: the Service's other ports (health 9003, metrics 9090, ZMQ 5557, scheduler.go
      // 261-291) are plaintext.
      trafficPolicy: {
        portLevelSettings: [
          { port: { number: LLMD_PICKER_GRPC_PORT }, tls: { mode: "SIMPLE", insecureSkipVerify: true } },
        ],
      },
    },
  });
}
