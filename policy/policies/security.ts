/**
 * Security policies for the serving plane: privileges, credentials, mTLS and a public ingress.
 */
import { EFA_DEVICE_PLUGIN } from "../../models/addons/efaDevicePlugin";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { K8S, labels, nameOf, podViews, withDefaults } from "./k8s";
import { WEIGHT_CACHE } from "../../models/serving/weightCache";
import { LLMD_SERVING_PORT, LLMD_WORKLOAD_SELECTOR } from "../../models/serving/namespace";

type Props = Record<string, unknown>;

const PRIVILEGED_DEFAULTS = { allowed: ["nvidia-device-plugin", "dcgm-exporter", EFA_DEVICE_PLUGIN] };

/** Host paths a device plugin opens, by DaemonSet (models/addons/efaDevicePlugin.ts). */
const DEVICE_PLUGIN_HOST_PATHS: Readonly<Record<string, readonly string[]>> = {
  [EFA_DEVICE_PLUGIN]: ["/var/lib/kubelet/device-plugins", "/dev/infiniband/"],
};

export const noPrivilegedContainers: ResourceValidationPolicy = {
  name: "no-privileged-containers",
  description: "No privileged containers, except an allow-list (the GPU DaemonSets that need host access).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowed: {
        type: "array",
        items: { type: "string" },
        default: PRIVILEGED_DEFAULTS.allowed,
      },
    },
  },
  validateResource: (args, report) => {
    const { allowed } = withDefaults(PRIVILEGED_DEFAULTS, args.getConfig());
    const props = args.props as Props;
    const name = ((props.metadata as Props | undefined)?.name as string | undefined) ?? args.name;
    if (allowed.some((a) => name.startsWith(a))) return;
    for (const view of podViews(args.type, props))
      for (const c of view.containers)
        if (c.securityContext?.privileged)
          report(`${nameOf(props)} ${view.at}: container ${c.name} is privileged`);
  },
};

const KEY_NAMES = /^(aws_)?(access_key_id|secret_access_key)$/i;
const ACCESS_KEY_VALUE = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;

export const noStaticAwsCredentials: ResourceValidationPolicy = {
  name: "no-static-aws-credentials",
  description: "No static AWS keys in Secrets or container env: models get AWS access through Pod Identity.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = args.props as Props;
    if (args.type === K8S.secret) {
      for (const field of ["data", "stringData"]) {
        const data = props[field];
        if (!data || typeof data !== "object") continue;
        for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
          const text =
            typeof v === "string" ? (field === "data" ? Buffer.from(v, "base64").toString("utf8") : v) : "";
          if (KEY_NAMES.test(k) || ACCESS_KEY_VALUE.test(text))
            report(`${nameOf(props)}: ${field}.${k} holds an AWS access key`);
        }
      }
    }
    for (const view of podViews(args.type, props))
      for (const c of view.containers)
        for (const e of c.env ?? [])
          if (
            (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)$/.test(e.name) && e.value) ||
            ACCESS_KEY_VALUE.test(e.value ?? "")
          )
            report(`${nameOf(props)} ${view.at}: container ${c.name} sets ${e.name} to a static credential`);
  },
};

/**
 * The one port-level exception: llm-d pods' serving port, which llm-d's components call by pod IP
 * (models/serving/namespace.ts LLMD_POD_IP_TRAFFIC).
 */
function isLlmdServingPortException(spec: Props, port: string): boolean {
  const selected = ((spec.selector as Props | undefined)?.matchLabels ?? {}) as Record<string, string>;
  const llmd = LLMD_WORKLOAD_SELECTOR.matchLabels as Record<string, string>;
  return (
    port === String(LLMD_SERVING_PORT) &&
    Object.keys(llmd).length === Object.keys(selected).length &&
    Object.entries(llmd).every(([key, value]) => selected[key] === value)
  );
}

