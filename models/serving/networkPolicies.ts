/**
 * NetworkPolicies of a model namespace: deny all traffic in and out, then allow what serving needs.
 * They take effect because the VPC CNI's network policy agent is on (models/cluster/addonConfig.ts);
 * the agent admits kubelet probes from the node on its own (EKS "Limit pod traffic with Kubernetes
 * network policies", considerations).
 */
import type { types } from "@pulumi/kubernetes";
import { coreObject, type K8sObject } from "../k8s";

/** The EC2 instance metadata service: denied to model pods (node credentials live there). */
export const IMDS_CIDR = "169.254.169.254/32";
/**
 * The EKS Pod Identity Agent's link-local address and port, where the AWS SDK fetches a pod's credentials
 * (AWS_CONTAINER_CREDENTIALS_FULL_URI http://169.254.170.23/v1/credentials; EKS user guide
 * "Set up the Amazon EKS Pod Identity Agent", considerations).
 */
export const POD_IDENTITY_AGENT = { cidr: "169.254.170.23/32", port: 80 } as const;
/** istiod's xDS and certificate port, which every sidecar dials (istiod chart 1.30.3 deployment.yaml 134). */
export const ISTIOD_XDS_PORT = 15012;

export interface ModelNetworkArgs {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** Namespaces whose pods may call this namespace's pods (gateway, activator, Prometheus). */
  readonly callers: readonly string[];
  readonly istioNamespace: string;
  readonly knativeNamespace: string;
  /**
   * llm-d pods, when the namespace has them: some of their ports bypass the sidecar (NIXL's, and vLLM's
   * behind the P/D routing sidecar), so the network, not mTLS, must keep other namespaces to the
   * serving port and the sidecar's metrics ports.
   */
  readonly llmd?: {
    readonly selector: { matchLabels: Record<string, string> };
    /** The label whose value marks them, to leave them out of the namespace-wide rule. */
    readonly excludeLabel: { key: string; value: string };
    /**
     * The label of a LeaderWorkerSet's worker pods (a model over several nodes): they carry none of the
     * workload labels, and their ports but 8000 bypass the sidecar, so only their own namespace reaches them.
     */
    readonly workerLabel: { key: string; value: string };
    readonly servingPort: number;
    /** The namespace Prometheus scrapes from, and the sidecar ports it reads. */
    readonly monitoring: { namespace: string; ports: number[] };
  };
}

const inNamespace = (ns: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
});

export function modelNetworkPolicies(args: ModelNetworkArgs): K8sObject[] {
  const { namespace, labels } = args;
  const policy = (name: string, spec: types.input.networking.v1.NetworkPolicySpec): K8sObject =>
    coreObject("networking.k8s.io/v1/NetworkPolicy", { metadata: { name, namespace, labels }, spec });
  return [
    // Selects every pod for both directions with no rule: what the allows below do not open stays shut.
    policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    policy("allow-platform-ingress", {
      // NotIn also matches pods without the label.
      podSelector: args.llmd
        ? {
            matchExpressions: [
              { key: args.llmd.excludeLabel.key, operator: "NotIn", values: [args.llmd.excludeLabel.value] },
              { key: args.llmd.workerLabel.key, operator: "NotIn", values: [args.llmd.workerLabel.value] },
            ],
          }
        : {},
      policyTypes: ["Ingress"],
      ingress: [{ from: [...args.callers, namespace].map(inNamespace) }],
    }),
    ...(args.llmd
      ? [
          policy("allow-llm-d-ingress", {
            podSelector: args.llmd.selector,
            policyTypes: ["Ingress"],
            ingress: [
              // The gateway: the serving port only.
              {
                from: [inNamespace(args.istioNamespace)],
                ports: [{ protocol: "TCP", port: args.llmd.servingPort }],
              },
              {
                from: [inNamespace(args.llmd.monitoring.namespace)],
                ports: args.llmd.monitoring.ports.map((port) => ({ protocol: "TCP", port })),
              },
              // The endpoint picker and the other role's pods (prompts, KV cache over NIXL).
              { from: [inNamespace(namespace)] },
            ],
          }),
          policy("allow-llm-d-worker-ingress", {
            podSelector: { matchLabels: { [args.llmd.workerLabel.key]: args.llmd.workerLabel.value } },
            policyTypes: ["Ingress"],
            ingress: [
              {
                from: [inNamespace(args.llmd.monitoring.namespace)],
                ports: args.llmd.monitoring.ports.map((port) => ({ protocol: "TCP", port })),
              },
              // Their leader (torch.distributed, NCCL's bootstrap); nothing else serves on them.
              { from: [inNamespace(namespace)] },
            ],
          }),
        ]
      : []),
    policy("allow-serving-egress", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        // Cluster DNS (CoreDNS on EKS carries k8s-app: kube-dns).
        {
          to: [{ ...inNamespace("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
        // Pods of this namespace (a transformer calling its predictor, sidecar to sidecar).
        { to: [{ podSelector: {} }] },
        // The sidecar's control plane: configuration and workload certificates.
        {
          to: [{ ...inNamespace(args.istioNamespace), podSelector: { matchLabels: { app: "istiod" } } }],
          ports: [{ protocol: "TCP", port: ISTIOD_XDS_PORT }],
        },
        // Knative mode: a transformer or explainer reaches its predictor through the revision's Service,
        // whose endpoints are Knative's activator pods while it is scaled to zero or in proxy mode
        // (knative-serving serving-core: activator http1 8012, h2c 8013); the sidecar dials them directly.
        {
          to: [{ ...inNamespace(args.knativeNamespace), podSelector: { matchLabels: { app: "activator" } } }],
          ports: [
            { protocol: "TCP", port: 8012 },
            { protocol: "TCP", port: 8013 },
          ],
        },
        // AWS credentials through Pod Identity.
        {
          to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.cidr } }],
          ports: [{ protocol: "TCP", port: POD_IDENTITY_AGENT.port }],
        },
        // HTTPS for model storage (S3, whose gateway endpoint keeps public S3 addresses, and the Hugging
        // Face hub): anywhere but the link-local range, so never IMDS.
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16"] } }],
          ports: [{ protocol: "TCP", port: 443 }],
        },
      ],
    }),
  ];
}
