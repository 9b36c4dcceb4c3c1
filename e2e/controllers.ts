/**
 * The real controllers of the serving stack, built from their Go modules at the pinned versions and run
 * as local processes against the test control plane: the KServe controller manager and its webhooks,
 * the KEDA operator, metrics API server and admission webhooks, prometheus-operator with its
 * admission webhooks, and istiod as the Gateway API implementation (a development build: see startIstiod). Each runs with the arguments the chart gives its Deployment (overriding only
 * ports, certificate paths and leader election) and with a token of the chart's own ServiceAccount, so
 * the chart's RBAC is exercised too. The chart's webhook configurations are rewired to the local
 * servers (a URL and the harness CA) and KEDA's APIService reaches the local metrics server through an
 * EndpointSlice on the host's address; none is disabled.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { buildTool, moduleSourceDir } from "./build";
import type { Backends } from "./deploy";
import { Kube, waitFor, type KubeObject } from "./kube";
import { leaf, type ClusterPki } from "./pki";
import { freePort, recordSpawned, startProcess, stopProcess, tail, type RunningProcess } from "./processes";
import type { HeldPods } from "./cluster";

interface Served {
  /** Service the chart points webhooks or an APIService at. */
  readonly service: string;
  readonly namespace: string;
  /** Local port the real server listens on. */
  readonly port: number;
  /**
   * Reached through the Service (an EndpointSlice to this host) instead of a rewired url: for servers
   * whose own reconcilers, or whose installer, put the Service reference back (Knative's webhook).
   */
  readonly routed?: boolean;
}

interface Started {
  readonly processes: RunningProcess[];
  readonly served: Served[];
  /** The chart Deployments these processes stand for: Ready only once their webhooks reach them. */
  readonly deployments: KubeObject[];
}

/** A non-loopback address of this host: EndpointSlices refuse 127.0.0.0/8 (the API server dials it). */
export function hostAddress(): string {
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  throw new Error("no non-loopback IPv4 address on this host for the API server to reach local webhooks");
}

type Container = {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
};

/** A container's environment as its pod would see it (fieldRefs to the pod's name and namespace). */
function containerEnv(c: Container, pod: { name: string; namespace: string }): Record<string, string> {
  const field: Record<string, string> = { "metadata.name": pod.name, "metadata.namespace": pod.namespace };
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const v = e.value ?? (e.valueFrom?.fieldRef ? field[e.valueFrom.fieldRef.fieldPath] : undefined);
    if (v !== undefined) env[e.name] = v;
  }
  return env;
}

function deploymentOf(
  rendered: readonly KubeObject[],
  name: string,
): { sa: string; containers: Container[]; namespace: string; object: KubeObject } {
  const d = rendered.find((o) => o.kind === "Deployment" && o.metadata.name === name);
  if (!d) throw new Error(`the chart renders no Deployment ${name}`);
  const spec = (d.spec as { template: { spec: { serviceAccountName?: string; containers: Container[] } } })
    .template.spec;
  return {
    sa: spec.serviceAccountName ?? "default",
    containers: spec.containers,
    namespace: d.metadata.namespace ?? "default",
    object: d,
  };
}

