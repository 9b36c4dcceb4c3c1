/**
 * metrics-server: the resource metrics API (metrics.k8s.io) that CPU and memory autoscaling reads —
 * KServe's HPA for CPU models and transformers/explainers. Neither EKS nor the other add-ons install it;
 * without it those HPAs never scale.
 */
import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";

export function metricsServer(ctx: AddonContext): AddonSpec {
  return {
    name: "metrics-server",
    namespace: "kube-system",
    chart: CHARTS.metricsServer,
    values: {
      replicas: ctx.environment === "prod" ? 2 : 1,
      ...(ctx.environment === "prod" ? { podDisruptionBudget: { enabled: true, maxUnavailable: 1 } } : {}),
    },
    dependsOn: [],
    timeoutSeconds: 300,
    ownsCrds: false,
  };
}
