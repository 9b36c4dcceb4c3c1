import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";
import { HA_REPLICAS, PLATFORM_PRIORITY_CLASS, highlyAvailable, spreadOverNodes } from "./highAvailability";

/** cert-manager: KServe's webhook certificates (Issuer + Certificate in the kserve chart). */
// Pods carry app.kubernetes.io/instance (the release) and component (cert-manager v1.19.6 templates/*deployment.yaml).
const spread = (component: string) =>
  spreadOverNodes({ "app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/component": component });

export function certManager(ctx: Pick<AddonContext, "environment">): AddonSpec {
  // Enabled without min/max, each budget renders minAvailable: 1 (cert-manager v1.19.6
  // templates/poddisruptionbudget.yaml 20-22): one of the two replicas may go at a time.
  const ha = highlyAvailable(ctx)
    ? {
        replicaCount: HA_REPLICAS,
        global: { priorityClassName: PLATFORM_PRIORITY_CLASS },
        podDisruptionBudget: { enabled: true },
        topologySpreadConstraints: spread("controller"),
        webhook: {
          replicaCount: HA_REPLICAS,
          podDisruptionBudget: { enabled: true },
          topologySpreadConstraints: spread("webhook"),
        },
        cainjector: {
          replicaCount: HA_REPLICAS,
          podDisruptionBudget: { enabled: true },
          topologySpreadConstraints: spread("cainjector"),
        },
      }
    : {};
  return {
    name: "cert-manager",
    namespace: "cert-manager",
    chart: CHARTS.certManager,
    // startupapicheck (a post-install hook) waits until the webhook answers, so KServe's Certificate
    // is never applied against a webhook that isn't serving yet.
    values: {
      crds: { enabled: true, keep: true },
      startupapicheck: { enabled: true, timeout: "5m" },
      prometheus: { enabled: true, servicemonitor: { enabled: false } },
      ...ha,
    },
    dependsOn: [],
    timeoutSeconds: 600,
    ownsCrds: true,
  };
}