export const mtlsStrictResource: ResourceValidationPolicy = {
  name: "mtls-strict",
  description:
    "Istio PeerAuthentications in model namespaces require STRICT mTLS, on every port but llm-d pods' serving port.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== K8S.peerAuthentication) return;
    const props = args.props as Props;
    if (labels(props)["inference-platform/models"] !== "true") return;
    const spec = (props.spec as Props | undefined) ?? {};
    const mode = ((spec.mtls as Props | undefined)?.mode as string | undefined) ?? "PERMISSIVE";
    if (mode !== "STRICT") report(`${nameOf(props)}: mTLS mode ${mode}; model namespaces require STRICT`);
    const ports = (spec.portLevelMtls ?? {}) as Record<string, Props>;
    for (const [port, setting] of Object.entries(ports)) {
      const portMode = (setting.mode as string | undefined) ?? "PERMISSIVE";
      if (portMode !== "STRICT" && !isLlmdServingPortException(spec, port))
        report(
          `${nameOf(props)}: port ${port} mTLS mode ${portMode}; model namespaces require STRICT (only llm-d pods' port ${LLMD_SERVING_PORT} may be PERMISSIVE)`,
        );
    }
  },
};

export const modelNamespacesStrict: StackValidationPolicy = {
  name: "model-namespaces-mtls",
  description:
    "Every namespace with an InferenceService or LLMInferenceService has a namespace-wide STRICT PeerAuthentication.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    // Namespace-wide: one with a selector covers only the pods it selects.
    const strict = new Set(
      args.resources
        .filter((r) => r.type === K8S.peerAuthentication)
        .filter((r) => {
          const spec = (r.props.spec as Props | undefined) ?? {};
          return ((spec.mtls as Props | undefined)?.mode ?? "") === "STRICT" && !spec.selector;
        })
        .map((r) => ((r.props.metadata as Props | undefined)?.namespace as string | undefined) ?? ""),
    );
    for (const r of args.resources.filter((x) => x.type === K8S.isvc || x.type === K8S.llmisvc)) {
      const ns = ((r.props.metadata as Props | undefined)?.namespace as string | undefined) ?? "default";
      if (!strict.has(ns))
        report(`${nameOf(r.props)}: namespace ${ns} has no namespace-wide STRICT PeerAuthentication`);
    }
  },
};

export const publicIngressRequiresAuth: StackValidationPolicy = {
  name: "public-ingress-requires-auth",
  description:
    "An internet-facing ingress gateway comes with request authentication (JWT) that token-less requests cannot bypass.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const publicGateway = args.resources.find((r) => {
      if (r.type !== K8S.helmRelease) return false;
      const ann = (((r.props.values as Props | undefined)?.service as Props | undefined)?.annotations ??
        {}) as Record<string, string>;
      return ann["service.beta.kubernetes.io/aws-load-balancer-scheme"] === "internet-facing";
    });
    if (!publicGateway) return;
    const hasJwt = args.resources.some((r) => r.type === K8S.requestAuthentication);
    const denies = args.resources.some(
      (r) =>
        r.type === K8S.authorizationPolicy &&
        ["DENY", "ALLOW"].includes(String((r.props.spec as Props | undefined)?.action)) &&
        /requestPrincipals/i.test(JSON.stringify(r.props.spec)),
    );
    if (!hasJwt || !denies)
      report(
        `${publicGateway.name}: the ingress gateway is internet-facing without ${!hasJwt ? "a RequestAuthentication" : "an AuthorizationPolicy on request principals"}`,
      );
  },
};

