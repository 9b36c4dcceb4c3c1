/**
 * Pod Security Admission on every namespace the platform creates: the strictest level its pods hold,
 * enforced, and `restricted` audited everywhere so the gap stays visible.
 *
 * The add-on levels were measured, not assumed: the dev stack deployed by the e2e on a real
 * kube-apiserver v1.34.4, then `kubectl label --dry-run=server ns <ns> pod-security.kubernetes.io/enforce=<level>`,
 * whose PodSecurity admission lists every existing pod the level would refuse (2026-12-01).
 */
import type { K8sObject } from "../k8s";
import { coreObject, PART_OF } from "../k8s";
import type { AddonSpec } from "./types";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** The strictest level each add-on namespace's pods hold, with what stops the next one. */
export const ADDON_NAMESPACE_LEVELS: Readonly<Record<string, { level: PodSecurityLevel; why: string }>> = {
  "cert-manager": { level: "restricted", why: "" },
  keda: { level: "restricted", why: "" },
  kserve: { level: "restricted", why: "" },
  // Measured without sidecars; the namespace has Istio injection, so SIDECAR_LIMIT applies.
  "knative-serving": { level: "restricted", why: "" },
  "knative-operator": { level: "baseline", why: "the operator's pod sets no seccompProfile" },
  "istio-system": { level: "baseline", why: "the ingress gateway sets no seccompProfile" },
  // Read from the lws v0.8.0 chart (podSecurityContext sets runAsNonRoot only), not yet measured.
  "lws-system": { level: "baseline", why: "the controller's pod sets no seccompProfile" },
  monitoring: {
    level: "privileged",
    why: "node-exporter uses the host's namespaces, hostPath volumes and hostPorts",
  },
  "gpu-monitoring": {
    level: "privileged",
    why: "dcgm-exporter adds capabilities and mounts hostPath volumes",
  },
  "nvidia-device-plugin": {
    level: "privileged",
    why: "the device plugin mounts the kubelet's device-plugin directory (hostPath)",
  },
};

/**
 * Pods in a namespace with Istio sidecar injection get istio-init, which adds NET_ADMIN and NET_RAW:
 * baseline refuses both (Pod Security Standards, "Capabilities"), so such namespaces can enforce no more
 * than privileged until Istio CNI replaces istio-init (istio.io "Pod Security Admission").
 */
export const SIDECAR_LIMIT: { level: PodSecurityLevel; why: string } = {
  level: "privileged",
  why: "istio-init adds NET_ADMIN and NET_RAW (no Istio CNI yet)",
};

const ORDER: readonly PodSecurityLevel[] = ["privileged", "baseline", "restricted"];

/** The labels: enforce the level at the cluster's minor, warn one level up, audit restricted. */
export function podSecurityLabels(
  level: PodSecurityLevel,
  kubernetesVersion: string,
): Record<string, string> {
  const warn = ORDER[Math.min(ORDER.indexOf(level) + 1, ORDER.length - 1)]!;
  const version = `v${kubernetesVersion}`;
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": version,
    "pod-security.kubernetes.io/warn": warn,
    "pod-security.kubernetes.io/warn-version": version,
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": version,
  };
}

/** The level an add-on namespace enforces (sidecar injection caps it). */
export function addonNamespaceLevel(namespace: string, sidecarInjected: boolean): PodSecurityLevel {
  const measured = ADDON_NAMESPACE_LEVELS[namespace]?.level ?? "baseline";
  if (!sidecarInjected) return measured;
  return ORDER[Math.min(ORDER.indexOf(measured), ORDER.indexOf(SIDECAR_LIMIT.level))]!;
}

/**
 * The Namespace objects of the add-ons' release namespaces, labelled, one per namespace (several
 * releases share one). kube-system is EKS's and not labelled; a namespace an add-on already declares
 * among its own objects (knative-serving) is left to it.
 */
export function addonNamespaces(specs: readonly AddonSpec[], kubernetesVersion: string): K8sObject[] {
  const declared = new Set(
    specs.flatMap((s) => (s.objects ?? []).filter((o) => o.kind === "Namespace").map((o) => o.metadata.name)),
  );
  const names = [...new Set(specs.map((s) => s.namespace))].filter(
    (ns) => ns !== "kube-system" && !declared.has(ns),
  );
  return names.map((name) =>
    coreObject("v1/Namespace", {
      metadata: {
        name,
        labels: { ...PART_OF, ...podSecurityLabels(addonNamespaceLevel(name, false), kubernetesVersion) },
      },
    }),
  );
}
