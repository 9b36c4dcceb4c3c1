/**
 * GPU DaemonSets that really land on the platform's GPU nodes: they tolerate the GPU taint and select
 * the labels the node groups carry. The device plugin skips Bottlerocket NVIDIA nodes, whose OS ships
 * its own; dcgm-exporter runs on every GPU node and keeps the pod's own labels when scraped.
 */
import { DEVICE_PLUGIN_LABEL, GPU_TAINT, LABELS } from "../cluster/nodePools";
import { CHARTS } from "../versions";
import type { AddonContext, AddonSpec } from "./types";

export { DEVICE_PLUGIN_LABEL };

const gpuToleration = { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect };

export function nvidiaDevicePlugin(): AddonSpec {
  return {
    name: "nvidia-device-plugin",
    namespace: "nvidia-device-plugin",
    chart: CHARTS.nvidiaDevicePlugin,
    values: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: DEVICE_PLUGIN_LABEL, operator: "In", values: ["daemonset"] }] },
            ],
          },
        },
      },
      tolerations: [gpuToleration, { key: "CriticalAddonsOnly", operator: "Exists" }],
      // NFD/GFD stay off (the chart's dependency condition is `nfd.enabled,gfd.enabled`, and only gfd.enabled
      // exists in values.yaml): the node groups label GPU nodes themselves.
      gfd: { enabled: false },
    },
    dependsOn: [],
    timeoutSeconds: 300,
    ownsCrds: false,
  };
}

export function dcgmExporter(ctx: AddonContext): AddonSpec {
  const monitored = ctx.addons.monitoring.enabled;
  return {
    name: "dcgm-exporter",
    namespace: "gpu-monitoring",
    chart: CHARTS.dcgmExporter,
    values: {
      nodeSelector: { [LABELS.gpuPresent]: "true" },
      tolerations: [gpuToleration],
      // honorLabels keeps dcgm-exporter's pod/namespace labels (the GPU's workload) instead of renaming
      // them to exported_pod/exported_namespace; the autoscaling queries select on them.
      serviceMonitor: { enabled: monitored, honorLabels: true, interval: "15s" },
      kubernetes: { enablePodLabels: false },
    },
    dependsOn: monitored ? ["kube-prometheus-stack"] : [],
    timeoutSeconds: 600,
    ownsCrds: false,
  };
}