export const publicIngressRequiresTls: StackValidationPolicy = {
  name: "public-ingress-requires-tls",
  description:
    "An internet-facing ingress gateway terminates TLS (an ACM certificate on its NLB) and has no plaintext listener.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const r of args.resources.filter((x) => x.type === K8S.helmRelease)) {
      const service = ((r.props.values as Props | undefined)?.service ?? {}) as Props;
      const ann = (service.annotations ?? {}) as Record<string, string>;
      if (ann["service.beta.kubernetes.io/aws-load-balancer-scheme"] !== "internet-facing") continue;
      if (!ann["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"])
        report(`${r.name}: the internet-facing gateway has no TLS certificate (aws-load-balancer-ssl-cert)`);
      const ports = (service.ports as Array<{ port: number }> | undefined) ?? [{ port: 80 }];
      const plaintext = ports.filter((p) => p.port !== 443).map((p) => p.port);
      if (plaintext.length > 0)
        report(`${r.name}: the internet-facing gateway listens on plaintext port(s) ${plaintext.join(", ")}`);
    }
  },
};

const PSA_LEVELS = ["privileged", "baseline", "restricted"];
const POD_SECURITY_DEFAULTS = {
  // Node agents that need the host (measured on the e2e's real PodSecurity admission).
  privilegedAllowed: ["monitoring", "gpu-monitoring", "nvidia-device-plugin"],
};

export const namespacesPodSecurity: ResourceValidationPolicy = {
  name: "namespaces-pod-security",
  description:
    "Every namespace the platform creates enforces a Pod Security level and audits restricted; privileged only for node agents or where Istio sidecars need it.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      privilegedAllowed: {
        type: "array",
        items: { type: "string" },
        default: POD_SECURITY_DEFAULTS.privilegedAllowed,
      },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== K8S.namespace) return;
    const { privilegedAllowed } = withDefaults(POD_SECURITY_DEFAULTS, args.getConfig());
    const props = args.props as Props;
    const name = ((props.metadata as Props | undefined)?.name as string | undefined) ?? args.name;
    const l = labels(props);
    const enforce = l["pod-security.kubernetes.io/enforce"];
    if (!enforce || !PSA_LEVELS.includes(enforce))
      return report(
        `namespace ${name}: no pod-security.kubernetes.io/enforce level (privileged, baseline or restricted)`,
      );
    if (l["pod-security.kubernetes.io/audit"] !== "restricted")
      report(
        `namespace ${name}: pod-security.kubernetes.io/audit should be restricted, to show what remains`,
      );
    if (enforce === "privileged" && l["istio-injection"] !== "enabled" && !privilegedAllowed.includes(name))
      report(
        `namespace ${name}: enforces privileged without Istio sidecars and is not a node agent's (${privilegedAllowed.join(", ")})`,
      );
  },
};

const IMDS_ADDRESS = [169, 254, 169, 254];

/** Whether an IPv4 CIDR contains the instance metadata address (IPv6 blocks never do). */
function coversImds(cidr: string): boolean {
  const [addr, bits] = cidr.split("/");
  const octets = (addr ?? "").split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o))) return false;
  const prefix = Number(bits ?? 32);
  const toInt = (o: number[]) => o.reduce((n, x) => n * 256 + x, 0);
  const size = 2 ** (32 - prefix);
  return Math.floor(toInt(octets) / size) === Math.floor(toInt(IMDS_ADDRESS) / size);
}

type NetworkPolicySpec = {
  podSelector?: { matchLabels?: object; matchExpressions?: unknown[] };
  policyTypes?: string[];
  ingress?: unknown[];
  egress?: Array<{ to?: Array<{ ipBlock?: { cidr: string; except?: string[] } }> }>;
};