/** The chart's args for a container, minus the flags the harness sets itself. */
function chartArgs(c: Container, drop: readonly string[]): string[] {
  return (c.args ?? []).filter((a) => !drop.some((d) => a === `--${d}` || a.startsWith(`--${d}=`)));
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** The chart pods whose controllers run here for real (their Deployments' selector labels). */
export const HELD_PODS: readonly HeldPods[] = [
  { label: "control-plane", value: "kserve-controller-manager" },
  { label: "control-plane", value: "llmisvc-controller-manager" },
  { label: "app", value: "istiod" },
  { label: "app.kubernetes.io/name", value: "lws" },
  { label: "app", value: "keda-operator" },
  { label: "app", value: "keda-operator-metrics-apiserver" },
  { label: "app", value: "keda-admission-webhooks" },
  { label: "app", value: "kube-prometheus-stack-operator" },
  // Knative Serving's webhook: held pods get no IP, so the Service's only endpoint is ours (routeToHost).
  { label: "role", value: "webhook" },
];

export class LocalControllers implements Backends {
  private readonly started = new Map<string, Started>();
  /** Every process spawned, tracked at spawn: one that fails its readiness wait is still stopped. */
  private readonly spawned: RunningProcess[] = [];
  private readonly host = hostAddress();

  constructor(
    private readonly dir: string,
    private readonly pki: ClusterPki,
    private readonly server: string,
    private readonly log: (line: string) => void = () => undefined,
    /** Extra environment per controller process name (e.g. the service proxy for keda-operator). */
    private readonly extraEnv: Readonly<Record<string, Record<string, string>>> = {},
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** A kubeconfig with a token of a ServiceAccount (TokenRequest), so the process has the chart's RBAC. */
  private async kubeconfigFor(kube: Kube, namespace: string, sa: string): Promise<string> {
    const res = await kube.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 86400 } },
    );
    const file = path.join(this.dir, `${namespace}-${sa}.kubeconfig`);
    const ca = fs.readFileSync(this.pki.ca.cert).toString("base64");
    fs.writeFileSync(
      file,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "e2e", cluster: { server: this.server, "certificate-authority-data": ca } }],
        users: [{ name: sa, user: { token: res.status.token } }],
        contexts: [{ name: "e2e", context: { cluster: "e2e", user: sa, namespace } }],
        "current-context": "e2e",
      }),
      { mode: 0o600 },
    );
    return file;
  }

  /** A serving certificate for a chart Service, valid for its DNS names, loopback and this host. */
  private certFor(name: string, services: ReadonlyArray<{ service: string; namespace: string }>) {
    const dnsNames = services.flatMap(({ service, namespace }) => [
      service,
      `${service}.${namespace}`,
      `${service}.${namespace}.svc`,
      `${service}.${namespace}.svc.cluster.local`,
    ]);
    return leaf(this.pki.dir, `serving-${name}`, this.pki.ca, {
      cn: name,
      dnsNames,
      ips: ["127.0.0.1", this.host],
    });
  }

  /**
   * A folder holding what a controller's serving-certificate mount holds (ca.crt, tls.crt, tls.key), for a
   * certificate valid for the chart's Services; returns the folder.
   */
  private certDir(
    dir: string,
    name: string,
    services: ReadonlyArray<{ service: string; namespace: string }>,
  ): string {
    fs.mkdirSync(dir, { recursive: true });
    const cert = this.certFor(name, services);
    fs.copyFileSync(this.pki.ca.cert, path.join(dir, "ca.crt"));
    fs.copyFileSync(cert.cert, path.join(dir, "tls.crt"));
    fs.copyFileSync(cert.key, path.join(dir, "tls.key"));
    return dir;
  }

  private start(name: string, command: string[], env: Record<string, string>, cwd?: string): RunningProcess {
    const p = startProcess(name, command, {
      logDir: path.join(this.dir, "logs"),
      env: { ...env, ...(this.extraEnv[name] ?? {}) },
      cwd,
    });
    this.spawned.push(p);
    recordSpawned(this.dir, p);
    return p;
  }

  private async ready(p: RunningProcess, port: number): Promise<void> {
    await waitFor(`${p.name} to listen on ${port}`, async () => ((await portOpen(port)) ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      describe: async () => tail(p.log),
    });
  }

  /**
   * The chart Deployment's pods become Ready when the real process serves (kwok holds them: HELD_PODS),
   * as a kubelet would report once the container's readiness probe passes.
   */
  async markReady(kube: Kube, deployment: KubeObject): Promise<void> {
    // Now and whenever a new pod appears (scheduled later, or a restarted one), like a kubelet would.
    this.ready_.push({ kube, deployment });
    this.watcher ??= setInterval(() => {
      for (const r of this.ready_) void this.markPodsReady(r.kube, r.deployment).catch(() => undefined);
    }, 1000);
    await this.markPodsReady(kube, deployment);
  }

  private readonly ready_: Array<{ kube: Kube; deployment: KubeObject }> = [];
  private watcher: NodeJS.Timeout | undefined;

  private async markPodsReady(kube: Kube, deployment: KubeObject): Promise<void> {
    const selector = (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector
      .matchLabels;
    const labelSelector = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const now = new Date().toISOString();
    for (const pod of await kube.list("v1", "Pod", {
      namespace: deployment.metadata.namespace,
      labelSelector,
    })) {
      if (
        ((pod.status as { conditions?: Array<{ type: string; status: string }> })?.conditions ?? []).some(
          (c) => c.type === "Ready" && c.status === "True",
        )
      )
        continue;
      if (!(pod.spec as { nodeName?: string }).nodeName) continue;
      const containers = (pod.spec as { containers: Array<{ name: string; image: string }> }).containers;
      await kube.mergePatch(
        "v1",
        "Pod",
        pod.metadata.name,
        pod.metadata.namespace,
        {
          status: {
            phase: "Running",
            conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({
              type,
              status: "True",
              lastTransitionTime: now,
            })),
            containerStatuses: containers.map((c) => ({
              name: c.name,
              image: c.image,
              imageID: "",
              ready: true,
              started: true,
              restartCount: 0,
              state: { running: { startedAt: now } },
            })),
          },
        },
        "status",
      );
    }
  }

  async startFor(release: string, chart: string, rendered: readonly KubeObject[], kube: Kube): Promise<void> {
    // Claimed before the first await: a second call for the same release (an upgrade seen while the
    // first start waits for readiness) must not start a second copy.
    if (this.claimed.has(release)) return;
    this.claimed.add(release);
    if (chart === "istiod") this.started.set(release, await this.startIstiod(rendered, kube));
    if (chart === "kserve-resources") this.started.set(release, await this.startKServe(rendered, kube));
    if (chart === "kserve-llmisvc-resources")
      this.started.set(release, await this.startLlmisvc(rendered, kube));
    if (chart === "keda") this.started.set(release, await this.startKeda(rendered, kube));
    if (chart === "lws") this.started.set(release, await this.startLws(rendered, kube));
    if (chart === "kube-prometheus-stack")
      this.started.set(release, await this.startPrometheusOperator(rendered, kube));
    if (chart === "knative-operator")
      this.started.set(release, await this.startKnativeOperator(rendered, kube));
    if (chart === "knative-serving")
      this.started.set(release, await this.startKnativeServing(rendered, kube));
  }

  /**
   * After a planned object is applied (direct deploy): a KnativeServing CR makes the operator install
   * Serving; its webhook and controller then run here, and the CR must become Ready, as the platform's
   * `pulumi.com/waitFor` makes Pulumi wait for before KServe is installed.
   */
  async afterApply(obj: KubeObject, kube: Kube): Promise<string[]> {
    if (obj.kind !== "KnativeServing" || !this.started.has("knative-operator")) return [];
    const ns = obj.metadata.namespace ?? "knative-serving";
    await waitFor(
      "the Knative operator to install Serving (Deployment webhook, ConfigMap config-observability)",
      async () =>
        (await kube.get("apps/v1", "Deployment", "webhook", ns)) &&
        (await kube.get("v1", "ConfigMap", "config-observability", ns))
          ? true
          : undefined,
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    await this.startFor(
      "knative-serving",
      "knative-serving",
      await kube.list("apps/v1", "Deployment", { namespace: ns }),
      kube,
    );
    await this.markStartedReady("knative-serving", kube);
    try {
      await waitFor(
        `KnativeServing ${ns}/${obj.metadata.name} Ready`,
        async () => {
          const ks = await kube.get(obj.apiVersion, obj.kind, obj.metadata.name, ns);
          const conditions = (ks?.status as { conditions?: Array<{ type: string; status: string }> })
            ?.conditions;
          return conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
        },
        {
          timeoutMs: 240_000,
          intervalMs: 2000,
          describe: async () =>
            JSON.stringify(
              (
                (await kube.get(obj.apiVersion, obj.kind, obj.metadata.name, ns))?.status as {
                  conditions?: unknown;
                }
              )?.conditions ?? "no status",
            ),
        },
      );
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  }

  /** The process's own log says it is up (for servers whose ports the harness cannot choose). */
  private async logged(p: RunningProcess, text: string): Promise<void> {
    await waitFor(
      `${p.name} to log "${text}"`,
      async () => (tail(p.log, 400).includes(text) ? true : undefined),
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        describe: async () => tail(p.log),
      },
    );
  }

  /**
   * The Knative Operator (knative.dev/operator cmd/operator), as the chart runs it. It installs Serving
   * from the manifests in its kodata/ (the module's own, from the Go module cache). The chart's
   * operator-webhook is not run: it serves only CRD conversion, and both CRDs have one version
   * (v1beta1), so the API server never calls it.
   */
  private async startKnativeOperator(rendered: readonly KubeObject[], kube: Kube): Promise<Started> {
    const bin = buildTool("knative-operator", this.log).bin["operator"]!;
    const d = deploymentOf(rendered, "knative-operator");
    const p = this.start(
      "knative-operator",
      [bin, "--disable-ha", `--kubeconfig=${await this.kubeconfigFor(kube, d.namespace, d.sa)}`],
      {
        ...containerEnv(d.containers[0]!, { name: "knative-operator-local", namespace: d.namespace }),
        KO_DATA_PATH: path.join(
          moduleSourceDir("knative-operator", "knative.dev/operator"),
          "cmd",
          "operator",
          "kodata",
        ),
        PROFILING_PORT: String(await freePort()),
      },
    );
    // Its health-probe port is fixed (:8080, knative.dev/pkg injection.HealthCheckDefaultPort).
    await this.logged(p, "Starting controllers");
    return { processes: [p], served: [], deployments: [d.object] };
  }

  /**
   * Knative Serving's admission webhook and controller (knative.dev/serving cmd/webhook, cmd/controller),
   * with the environment of the Deployments the operator created. The webhook keeps the Service
   * references in its configurations (its reconcilers fail on a url, and the operator's re-apply puts the
   * Service back next to one), so the Service is routed here instead (the API server resolves webhook
   * Services through endpoints with --enable-aggregator-routing). The webhook issues its own certificate
   * into the operator's empty webhook-certs Secret and sets the caBundles. Not run: the autoscaler and
   * activator (the autoscaler's stats server needs :8080, which the operator holds) and net-istio (not
   * served by the module proxy), so Revisions stay "Deploying" and Routes never get an ingress.
   */
  private async startKnativeServing(rendered: readonly KubeObject[], kube: Kube): Promise<Started> {
    const bins = buildTool("knative-serving", this.log).bin;
    const wh = deploymentOf(rendered, "webhook");
    const port = await freePort();
    const webhook = this.start(
      "knative-webhook",
      [
        bins["webhook"]!,
        "--disable-ha",
        `--kubeconfig=${await this.kubeconfigFor(kube, wh.namespace, wh.sa)}`,
      ],
      {
        ...containerEnv(wh.containers[0]!, { name: "webhook-local", namespace: wh.namespace }),
        WEBHOOK_PORT: String(port),
        PROFILING_PORT: String(await freePort()),
      },
    );
    await this.ready(webhook, port);
    await this.routeToHost(kube, {
      service: "webhook",
      namespace: wh.namespace,
      port,
      portName: "https-webhook",
    });
    const ctl = deploymentOf(rendered, "controller");
    const controller = this.start(
      "knative-controller",
      [bins["controller"]!, `--kubeconfig=${await this.kubeconfigFor(kube, ctl.namespace, ctl.sa)}`],
      {
        ...containerEnv(ctl.containers[0]!, { name: "controller-local", namespace: ctl.namespace }),
        PROFILING_PORT: String(await freePort()),
      },
    );
    // Its probe port is fixed at :8080 too; without it the reconcilers still run (knative.dev/pkg
    // sharedmain/main.go: StartAll runs on the parent context, only the probe server stops).
    await this.logged(controller, "Starting controllers");
    return {
      processes: [webhook, controller],
      served: [{ service: "webhook", namespace: wh.namespace, port, routed: true }],
      deployments: [wh.object],
    };
  }

  /** The Service's endpoints are this host (an EndpointSlice of our own beside the controller's). */
  private async routeToHost(
    kube: Kube,
    s: { service: string; namespace: string; port: number; portName: string },
  ): Promise<void> {
    await kube.apply({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: `${s.service}-local`,
        namespace: s.namespace,
        labels: {
          "kubernetes.io/service-name": s.service,
          "endpointslice.kubernetes.io/managed-by": "e2e.inference-platform",
        },
      },
      addressType: "IPv4",
      endpoints: [{ addresses: [this.host], conditions: { ready: true } }],
      ports: [{ name: s.portName, port: s.port, protocol: "TCP" }],
    });
  }

  private readonly claimed = new Set<string>();

  /**
   * Report a started release's pods Ready. Called only after its webhooks and APIServices point at the
   * local servers: a Ready pod ends `helm --wait`, and whatever the next step creates is admitted by
   * those webhooks, which must reach the real server by then (not the chart's Service, which has no
   * endpoints here).
   */
  async markStartedReady(release: string, kube: Kube): Promise<void> {
    const s = this.started.get(release);
    if (!s || this.reportedReady.has(release)) return;
    this.reportedReady.add(release);
    for (const d of s.deployments) await this.markReady(kube, d);
  }

  private readonly reportedReady = new Set<string>();

  /** The releases whose processes run (they may not be reported Ready yet). */
  startedReleases(): string[] {
    return [...this.started.keys()];
  }

  /** Whether a Service of a started release is reached through its endpoints (not a rewired url). */
  isRouted(s: { service: string; namespace: string }): boolean {
    return this.servedBy(s.service, s.namespace)?.routed === true;
  }

  /** The local port serving a Service of a started release. */
  portOf(s: { service: string; namespace: string }): number | undefined {
    return this.servedBy(s.service, s.namespace)?.port;
  }

  /** The CA the local servers' certificates chain to (the rewired webhooks' and APIServices' caBundle). */
  caBundle(): string {
    return fs.readFileSync(this.pki.ca.cert).toString("base64");
  }

  /** The Services a started release serves (webhooks and aggregated APIs name them). */
  servicesOf(release: string): ReadonlyArray<{ service: string; namespace: string }> {
    return this.started.get(release)?.served ?? [];
  }

  /** KServe's controller manager (kserve cmd/manager; flags and env as in its chart, webhooks on a local port). */
  private async startKServe(rendered: readonly KubeObject[], kube: Kube): Promise<Started> {
    const bin = buildTool("kserve", this.log).bin["manager"]!;
    const d = deploymentOf(rendered, "kserve-controller-manager");
    const manager = d.containers.find((c) => c.name === "manager")!;
    const [webhook, metrics, health] = [await freePort(), await freePort(), await freePort()];
    // No cert-dir flag: controller-runtime reads $TMPDIR/k8s-webhook-server/serving-certs/tls.{crt,key}.
    const tmp = path.join(this.dir, "kserve-tmp");
    this.certDir(path.join(tmp, "k8s-webhook-server", "serving-certs"), "kserve", [
      { service: "kserve-webhook-server-service", namespace: d.namespace },
    ]);
    const p = this.start(
      "kserve-controller-manager",
      [
        bin,
        ...chartArgs(manager, ["metrics-addr", "leader-elect", "health-probe-addr", "webhook-port"]),
        `--metrics-addr=127.0.0.1:${metrics}`,
        `--health-probe-addr=127.0.0.1:${health}`,
        `--webhook-port=${webhook}`,
      ],
      {
        KUBECONFIG: await this.kubeconfigFor(kube, d.namespace, d.sa),
        POD_NAMESPACE: d.namespace,
        TMPDIR: tmp,
      },
    );
    await this.ready(p, webhook);
    return {
      processes: [p],
      served: [{ service: "kserve-webhook-server-service", namespace: d.namespace, port: webhook }],
      deployments: [d.object],
    };
  }

  /**
   * KServe's LLMInferenceService controller (kserve cmd/llmisvc; flags and env as in the
   * kserve-llmisvc-resources chart, webhooks on a local port). Without --leader-elect: outside a pod it
   * has no namespace for the lease (controller-runtime leaderelection/leader_election.go 84-89). Its
   * CRDs' conversion webhook (the kserve-llmisvc-crd chart) is pointed at it too, as cert-manager's CA
   * injector and the Service would make it reachable.
   */
  private async startLlmisvc(rendered: readonly KubeObject[], kube: Kube): Promise<Started> {
    const bin = buildTool("kserve", this.log).bin["llmisvc"]!;
    const d = deploymentOf(rendered, "llmisvc-controller-manager");
    const manager = d.containers.find((c) => c.name === "manager")!;
    const [webhook, metrics, health] = [await freePort(), await freePort(), await freePort()];
    const tmp = path.join(this.dir, "llmisvc-tmp");
    const service = { service: "llmisvc-webhook-server-service", namespace: d.namespace };
    this.certDir(path.join(tmp, "k8s-webhook-server", "serving-certs"), "llmisvc", [service]);
    const p = this.start(
      "llmisvc-controller-manager",
      [
        bin,
        ...chartArgs(manager, ["metrics-addr", "leader-elect", "health-probe-addr", "webhook-port"]),
        `--metrics-addr=127.0.0.1:${metrics}`,
        `--health-probe-addr=127.0.0.1:${health}`,
        `--webhook-port=${webhook}`,
      ],
      {
        KUBECONFIG: await this.kubeconfigFor(kube, d.namespace, d.sa),
        POD_NAMESPACE: d.namespace,
        TMPDIR: tmp,
      },
    );
    await this.ready(p, webhook);
    for (const crd of [
      "llminferenceservices.serving.kserve.io",
      "llminferenceserviceconfigs.serving.kserve.io",
    ])
      await kube.mergePatch("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd, undefined, {
        spec: {
          conversion: {
            strategy: "Webhook",
            webhook: {
              conversionReviewVersions: ["v1"],
              clientConfig: {
                service: null,
                url: `https://127.0.0.1:${webhook}/convert`,
                caBundle: this.caBundle(),
              },
            },
          },
        },
      });
    return {
      processes: [p],
      served: [{ ...service, port: webhook }],
      deployments: [d.object],
    };
  }

  /**
   * LeaderWorkerSet's controller manager (sigs.k8s.io/lws v0.8.0 cmd), with the chart's configuration
   * (its ConfigMap) and ServiceAccount, and its webhooks on a local port. Two settings differ, because
   * the process runs outside a pod: no leader election, and the webhook certificate is the e2e CA's, not
   * the controller's own rotation — cert-controller waits for the kubelet to mount the Secret it writes
   * (lws cmd/main.go 160-168, pkg/cert/cert.go 36-61), which never happens here. It reads its namespace
   * from the pod's ServiceAccount mount, else lws-system (pkg/utils/utils.go 74-81): the chart's own.
   */
  private async startLws(rendered: readonly KubeObject[], kube: Kube): Promise<Started> {
    const bin = buildTool("lws", this.log).bin["cmd"]!;
    const d = deploymentOf(rendered, "lws-controller-manager");
    const chartConfig = rendered.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "lws-manager-config",
    );
    const text = (chartConfig as { data?: Record<string, string> } | undefined)?.data?.[
      "controller_manager_config.yaml"
    ];
    if (!text) throw new Error("lws: the chart rendered no lws-manager-config ConfigMap");
    const [webhook, metrics, health] = [await freePort(), await freePort(), await freePort()];
    const service = { service: "lws-webhook-service", namespace: d.namespace };
    const certDir = this.certDir(path.join(this.dir, "lws-certs"), "lws", [service]);
    const config = {
      ...(parse(text) as Record<string, unknown>),
      leaderElection: { leaderElect: false },
      internalCertManagement: { enable: false },
      webhook: { port: webhook, host: "127.0.0.1", certDir },
      metrics: { bindAddress: `127.0.0.1:${metrics}` },
      health: { healthProbeBindAddress: `127.0.0.1:${health}` },
    };
    const configFile = path.join(this.dir, "lws-config.yaml");
    fs.writeFileSync(configFile, stringify(config));
    const manager = d.containers.find((c) => c.name === "manager")!;
    const p = this.start(
      "lws-controller-manager",
      [bin, ...chartArgs(manager, ["config"]), `--config=${configFile}`],
      { KUBECONFIG: await this.kubeconfigFor(kube, d.namespace, d.sa) },
    );
    await this.ready(p, webhook);
    return { processes: [p], served: [{ ...service, port: webhook }], deployments: [d.object] };
  }

  /**
   * istiod (istio.io/istio pilot/cmd/pilot-discovery) — a development build, not the pinned 1.30.3 (see
   * e2e/tools/istiod/go.mod): the Gateway API implementation, so Gateways, HTTPRoutes and InferencePools
   * get the status a real cluster's istiod writes. It runs with the chart's args and environment, its mesh
   * config and injection templates from the chart's ConfigMaps (mounted at these relative paths in the
   * pod, pilot/cmd/pilot-discovery/app/cmd.go), and a token of the chart's ServiceAccount. Its webhooks
   * are not registered (rewire): sidecar injection and Istio's validation would be the development
   * build's, not 1.30.3's.
   */
  private async startIstiod(rendered: readonly KubeObject[], kube: Kube): Promise<Started> {
    const bin = buildTool("istiod", this.log).bin["pilot-discovery"]!;
    const d = deploymentOf(rendered, "istiod");
    const discovery = d.containers.find((c) => c.name === "discovery")!;
    const cwd = path.join(this.dir, "istiod");
    // From the cluster, not the rendering: under the engine e2e only the live Deployments are passed in.
    for (const [dir, name] of [
      ["etc/istio/config", "istio"],
      ["var/lib/istio/inject", "istio-sidecar-injector"],
    ] as const) {
      const data = ((await kube.get("v1", "ConfigMap", name, d.namespace))?.data ?? {}) as Record<
        string,
        string
      >;
      fs.mkdirSync(path.join(cwd, dir), { recursive: true });
      for (const [file, text] of Object.entries(data)) fs.writeFileSync(path.join(cwd, dir, file), text);
    }
    const [http, grpc, secureGrpc, monitoring, https, ctrlz] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    );
    const kubeconfig = await this.kubeconfigFor(kube, d.namespace, d.sa);
    const p = this.start(
      "istiod",
      [
        bin,
        ...chartArgs(discovery, ["monitoringAddr", "httpAddr", "grpcAddr", "secureGRPCAddr", "httpsAddr"]),
        `--kubeconfig=${kubeconfig}`,
        `--httpAddr=127.0.0.1:${http}`,
        `--grpcAddr=127.0.0.1:${grpc}`,
        `--secureGRPCAddr=127.0.0.1:${secureGrpc}`,
        `--monitoringAddr=127.0.0.1:${monitoring}`,
        `--httpsAddr=127.0.0.1:${https}`,
        `--ctrlz_port=${ctrlz}`,
      ],
      {
        ...containerEnv(discovery, { name: "istiod-local", namespace: d.namespace }),
        KUBECONFIG: kubeconfig,
      },
      cwd,
    );
    await this.ready(p, http);
    return { processes: [p], served: [], deployments: [d.object] };
  }

  /** KEDA's operator, metrics API server and admission webhooks (kedacore/keda cmd/operator, adapter, webhooks). */
  private async startKeda(rendered: readonly KubeObject[], kube: Kube): Promise<Started> {
    const bins = buildTool("keda", this.log).bin;
    const ns = deploymentOf(rendered, "keda-operator").namespace;
    const services = ["keda-operator", "keda-operator-metrics-apiserver", "keda-admission-webhooks"].map(
      (service) => ({ service, namespace: ns }),
    );
    // One CA and certificate for the three, as the operator's cert rotation would make (ca.crt, tls.crt, tls.key).
    const certDir = this.certDir(path.join(this.dir, "keda-certs"), "keda", services);
    const env = { WATCH_NAMESPACE: "", POD_NAMESPACE: ns, KEDA_CLUSTER_OBJECT_NAMESPACE: ns };
    const grpc = await freePort();

    const op = deploymentOf(rendered, "keda-operator");
    const operator = this.start(
      "keda-operator",
      [
        bins["operator"]!,
        ...chartArgs(op.containers[0]!, [
          "leader-elect",
          "cert-dir",
          "enable-cert-rotation",
          "enable-webhook-patching",
          "metrics-bind-address",
          "health-probe-bind-address",
          "metrics-service-bind-address",
        ]),
        "--leader-elect=false",
        `--cert-dir=${certDir}`,
        // The harness issues the certificates and sets the caBundles (cert rotation only writes a Secret a kubelet would mount).
        "--enable-cert-rotation=false",
        "--enable-webhook-patching=false",
        `--metrics-bind-address=127.0.0.1:${await freePort()}`,
        `--health-probe-bind-address=127.0.0.1:${await freePort()}`,
        `--metrics-service-bind-address=127.0.0.1:${grpc}`,
      ],
      { ...env, KUBECONFIG: await this.kubeconfigFor(kube, ns, op.sa) },
    );
    await this.ready(operator, grpc);

    const ms = deploymentOf(rendered, "keda-operator-metrics-apiserver");
    const secure = await freePort();
    const msKc = await this.kubeconfigFor(kube, ns, ms.sa);
    const adapter = this.start(
      "keda-metrics-apiserver",
      [
        bins["adapter"]!,
        ...chartArgs(ms.containers[0]!, [
          "port",
          "secure-port",
          "metrics-service-address",
          "client-ca-file",
          "tls-cert-file",
          "tls-private-key-file",
          "cert-dir",
        ]),
        `--port=${await freePort()}`,
        `--secure-port=${secure}`,
        `--cert-dir=${certDir}`,
        `--tls-cert-file=${path.join(certDir, "tls.crt")}`,
        `--tls-private-key-file=${path.join(certDir, "tls.key")}`,
        `--metrics-service-address=127.0.0.1:${grpc}`,
        `--metrics-service-grpc-authority=keda-operator.${ns}.svc.cluster.local`,
        `--kubeconfig=${msKc}`,
        `--lister-kubeconfig=${msKc}`,
        `--authentication-kubeconfig=${msKc}`,
        `--authorization-kubeconfig=${msKc}`,
      ],
      env,
    );
    await this.ready(adapter, secure);

    const wh = deploymentOf(rendered, "keda-admission-webhooks");
    const whPort = await freePort();
    const webhooks = this.start(
      "keda-admission-webhooks",
      [
        bins["webhooks"]!,
        ...chartArgs(wh.containers[0]!, [
          "cert-dir",
          "port",
          "metrics-bind-address",
          "health-probe-bind-address",
        ]),
        `--cert-dir=${certDir}`,
        `--port=${whPort}`,
        `--metrics-bind-address=127.0.0.1:${await freePort()}`,
        `--health-probe-bind-address=127.0.0.1:${await freePort()}`,
      ],
      { ...env, KUBECONFIG: await this.kubeconfigFor(kube, ns, wh.sa) },
    );
    await this.ready(webhooks, whPort);
    return {
      processes: [operator, adapter, webhooks],
      served: [
        { service: "keda-operator-metrics-apiserver", namespace: ns, port: secure },
        { service: "keda-admission-webhooks", namespace: ns, port: whPort },
      ],
      deployments: [op.object, ms.object, wh.object],
    };
  }

  /** prometheus-operator (cmd/operator) with the chart's args; it serves the chart's admission webhooks over TLS. */
  private async startPrometheusOperator(rendered: readonly KubeObject[], kube: Kube): Promise<Started> {
    const bin = buildTool("prometheus-operator", this.log).bin["operator"]!;
    const name = rendered.find((o) => o.kind === "Deployment" && o.metadata.name.endsWith("-operator"))!
      .metadata.name;
    const d = deploymentOf(rendered, name);
    const port = await freePort();
    const cert = this.certFor("prometheus-operator", [{ service: name, namespace: d.namespace }]);
    const p = this.start(
      "prometheus-operator",
      [
        bin,
        ...chartArgs(d.containers[0]!, [
          "web.listen-address",
          "web.enable-tls",
          "web.cert-file",
          "web.key-file",
        ]),
        `--web.listen-address=:${port}`,
        "--web.enable-tls=true",
        `--web.cert-file=${cert.cert}`,
        `--web.key-file=${cert.key}`,
      ],
      { KUBECONFIG: await this.kubeconfigFor(kube, d.namespace, d.sa) },
    );
    await this.ready(p, port);
    return {
      processes: [p],
      served: [{ service: name, namespace: d.namespace, port }],
      deployments: [d.object],
    };
  }

  /**
   * Services whose server runs here but whose webhooks stay unregistered, with the reason (the base
   * chart's istiod-default-validator comes before istiod starts, so this is known up front).
   */
  private readonly notServed = new Map<string, string>([
    [
      "istio-system/istiod",
      "istiod runs here only as the Gateway API implementation (a development build, not 1.30.3): its injection and validation webhooks are not registered",
    ],
  ]);

  /** Why a webhook configuration stays unregistered though its server runs here (undefined: it does not). */
  declines(obj: KubeObject): string | undefined {
    const hooks = (
      obj as { webhooks?: Array<{ clientConfig: { service?: { name: string; namespace: string } } }> }
    ).webhooks;
    return (hooks ?? [])
      .map((w) => w.clientConfig.service)
      .map((svc) => svc && this.notServed.get(`${svc.namespace}/${svc.name}`))
      .find((reason) => reason);
  }

  private servedBy(service: string, namespace: string): Served | undefined {
    for (const s of this.started.values()) {
      const found = s.served.find((x) => x.service === service && x.namespace === namespace);
      if (found) return found;
    }
    return undefined;
  }

  rewire(_release: string, obj: KubeObject): { object: KubeObject } | { skipped: string } {
    const caBundle = this.caBundle();
    if (obj.kind === "APIService") {
      const svc = (obj.spec as { service?: { name: string; namespace: string } }).service;
      if (!svc || !this.servedBy(svc.name, svc.namespace))
        return {
          skipped: `no local server for ${svc ? `${svc.namespace}/${svc.name}` : "it"} runs in this e2e`,
        };
      return {
        object: { ...obj, spec: { ...(obj.spec as object), caBundle, insecureSkipTLSVerify: false } },
      };
    }
    const hooks =
      (
        obj as {
          webhooks?: Array<{
            name: string;
            clientConfig: { service?: { name: string; namespace: string; path?: string } };
          }>;
        }
      ).webhooks ?? [];
    const unserved = hooks.filter(
      (w) =>
        !w.clientConfig.service ||
        !this.servedBy(w.clientConfig.service.name, w.clientConfig.service.namespace),
    );
    if (unserved.length > 0)
      return {
        skipped:
          this.declines(obj) ??
          `no local server for ${unserved.map((w) => w.name).join(", ")} runs in this e2e`,
      };
    if (
      hooks.every(
        (w) => this.servedBy(w.clientConfig.service!.name, w.clientConfig.service!.namespace)!.routed,
      )
    )
      return { object: obj };
    return {
      object: {
        ...obj,
        webhooks: hooks.map((w) => {
          const s = w.clientConfig.service!;
          const served = this.servedBy(s.name, s.namespace)!;
          return {
            ...w,
            clientConfig: { url: `https://127.0.0.1:${served.port}${s.path ?? "/"}`, caBundle },
          };
        }),
      },
    };
  }

  /**
   * Aggregated APIs are reached through their Service's endpoints (--enable-aggregator-routing): point the
   * Service at this host. Its selector goes, or the endpoint controller would add the chart's fake pods.
   */
  async routeServices(kube: Kube, rendered: readonly KubeObject[]): Promise<void> {
    for (const api of rendered.filter((o) => o.kind === "APIService")) {
      const svc = (api.spec as { service?: { name: string; namespace: string; port?: number } }).service;
      const served = svc ? this.servedBy(svc.name, svc.namespace) : undefined;
      if (!svc || !served) continue;
      const service = await kube.get("v1", "Service", svc.name, svc.namespace);
      const ports = (service?.spec as { ports?: Array<{ name?: string; port: number }> })?.ports ?? [];
      const portName = ports.find((p) => p.port === (svc.port ?? 443))?.name ?? "";
      await kube.mergePatch("v1", "Service", svc.name, svc.namespace, { spec: { selector: null } });
      await this.routeToHost(kube, {
        service: svc.name,
        namespace: svc.namespace,
        port: served.port,
        portName,
      });
    }
  }

  /** Which real controllers run, for the report. */
  running(): string[] {
    return [...this.started.values()].flatMap((s) => s.processes.map((p) => `${p.name} (pid ${p.pid})`));
  }

  async stop(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = undefined;
    for (const p of this.spawned.splice(0)) await stopProcess(p);
    fs.rmSync(path.join(this.dir, "processes.json"), { force: true });
    this.started.clear();
    this.claimed.clear();
    this.reportedReady.clear();
    this.ready_.splice(0);
  }
}
