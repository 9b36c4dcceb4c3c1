/**
 * The StorageClass the platform's own volumes use on EKS (Prometheus and Alertmanager data): EBS gp3,
 * encrypted, bound where the pod lands. EKS no longer marks a default StorageClass on new clusters
 * (EKS user guide, "Amazon EBS CSI driver", storage classes), so the platform names its own rather than
 * relying on one; not the default, so it changes nothing for other workloads.
 */
import type { K8sObject } from "../k8s";
import { coreObject, PART_OF } from "../k8s";
import type { AddonContext } from "./types";

export const PLATFORM_STORAGE_CLASS = "platform-gp3";

export function storageClassObjects(ctx: Pick<AddonContext, "clusterMode">): K8sObject[] {
  if (ctx.clusterMode !== "eks") return [];
  return [
    coreObject("storage.k8s.io/v1/StorageClass", {
      metadata: { name: PLATFORM_STORAGE_CLASS, labels: { ...PART_OF } },
      // The aws-ebs-csi-driver EKS add-on (components/cluster.ts) provisions it.
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      // An EBS volume lives in one zone: create it where the scheduler puts the pod, not before.
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    }),
  ];
}

/** A volumeClaimTemplate-shaped storage spec for prometheus-operator's Prometheus and Alertmanager. */
export function operatorStorageSpec(sizeGi: number) {
  return {
    volumeClaimTemplate: {
      spec: {
        storageClassName: PLATFORM_STORAGE_CLASS,
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: `${sizeGi}Gi` } },
      },
    },
  };
}