export const modelNamespacesDefaultDeny: StackValidationPolicy = {
  name: "model-namespaces-default-deny",
  description:
    "Every model namespace has a default-deny NetworkPolicy for ingress and egress, and no egress rule reaches the instance metadata service.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const modelNamespaces = args.resources
      .filter((r) => r.type === K8S.namespace && labels(r.props)["inference-platform/models"] === "true")
      .map((r) => String((r.props.metadata as Props).name));
    const policies = args.resources
      .filter((r) => r.type === K8S.networkPolicy)
      .map((r) => ({
        name: nameOf(r.props),
        namespace: (r.props.metadata as Props | undefined)?.namespace as string | undefined,
        spec: (r.props.spec ?? {}) as NetworkPolicySpec,
      }));
    for (const ns of modelNamespaces) {
      const inNs = policies.filter((p) => p.namespace === ns);
      const denies = inNs.some(
        ({ spec }) =>
          Object.keys(spec.podSelector?.matchLabels ?? {}).length === 0 &&
          (spec.podSelector?.matchExpressions ?? []).length === 0 &&
          ["Ingress", "Egress"].every((t) => spec.policyTypes?.includes(t)) &&
          (spec.ingress ?? []).length === 0 &&
          (spec.egress ?? []).length === 0,
      );
      if (!denies)
        report(
          `namespace ${ns}: no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)`,
        );
      for (const p of inNs)
        for (const rule of p.spec.egress ?? [])
          for (const peer of rule.to ?? []) {
            const block = peer.ipBlock;
            if (block && coversImds(block.cidr) && !(block.except ?? []).some(coversImds))
              report(
                `${p.name}: egress to ${block.cidr} reaches the instance metadata service (169.254.169.254)`,
              );
          }
      // A rule without `to` allows every destination, IMDS included.
      for (const p of inNs)
        if ((p.spec.egress ?? []).some((rule) => !rule.to || rule.to.length === 0))
          report(
            `${p.name}: an egress rule without \`to\` allows every destination, the instance metadata service included`,
          );
    }
  },
};

/**
 * The platform's own pods touch the node's disk in one place only: the weight cache. Its downloader may
 * write there; a predictor reads it and nothing else (a writable hostPath in a serving pod would let one
 * compromised model server plant weights for every replica on the node).
 */
export const hostPathOnlyWeightCache: ResourceValidationPolicy = {
  name: "host-paths-only-weight-cache",
  description: `Platform workloads mount no host path but the weight cache (${WEIGHT_CACHE.hostRoot}), and model servers only read it; the EFA device plugin its devices.`,
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = args.props as Props;
    const name = ((props.metadata as Props | undefined)?.name as string | undefined) ?? "";
    const namespace = (props.metadata as Props | undefined)?.namespace;
    const devicePaths =
      args.type === "kubernetes:apps/v1:DaemonSet" && namespace === "kube-system"
        ? (DEVICE_PLUGIN_HOST_PATHS[name] ?? [])
        : [];
    for (const view of podViews(args.type, props)) {
      const volumes = (
        (view.spec.volumes ?? []) as Array<{ name: string; hostPath?: { path?: string } }>
      ).filter((v) => v.hostPath);
      // Init containers mount too (the predictor's wait for the node's copy).
      const containers = [
        ...view.containers,
        ...((view.spec.initContainers ?? []) as typeof view.containers),
      ];
      for (const v of volumes) {
        const path = v.hostPath!.path ?? "";
        if (devicePaths.includes(path)) continue;
        if (!path.startsWith(`${WEIGHT_CACHE.hostRoot}/`) || path.split("/").includes("..")) {
          report(
            `${nameOf(props)} ${view.at}: host path ${path} (only ${WEIGHT_CACHE.hostRoot}/<model> is allowed)`,
          );
          continue;
        }
        if (args.type !== K8S.isvc) continue;
        for (const c of containers)
          for (const m of (c.volumeMounts ?? []) as Array<{ name: string; readOnly?: boolean }>)
            if (m.name === v.name && !m.readOnly)
              report(`${nameOf(props)} ${view.at}: container ${c.name} mounts the weight cache writable`);
      }
    }
  },
};

export const SECURITY_RESOURCE_POLICIES: ResourceValidationPolicy[] = [
  hostPathOnlyWeightCache,
  noPrivilegedContainers,
  namespacesPodSecurity,
  noStaticAwsCredentials,
  mtlsStrictResource,
];
export const SECURITY_STACK_POLICIES: StackValidationPolicy[] = [
  modelNamespacesStrict,
  modelNamespacesDefaultDeny,
  publicIngressRequiresAuth,
  publicIngressRequiresTls,
];
