/**
 * LeaderWorkerSet (sigs.k8s.io/lws), installed only when a model spans nodes: KServe's llmisvc
 * controller runs such a model as one LeaderWorkerSet — a leader pod and pipeline − 1 worker pods per
 * replica (workload_multi_node.go 170-186). The controller watches LeaderWorkerSets only if their CRD
 * exists when it starts (llmisvc controller.go 454-456), so this release comes before
 * kserve-llmisvc-resources.
 *
 * Its pod webhook is what gives each pod its place in the group (LWS_LEADER_ADDRESS, LWS_WORKER_INDEX,
 * LWS_GROUP_SIZE: lws v0.8.0 pkg/webhooks/pod_webhook.go 89-188, pkg/utils/pod/pod_utils.go 132-179);
 * without it no group forms, so the controller runs highly available in prod. Its webhook certificate
 * is the chart's default, the controller's own rotation (open-policy-agent/cert-controller, which also
 * writes the CA into both webhook configurations: lws pkg/cert/cert.go 36-61). Not cert-manager: with
 * enableCertManager the v0.8.0 chart's webhook configurations get no CA injection annotation
 * (templates/webhook/webhook.yaml), so the API server could not verify the webhooks.
 */
import { CHARTS, LWS_VERSION } from "../versions";
import type { AddonContext, AddonSpec } from "./types";
import { controllerAvailability, HA_REPLICAS, highlyAvailable } from "./highAvailability";

export const LWS_NAMESPACE = "lws-system";

/** The controller's Deployment and its pods' labels (chart templates/manager/deployment.yaml, release `lws`). */
export const LWS_CONTROLLER = {
  name: "lws-controller-manager",
  selector: {
    "control-plane": "controller-manager",
    "app.kubernetes.io/name": "lws",
    "app.kubernetes.io/instance": "lws",
  },
} as const;

export function leaderWorkerSet(ctx: Pick<AddonContext, "environment">): AddonSpec {
  // The chart has a replicas value but no priority class or spread value (as KServe's controller).
  const availability = controllerAvailability(ctx, LWS_CONTROLLER, LWS_NAMESPACE, { setReplicas: false });
  return {
    name: "lws",
    namespace: LWS_NAMESPACE,
    chart: CHARTS.lws,
    values: {
      replicaCount: highlyAvailable(ctx) ? HA_REPLICAS : 1,
      // The chart source's tag is `main` (hack/push-chart.sh rewrites it on release): pin the release's.
      image: { manager: { tag: LWS_VERSION, pullPolicy: "IfNotPresent" } },
    },
    dependsOn: [],
    timeoutSeconds: 300,
    patches: availability.patches,
    objects: availability.objects,
    ownsCrds: true,
  };
}
