/**
 * kube-prometheus-stack: Prometheus, Alertmanager, Grafana and the Prometheus Operator CRDs that
 * ServiceMonitors, PodMonitors and PrometheusRules need. Selectors are opened so the platform's
 * monitors in model namespaces are picked up. With AMP, Prometheus remote-writes with SigV4.
 */
import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";
import { prometheusRule } from "../observability/alerts";
import { dashboardConfigMaps } from "../observability/dashboards";

export const PROMETHEUS_RELEASE = "kube-prometheus-stack";
/** fullnameOverride keeps service names short and predictable. */
export const PROMETHEUS_FULLNAME = "kps";
export const PROMETHEUS_URL = `http://${PROMETHEUS_FULLNAME}-prometheus.monitoring.svc:9090`;
export const PROMETHEUS_SERVICE_ACCOUNT = `${PROMETHEUS_FULLNAME}-prometheus`;

export function monitoring(ctx: AddonContext): AddonSpec {
  const m = ctx.addons.monitoring;
  const prometheusSpec: Record<string, unknown> = {
    retention: m.retention,
    serviceMonitorSelectorNilUsesHelmValues: false,
    podMonitorSelectorNilUsesHelmValues: false,
    ruleSelectorNilUsesHelmValues: false,
  };
  if (m.amp && ctx.ampRemoteWriteUrl)
    prometheusSpec.remoteWrite = [{ url: ctx.ampRemoteWriteUrl, sigv4: { region: ctx.region } }];
  return {
    name: PROMETHEUS_RELEASE,
    namespace: "monitoring",
    chart: CHARTS.kubePrometheusStack,
    values: {
      fullnameOverride: PROMETHEUS_FULLNAME,
      crds: { enabled: true },
      grafana: { enabled: m.grafana, sidecar: { dashboards: { enabled: true, searchNamespace: "ALL" } } },
      alertmanager: { enabled: true },
      prometheus: { prometheusSpec },
    },
    dependsOn: [],
    timeoutSeconds: 900,
    // Alert rules and dashboards, applied once the release has installed the operator's CRDs.
    objects: [
      prometheusRule("monitoring", ctx.modelNamespaces, PROMETHEUS_RELEASE),
      ...(m.grafana ? dashboardConfigMaps("monitoring") : []),
    ],
    ownsCrds: true,
  };
}
