/**
 * The test control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from
 * their Go modules (e2e/tools), configured like an EKS control plane, plus kwok as the kubelet of fake
 * nodes shaped like the stack's node groups. Everything runs on loopback as processes recorded by pid
 * in <cache>/clusters/<name>/state.json, so `down` stops exactly what `up` started.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { buildTool, moduleSourceDir } from "./build";
import { Kube, waitFor } from "./kube";
import { clusterDir } from "./paths";
import { clusterPki, kubeconfig } from "./pki";
import {
  CONTROLLERS_DIR,
  freePort,
  isRunning,
  spawnedControllers,
  startProcess,
  stopProcess,
  tail,
  type RunningProcess,
} from "./processes";

export interface ClusterState {
  readonly name: string;
  readonly dir: string;
  readonly server: string;
  /** Admin kubeconfig (system:masters). */
  readonly kubeconfig: string;
  readonly processes: RunningProcess[];
  readonly pkiDir: string;
  readonly startedAt: string;
}

/** The fake node a kwok-managed Node object describes. */
export interface FakeNode {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly taints: Array<{ key: string; value?: string; effect: string }>;
  readonly capacity: Record<string, string>;
  readonly allocatable: Record<string, string>;
}

const SERVICE_CIDR = "10.96.0.0/16";
export const SERVICE_IP = "10.96.0.1";
/** kwok manages only Nodes carrying this annotation. */
export const KWOK_ANNOTATION = "kwok.x-k8s.io/node";

/**
 * Admission plugins of an EKS 1.34 control plane besides the API server's defaults
 * (docs.aws.amazon.com/eks/latest/userguide/platform-versions.html: NodeRestriction,
 * ExtendedResourceToleration, NamespaceLifecycle, LimitRanger, ServiceAccount, TaintNodesByCondition,
 * PodSecurity, Priority, DefaultTolerationSeconds, DefaultStorageClass, StorageObjectInUseProtection,
 * PersistentVolumeClaimResize, RuntimeClass, CertificateApproval, CertificateSigning,
 * CertificateSubjectRestriction, DefaultIngressClass, MutatingAdmissionWebhook,
 * ValidatingAdmissionWebhook, ResourceQuota).
 */
const ADMISSION_PLUGINS = [
  "NodeRestriction",
  "ExtendedResourceToleration",
  "NamespaceLifecycle",
  "LimitRanger",
  "ServiceAccount",
  "TaintNodesByCondition",
  "PodSecurity",
  "Priority",
  "DefaultTolerationSeconds",
  "DefaultStorageClass",
  "StorageObjectInUseProtection",
  "PersistentVolumeClaimResize",
  "RuntimeClass",
  "CertificateApproval",
  "CertificateSigning",
  "CertificateSubjectRestriction",
  "DefaultIngressClass",
  "MutatingAdmissionWebhook",
  "ValidatingAdmissionWebhook",
  "ResourceQuota",
];

