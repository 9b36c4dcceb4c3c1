/**
 * The EFA device plugin on the nodes of EFA pools: it advertises each node's EFA interfaces as
 * `vpc.amazonaws.com/efa` and mounts /dev/infiniband into the pods that request one (multi-node models,
 * models/serving/multiNode.ts). EKS's accelerated AL2023 AMIs carry the EFA host components but not
 * this plugin (EKS user guide, "device-management-efa"). No chart of it is pinned here, so the
 * DaemonSet is written from aws/eks-charts stable/aws-efa-k8s-device-plugin v0.5.30's template and
 * defaults: privileged with the host network (it opens the devices), the kubelet's device-plugin socket
 * directory and /dev/infiniband from the host, system-node-critical, 10m/20Mi requested (with limits). Instead of the
 * chart's instance-type list it selects the platform's EFA label, and it tolerates the GPU taint
 * (the chart tolerates only CriticalAddonsOnly by default).
 */
import type { K8sObject } from "../k8s";
import { coreObject, PART_OF } from "../k8s";
import { GPU_TAINT, LABELS } from "../cluster/nodePools";
import { IMAGES } from "../versions";
import { formatImage } from "../serving/images";
import type { AddonContext } from "./types";

export const EFA_DEVICE_PLUGIN = "aws-efa-k8s-device-plugin";

export function efaDevicePluginObjects(ctx: Pick<AddonContext, "clusterMode" | "gpuPools">): K8sObject[] {
  if (ctx.clusterMode !== "eks" || !ctx.gpuPools.some((p) => p.efa)) return [];
  const selector = { name: EFA_DEVICE_PLUGIN };
  const hostDirs = [
    { name: "device-plugin", path: "/var/lib/kubelet/device-plugins" },
    { name: "infiniband-volume", path: "/dev/infiniband/" },
  ];
  return [
    coreObject("apps/v1/DaemonSet", {
      metadata: { name: EFA_DEVICE_PLUGIN, namespace: "kube-system", labels: { ...PART_OF, ...selector } },
      spec: {
        selector: { matchLabels: selector },
        updateStrategy: { type: "RollingUpdate" },
        template: {
          metadata: { labels: selector },
          spec: {
            automountServiceAccountToken: false,
            hostNetwork: true,
            priorityClassName: "system-node-critical",
            nodeSelector: { [LABELS.efa]: "true" },
            tolerations: [
              { key: "CriticalAddonsOnly", operator: "Exists" },
              { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect },
            ],
            containers: [
              {
                name: EFA_DEVICE_PLUGIN,
                image: formatImage(IMAGES.efaDevicePlugin),
                securityContext: {
                  allowPrivilegeEscalation: true,
                  privileged: true,
                  runAsNonRoot: false,
                  runAsUser: 0,
                },
                // The chart's requests; limits so a leak cannot starve the GPU node (the platform's rule).
                resources: {
                  requests: { cpu: "10m", memory: "20Mi" },
                  limits: { cpu: "100m", memory: "64Mi" },
                },
                volumeMounts: hostDirs.map((d) => ({ name: d.name, mountPath: d.path })),
              },
            ],
            volumes: hostDirs.map((d) => ({ name: d.name, hostPath: { path: d.path } })),
          },
        },
      },
    }),
  ];
}
