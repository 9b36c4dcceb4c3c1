import { CHARTS } from "../versions";
import type { AddonSpec } from "./types";

/** cert-manager: KServe's webhook certificates (Issuer + Certificate in the kserve chart). */
export function certManager(): AddonSpec {
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
    },
    dependsOn: [],
    timeoutSeconds: 600,
    ownsCrds: true,
  };
}