export function readState(name: string): ClusterState | undefined {
  const file = path.join(clusterDir(name), "state.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as ClusterState) : undefined;
}

function writeState(state: ClusterState): void {
  fs.writeFileSync(path.join(state.dir, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts the control plane (building its binaries first if needed) and registers `nodes`. */
export async function clusterUp(
  name: string,
  nodes: readonly FakeNode[],
  log: (line: string) => void = () => undefined,
  held: readonly HeldPods[] = [],
): Promise<ClusterState> {
  const existing = readState(name);
  if (existing && existing.processes.some((p) => isRunning(p)))
    throw new Error(`cluster "${name}" is already running (npm run cluster -- down --name ${name} first)`);
  const k8s = buildTool("kubernetes", log);
  const etcdBin = buildTool("etcd", log);
  const kwokBin = buildTool("kwok", log);

  const dir = clusterDir(name);
  fs.rmSync(dir, { recursive: true, force: true });
  const logs = path.join(dir, "logs");
  fs.mkdirSync(logs, { recursive: true });
  const pki = clusterPki(path.join(dir, "pki"), SERVICE_IP);
  const [etcdPort, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;
  const kc = (file: string, client: (typeof pki.clients)[keyof typeof pki.clients]) => {
    const p = path.join(dir, file);
    fs.writeFileSync(p, kubeconfig(server, pki.ca.cert, client), { mode: 0o600 });
    return p;
  };
  const adminKc = kc("kubeconfig", pki.clients.admin);
  const processes: RunningProcess[] = [];
  const state: ClusterState = {
    name,
    dir,
    server,
    kubeconfig: adminKc,
    processes,
    pkiDir: pki.dir,
    startedAt: new Date().toISOString(),
  };
  const start = (proc: string, command: string[]) => {
    const p = startProcess(proc, command, { logDir: logs });
    processes.push(p);
    writeState(state);
    return p;
  };
  try {
    const etcd = start("etcd", [
      etcdBin.bin["server"]!,
      "--name=e2e",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
      "--listen-metrics-urls=",
      // A throwaway store: durability costs seconds per write burst on a loaded machine.
      "--unsafe-no-fsync",
    ]);
    await waitFor(
      "etcd",
      async () => ((await httpOk(`http://127.0.0.1:${etcdPort}/health`)) ? true : undefined),
      {
        timeoutMs: 60_000,
        describe: async () => tail(etcd.log),
      },
    );

    const apiserver = start("kube-apiserver", [
      k8s.bin["kube-apiserver"]!,
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.serviceAccount.publicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccount.privateKey}`,
      "--api-audiences=https://kubernetes.default.svc.cluster.local",
      "--authorization-mode=Node,RBAC",
      `--enable-admission-plugins=${ADMISSION_PLUGINS.join(",")}`,
      "--allow-privileged=true",
      // The aggregation layer (KEDA's external metrics API server registers through it).
      `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
      "--requestheader-allowed-names=front-proxy-client",
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-username-headers=X-Remote-User",
      `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
      `--proxy-client-key-file=${pki.frontProxyClient.key}`,
      // No kube-proxy here: aggregated APIs are reached at their endpoints, not the Service IP.
      "--enable-aggregator-routing=true",
      "--profiling=false",
    ]);
    const kube = new Kube(adminKc);
    await waitFor(
      "kube-apiserver /readyz",
      async () =>
        (await kube
          .request("GET", "/readyz")
          .then(() => true)
          .catch(() => false))
          ? true
          : undefined,
      {
        timeoutMs: 120_000,
        intervalMs: 1000,
        describe: async () => tail(apiserver.log),
      },
    );

    const kcmKc = kc("controller-manager.kubeconfig", pki.clients.controllerManager);
    start("kube-controller-manager", [
      k8s.bin["kube-controller-manager"]!,
      `--kubeconfig=${kcmKc}`,
      `--authentication-kubeconfig=${kcmKc}`,
      `--authorization-kubeconfig=${kcmKc}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${await freePort()}`,
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${pki.serviceAccount.privateKey}`,
      `--root-ca-file=${pki.ca.cert}`,
      `--cluster-signing-cert-file=${pki.ca.cert}`,
      `--cluster-signing-key-file=${pki.ca.key}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--controllers=*,bootstrapsigner,tokencleaner",
    ]);
    const schedKc = kc("scheduler.kubeconfig", pki.clients.scheduler);
    start("kube-scheduler", [
      k8s.bin["kube-scheduler"]!,
      `--kubeconfig=${schedKc}`,
      `--authentication-kubeconfig=${schedKc}`,
      `--authorization-kubeconfig=${schedKc}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${await freePort()}`,
      "--leader-elect=false",
    ]);
    const kwokKc = kc("kwok.kubeconfig", pki.clients.kwok);
    start("kwok", [
      kwokBin.bin["kwok"]!,
      `--kubeconfig=${kwokKc}`,
      ...kwokStages(dir, held).map((f) => `--config=${f}`),
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`,
      "--node-ip=10.0.0.1",
      "--cidr=10.0.0.1/16",
      `--node-lease-duration-seconds=40`,
      "--server-address=127.0.0.1:0",
    ]);

    for (const node of nodes) await registerNode(kube, node);
    await waitFor(
      `${nodes.length} node(s) Ready`,
      async () => {
        const list = await kube.list("v1", "Node");
        const ready = list.filter((n) =>
          ((n.status as { conditions?: Array<{ type: string; status: string }> })?.conditions ?? []).some(
            (c) => c.type === "Ready" && c.status === "True",
          ),
        );
        return ready.length >= nodes.length ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, describe: async () => tail(path.join(logs, "kwok.log")) },
    );
    // The token and service-account controllers must be up before anything creates pods.
    await waitFor(
      "default ServiceAccount",
      async () => ((await kube.get("v1", "ServiceAccount", "default", "default")) ? true : undefined),
      {
        timeoutMs: 60_000,
        describe: async () => tail(path.join(logs, "kube-controller-manager.log")),
      },
    );
    return state;
  } catch (err) {
    await clusterDown(name);
    throw err;
  }
}

/**
 * kwok's own Stage definitions (sigs.k8s.io/kwok kustomize/stage, from the module source): nodes are
 * initialised and heartbeat with leases; pods become Ready at once, Job pods complete, deleted pods go.
 */
function kwokStages(dir: string, held: readonly HeldPods[]): string[] {
  const root = path.join(moduleSourceDir("kwok", "sigs.k8s.io/kwok"), "kustomize", "stage");
  // Upstream's pod-ready stage, except for pods whose readiness is a real process's (see HeldPods).
  const ready = parse(fs.readFileSync(path.join(root, "pod/fast/pod-ready.yaml"), "utf8")) as {
    spec: { selector: { matchExpressions: Array<Record<string, unknown>> } };
  };
  const byLabel = new Map<string, string[]>();
  for (const h of held) byLabel.set(h.label, [...(byLabel.get(h.label) ?? []), h.value]);
  for (const [label, values] of byLabel)
    ready.spec.selector.matchExpressions.push({
      key: `.metadata.labels["${label}"]`,
      operator: "NotIn",
      values,
    });
  const readyFile = path.join(dir, "kwok-pod-ready.yaml");
  fs.writeFileSync(readyFile, stringify(ready));
  return [
    path.join(root, "node/fast/node-initialize.yaml"),
    path.join(root, "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml"),
    readyFile,
    path.join(root, "pod/fast/pod-complete.yaml"),
    path.join(root, "pod/fast/pod-delete.yaml"),
  ];
}

/**
 * Pods kwok must not mark Ready: a chart's controller that runs for real as a local process. Like a
 * kubelet whose readiness probe passes only once the container serves, the e2e marks them Ready when
 * the local process answers — so Helm (and so a Pulumi Release) waits for the real webhook server.
 */
export interface HeldPods {
  readonly label: string;
  readonly value: string;
}

/** Registers a Node the way a kubelet does: created with its status (capacity, allocatable), for kwok to run. */
async function registerNode(kube: Kube, node: FakeNode): Promise<void> {
  await kube.create({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: node.name, labels: node.labels, annotations: { [KWOK_ANNOTATION]: "fake" } },
    spec: { taints: node.taints },
    status: {
      capacity: node.capacity,
      allocatable: node.allocatable,
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        kubeletVersion: "v1.34.4",
        kubeProxyVersion: "v1.34.4",
        containerRuntimeVersion: "containerd://2.1.4",
      },
    },
  });
}

/** Stops every process the cluster's state file records (all of them, even if one fails to stop). */
export async function clusterDown(name: string): Promise<string[]> {
  const state = readState(name);
  if (!state) return [];
  const stopped: string[] = [];
  // The real controllers a kept e2e left running (LocalControllers records them beside the cluster).
  for (const p of spawnedControllers(path.join(state.dir, CONTROLLERS_DIR)).reverse()) {
    await stopProcess(p);
    stopped.push(`${p.name} (pid ${p.pid})`);
  }
  // Reverse start order: nodes' kubelet and controllers first, etcd last.
  for (const p of [...state.processes].reverse()) {
    await stopProcess(p);
    stopped.push(`${p.name} (pid ${p.pid})`);
  }
  return stopped;
}

export interface ClusterStatus {
  readonly name: string;
  readonly running: Array<{ name: string; pid: number; alive: boolean; log: string }>;
  readonly kubeconfig?: string;
}

export function clusterStatus(name: string): ClusterStatus {
  const state = readState(name);
  if (!state) return { name, running: [] };
  return {
    name,
    kubeconfig: state.kubeconfig,
    running: state.processes.map((p) => ({ name: p.name, pid: p.pid, alive: isRunning(p), log: p.log })),
  };
}
