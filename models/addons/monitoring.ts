/**
 * kube-prometheus-stack: Prometheus, Alertmanager, Grafana and the Prometheus Operator CRDs that
 * ServiceMonitors, PodMonitors and PrometheusRules need. Selectors are opened so the platform's
 * monitors in model namespaces are picked up. With AMP, Prometheus remote-writes with SigV4.
 */
import { coreObject, PART_OF, type K8sObject } from "../k8s";
import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";
import { prometheusRule } from "../observability/alerts";
import { dashboardConfigMaps } from "../observability/dashboards";
import { HA_REPLICAS, PLATFORM_PRIORITY_CLASS, highlyAvailable } from "./highAvailability";
import { operatorStorageSpec } from "./storageClass";
import { alertmanagerValues, alertReceiverSecret } from "../observability/alertReceiver";

export const PROMETHEUS_RELEASE = "kube-prometheus-stack";
export const MONITORING_NAMESPACE = "monitoring";
/** fullnameOverride keeps service names short and predictable. */
export const PROMETHEUS_FULLNAME = "kps";
export const PROMETHEUS_URL = `http://${PROMETHEUS_FULLNAME}-prometheus.monitoring.svc:9090`;
export const PROMETHEUS_SERVICE_ACCOUNT = `${PROMETHEUS_FULLNAME}-prometheus`;

/** The Role Grafana's sidecars are bound to: ConfigMaps in `monitoring`, read only. */
export const GRAFANA_SIDECAR_ROLE = "grafana-sidecar-configmaps";

function grafanaSidecarRole(): K8sObject {
  return coreObject("rbac.authorization.k8s.io/v1/Role", {
    metadata: { name: GRAFANA_SIDECAR_ROLE, namespace: MONITORING_NAMESPACE, labels: { ...PART_OF } },
    rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
  });
}

/**
 * Grafana's sidecar reads dashboards from its own namespace only (the platform's dashboards live
 * there). kube-prometheus-stack 88.5.3 defaults searchNamespace to ALL and the grafana chart to
 * rbac.namespaced false: a ClusterRole on every ConfigMap and Secret (grafana templates/clusterrole.yaml),
 * the mesh's root key included. Namespaced, it is a Role in `monitoring` (templates/role.yaml).
 * Its sidecars read ConfigMaps only (kube-prometheus-stack ships dashboards and datasources as
 * ConfigMaps), through the platform's Role: the chart's own Role also reads every Secret in
 * `monitoring`, Alertmanager's receiver credential included (grafana templates/role.yaml).
 */
function grafanaValues(enabled: boolean) {
  return {
    enabled,
    rbac: { namespaced: true, useExistingRole: GRAFANA_SIDECAR_ROLE },
    sidecar: {
      dashboards: { enabled: true, searchNamespace: MONITORING_NAMESPACE, resource: "configmap" },
      datasources: { resource: "configmap" },
    },
  };
}

/** Prometheus's and Alertmanager's specs: retention, AMP remote write, receiver, volumes, prod replicas. */
function operatorSpecs(ctx: AddonContext) {
  const m = ctx.addons.monitoring;
  const prometheusSpec: Record<string, unknown> = {
    retention: m.retention,
    serviceMonitorSelectorNilUsesHelmValues: false,
    podMonitorSelectorNilUsesHelmValues: false,
    ruleSelectorNilUsesHelmValues: false,
  };
  if (m.amp && ctx.ampRemoteWriteUrl)
    prometheusSpec.remoteWrite = [{ url: ctx.ampRemoteWriteUrl, sigv4: { region: ctx.region } }];
  const alertmanagerSpec: Record<string, unknown> = {};
  const receiver = m.alerts ? alertmanagerValues(m.alerts) : undefined;
  if (receiver) alertmanagerSpec.secrets = receiver.secrets;
  // On EKS the data survives a restart (EBS); elsewhere the chart's emptyDir.
  if (ctx.clusterMode === "eks") {
    prometheusSpec.storageSpec = operatorStorageSpec(m.storageGi);
    // Time-based retention alone can fill a fixed volume, and a full TSDB stops ingesting (both replicas
    // at once: KEDA's triggers and every alert go blind). Drop the oldest blocks at 80% instead
    // (Prometheus reads size units in base 2: GB = GiB).
    prometheusSpec.retentionSize = `${Math.floor(m.storageGi * 0.8)}GB`;
    alertmanagerSpec.storage = operatorStorageSpec(Math.max(10, Math.round(m.storageGi / 10)));
  }
  const ha = highlyAvailable(ctx);
  if (ha) {
    // Two Prometheus replicas write every series twice: AMP keeps one per `cluster` and `__replica__`
    // (AMP user guide, "Deduplicating high availability metrics", prometheus-operator Helm chart).
    Object.assign(prometheusSpec, {
      replicas: HA_REPLICAS,
      priorityClassName: PLATFORM_PRIORITY_CLASS,
      // Required, not preferred, anti-affinity between replicas (kube-prometheus-stack values.yaml 4628).
      podAntiAffinity: "hard",
      replicaExternalLabelName: "__replica__",
      externalLabels: { cluster: ctx.clusterName },
    });
    alertmanagerSpec.replicas = HA_REPLICAS;
    alertmanagerSpec.priorityClassName = PLATFORM_PRIORITY_CLASS;
    alertmanagerSpec.podAntiAffinity = "hard";
  }
  return { prometheusSpec, alertmanagerSpec, receiver, ha };
}

export function monitoring(ctx: AddonContext): AddonSpec {
  const m = ctx.addons.monitoring;
  const { prometheusSpec, alertmanagerSpec, receiver, ha } = operatorSpecs(ctx);
  // The charts' budgets default to minAvailable: 1 (kube-prometheus-stack 88.5.3 values.yaml 512-516,
  // 3884-3888): with two replicas, one may go at a time.
  const budget = ha ? { podDisruptionBudget: { enabled: true } } : {};
  return {
    name: PROMETHEUS_RELEASE,
    namespace: MONITORING_NAMESPACE,
    chart: CHARTS.kubePrometheusStack,
    values: {
      fullnameOverride: PROMETHEUS_FULLNAME,
      crds: { enabled: true },
      grafana: grafanaValues(m.grafana),
      alertmanager: {
        enabled: true,
        alertmanagerSpec,
        ...(receiver ? { config: receiver.config } : {}),
        ...budget,
      },
      prometheus: { prometheusSpec, ...budget },
    },
    dependsOn: [],
    timeoutSeconds: 900,
    preObjects: m.grafana ? [grafanaSidecarRole()] : [],
    // Alert rules and dashboards, applied once the release has installed the operator's CRDs.
    objects: [
      ...(m.alerts && ctx.alertReceiverCredential !== undefined
        ? [alertReceiverSecret(MONITORING_NAMESPACE, ctx.alertReceiverCredential)]
        : []),
      prometheusRule(MONITORING_NAMESPACE, ctx.modelNamespaces, PROMETHEUS_RELEASE),
      ...(m.grafana ? dashboardConfigMaps(MONITORING_NAMESPACE) : []),
    ],
    ownsCrds: true,
  };
}
