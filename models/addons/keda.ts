import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";

/** KEDA: ScaledObjects for Standard-mode models. Its operator signs AMP queries with Pod Identity. */
export function keda(ctx: AddonContext): AddonSpec {
  const monitored = ctx.addons.monitoring.enabled;
  return {
    name: "keda",
    namespace: "keda",
    chart: CHARTS.keda,
    values: {
      crds: { install: true },
      operator: { replicaCount: 1 },
      prometheus: { operator: { enabled: monitored, serviceMonitor: { enabled: monitored } } },
    },
    dependsOn: monitored ? ["kube-prometheus-stack"] : [],
    timeoutSeconds: 600,
    ownsCrds: true,
  };
}
