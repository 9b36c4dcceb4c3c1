import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";
import {
  HA_REPLICAS,
  ONE_AT_A_TIME,
  PLATFORM_PRIORITY_CLASS,
  highlyAvailable,
  spreadOverNodes,
} from "./highAvailability";

/** KEDA: ScaledObjects for Standard-mode models. Its operator signs AMP queries with Pod Identity. */
export function keda(ctx: AddonContext): AddonSpec {
  const monitored = ctx.addons.monitoring.enabled;
  const replicaCount = highlyAvailable(ctx) ? HA_REPLICAS : 1;
  return {
    name: "keda",
    namespace: "keda",
    chart: CHARTS.keda,
    values: {
      crds: { install: true },
      operator: { replicaCount },
      metricsServer: { replicaCount },
      webhooks: { replicaCount },
      // The budget key of the metrics server is `metricServer` (keda 2.20.2 values.yaml 289).
      ...(highlyAvailable(ctx)
        ? {
            priorityClassName: PLATFORM_PRIORITY_CLASS,
            // Pod labels app: <component name> (keda 2.20.2 templates/*/deployment.yaml).
            topologySpreadConstraints: {
              operator: spreadOverNodes({ app: "keda-operator" }),
              metricsServer: spreadOverNodes({ app: "keda-operator-metrics-apiserver" }),
              webhooks: spreadOverNodes({ app: "keda-admission-webhooks" }),
            },
            podDisruptionBudget: {
              operator: ONE_AT_A_TIME,
              metricServer: ONE_AT_A_TIME,
              webhooks: ONE_AT_A_TIME,
            },
          }
        : {}),
      prometheus: { operator: { enabled: monitored, serviceMonitor: { enabled: monitored } } },
    },
    dependsOn: monitored ? ["kube-prometheus-stack"] : [],
    timeoutSeconds: 600,
    ownsCrds: true,
  };
}
