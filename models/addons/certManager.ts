import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";
import { HA_REPLICAS, PLATFORM_PRIORITY_CLASS, highlyAvailable } from "./highAvailability";

/** cert-manager: KServe's webhook certificates (Issuer + Certificate in the kserve chart). */
export function certManager(ctx: Pick<AddonContext, "environment">): AddonSpec {
  // Enabled without min/max, each budget renders minAvailable: 1 (cert-manager v1.19.6
  // templates/poddisruptionbudget.yaml 20-22): one of the two replicas may go at a time.
  const ha = highlyAvailable(ctx)
    ? {
        replicaCount: HA_REPLICAS,
        global: { priorityClassName: PLATFORM_PRIORITY_CLASS },
        podDisruptionBudget: { enabled: true },
        webhook: { replicaCount: HA_REPLICAS, podDisruptionBudget: { enabled: true } },
        cainjector: { replicaCount: HA_REPLICAS, podDisruptionBudget: { enabled: true } },
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
