/**
 * The dev stack on the test control plane with the real controllers, exercised past admission:
 * - the scrape configuration the real prometheus-operator generates from the platform's PodMonitor, run by
 *   a real Prometheus discovering the cluster's pods, gives a predictor pod the labels the KEDA queries use;
 * - one autoscaling loop end to end: vLLM series scraped by a real Prometheus, KEDA's operator and metrics
 *   API server answering the HPA, kube-controller-manager's HPA controller scaling the predictor up and back;
 * - a rollout step (canary 10% → 50%) changes the VirtualService's weights and nothing else in the cluster.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as zlib from "node:zlib";
import { parse, stringify } from "yaml";
import { clusterWithControllers, deployWithControllers } from "./harness";
import { buildTool } from "../build";
import { clusterDown, type ClusterState } from "../cluster";
import { LocalControllers } from "../controllers";
import { Kube, waitFor, type KubeObject } from "../kube";
import { fakeNodes } from "../nodes";
import { deployOrder, RELEASE_TYPE } from "../order";
import { ServiceProxy } from "../serviceProxy";
import { stackConfig } from "../stack";
import { REPO } from "../paths";
import { planStack, type Plan } from "../../tools/planRunner";
import { readStackFile, type StackFileConfig } from "../../tools/stackFile";
import { PrometheusServer } from "../../test/prometheusHarness";
import { injectedSidecarPorts, podMonitorTargetLabels, vllmModelNameLabel } from "../../test/scrapedLabels";
import { PROMETHEUS_URL } from "../../models/addons/monitoring";

const CLUSTER = "e2e-selftest-loop";
const MODEL = "llama-31-8b";

type Model = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The dev stack file with the llama model edited (fast scale-down for the loop, or another rollout share). */
function devWith(edit: (llama: Model) => void): StackFileConfig {
  const file = readStackFile(REPO, "dev");
  const models = JSON.parse(file.config["inference-platform:models"]!) as Model[];
  edit(models.find((m) => m.name === MODEL)!);
  return { ...file, config: { ...file.config, "inference-platform:models": JSON.stringify(models) } };
}
const fastLoop = (m: Model) => {
  m.autoscaling.pollingIntervalSeconds = 5;
  m.autoscaling.scaleDownStabilizationSeconds = 30;
};

describe("e2e: the real controllers reconcile the dev stack (scrape path, autoscaling loop, rollout step)", function () {
  this.timeout(30 * 60_000);
  let state: ClusterState;
  let kube: Kube;
  let plan: Plan;
  let proxy: ServiceProxy;
  let controllers: LocalControllers;
  const prometheus: PrometheusServer[] = [];

  before(async () => {
    proxy = await ServiceProxy.start();
    plan = await planStack("dev", devWith(fastLoop), { revealSecrets: true });
    // KEDA's operator queries the platform's in-cluster Prometheus URL: the proxy plays that Service.
    const cluster = await clusterWithControllers(CLUSTER, fakeNodes(stackConfig("dev")), {
      "keda-operator": proxy.env(),
    });
    ({ state, kube, controllers } = cluster);
    const report = await deployWithControllers(cluster, plan);
    assert.deepEqual(report.errors, []);
  });
  after(async () => {
    for (const p of prometheus) p.stop();
    await controllers?.stop();
    await proxy?.close();
    await clusterDown(CLUSTER);
  });

  const predictorPod = async () => {
    const pods = await kube.list("v1", "Pod", {
      namespace: "models",
      labelSelector: `serving.kserve.io/inferenceservice=${MODEL},component=predictor`,
    });
    assert.ok(pods.length > 0, "KServe created no predictor pod");
    return pods[0]!;
  };
  const podMonitor = () =>
    plan.objects.find((o) => o.object.kind === "PodMonitor" && o.object.metadata?.namespace === "models")!
      .object as unknown as KubeObject;

  it("prometheus-operator's generated scrape job, run by a real Prometheus, labels an injected predictor pod as the queries expect", async () => {
    const secret = await kube.get("v1", "Secret", "prometheus-kps-prometheus", "monitoring");
    const gz = Buffer.from((secret!.data as Record<string, string>)["prometheus.yaml.gz"]!, "base64");
    const generated = parse(zlib.gunzipSync(gz).toString("utf8")) as {
      scrape_configs: Array<Record<string, unknown>>;
    };
    const job = generated.scrape_configs.find((j) => j.job_name === "podMonitor/models/inference-services/0");
    assert.ok(
      job,
      `no scrape job for the PodMonitor (jobs: ${generated.scrape_configs.map((j) => j.job_name).join(", ")})`,
    );
    // The generated job as is, run by Prometheus 3.14 (the version kube-prometheus-stack runs, built from its
    // Go module; Debian's 2.42 has no Kubernetes discovery), pointed at this API server; the operator's
    // config-reloader substitutes $(SHARD) the same way.
    for (const sd of job.kubernetes_sd_configs as Array<Record<string, unknown>>)
      sd.kubeconfig_file = state.kubeconfig;
    const text = stringify({ global: { scrape_interval: "15s" }, scrape_configs: [job] }).replace(
      /\$\(SHARD\)/g,
      "0",
    );
    const prom = await PrometheusServer.startWithConfig(text, buildTool("prometheus").bin["prometheus"]);
    prometheus.push(prom);

    // A predictor pod as Istio's injector would leave it (istiod does not run here): KServe's pod plus the
    // istio-proxy container with the ports of the pinned injection template.
    const real = await predictorPod();
    const spec = real.spec as { nodeSelector?: Record<string, string>; tolerations?: unknown[] };
    const injected: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `${MODEL}-predictor-injected`,
        namespace: "models",
        labels: { ...(real.metadata.labels ?? {}), "pod-template-hash": "injected" },
      },
      spec: {
        nodeSelector: spec.nodeSelector,
        tolerations: spec.tolerations,
        containers: [
          {
            name: "kserve-container",
            image: "kserve/huggingfaceserver:v0.20.0-gpu",
            ports: [{ containerPort: 8080, protocol: "TCP" }],
          },
          {
            name: "istio-proxy",
            image: "docker.io/istio/proxyv2:1.30.3",
            ports: injectedSidecarPorts().map((p) => ({
              containerPort: p.containerPort,
              name: p.name,
              protocol: "TCP",
            })),
          },
        ],
      },
    };
    await kube.create(injected);
    const ip = await waitFor(
      "the injected pod's IP",
      async () =>
        ((await kube.get("v1", "Pod", injected.metadata.name, "models"))?.status as { podIP?: string })
          ?.podIP,
      { timeoutMs: 60_000 },
    );
    const target = await waitFor(
      "Prometheus to discover the injected pod",
      async () => (await prom.targets()).find((t) => t.labels.pod === injected.metadata.name),
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    const expected = podMonitorTargetLabels(podMonitor(), {
      namespace: "models",
      name: injected.metadata.name,
      ip,
      containers: [
        { name: "kserve-container", ports: [{ containerPort: 8080 }] },
        { name: "istio-proxy", ports: injectedSidecarPorts() },
      ],
    });
    assert.deepEqual(target.labels, expected);
    // The same pod without a sidecar (as KServe made it here) declares no metrics port: not a target.
    assert.equal(
      (await prom.targets()).some((t) => t.labels.pod === real.metadata.name),
      false,
    );
  });

  it("scales the predictor on vLLM's queue depth up to maxReplicas and back (Prometheus → KEDA → HPA controller)", async () => {
    const pod = await predictorPod();
    const isvc = (await kube.get("serving.kserve.io/v1beta1", "InferenceService", MODEL, "models"))!;
    const labels = podMonitorTargetLabels(podMonitor(), {
      namespace: "models",
      name: pod.metadata.name,
      ip: (pod.status as { podIP: string }).podIP,
      containers: [{ name: "istio-proxy", ports: injectedSidecarPorts() }],
    })!;
    // vLLM's own exposition at the merged port: its gauges carry model_name (the served name) and engine.
    let waiting = 20;
    const modelName = vllmModelNameLabel(isvc);
    const exporter = http.createServer((_req, res) => {
      res.setHeader("Content-Type", "text/plain; version=0.0.4");
      res.end(
        [
          "# TYPE vllm:num_requests_waiting gauge",
          `vllm:num_requests_waiting{model_name="${modelName}",engine="0"} ${waiting}`,
          "# TYPE vllm:kv_cache_usage_perc gauge",
          `vllm:kv_cache_usage_perc{model_name="${modelName}",engine="0"} 0.1`,
          "",
        ].join("\n"),
      );
    });
    await new Promise<void>((r) => exporter.listen(0, "127.0.0.1", r));
    const exporterPort = (exporter.address() as { port: number }).port;
    const { instance: _instance, ...targetLabels } = labels;
    const prom = await PrometheusServer.startWithConfig(
      stringify({
        global: { scrape_interval: "5s" },
        scrape_configs: [
          {
            job_name: "merged-15020",
            static_configs: [{ targets: [`127.0.0.1:${exporterPort}`], labels: targetLabels }],
          },
        ],
      }),
    );
    prometheus.push(prom);
    proxy.route(new URL(PROMETHEUS_URL).host, prom.port);
    const replicas = async () =>
      (
        (await kube.get("apps/v1", "Deployment", `${MODEL}-predictor`, "models"))?.spec as {
          replicas?: number;
        }
      ).replicas;
    try {
      const t0 = Date.now();
      await waitFor(
        "the predictor to scale to 2 replicas",
        async () => ((await replicas()) === 2 ? true : undefined),
        {
          timeoutMs: 240_000,
          intervalMs: 2000,
          describe: async () =>
            JSON.stringify(
              (await kube.get("autoscaling/v2", "HorizontalPodAutoscaler", `keda-hpa-${MODEL}`, "models"))
                ?.status,
            ),
        },
      );
      const up = (Date.now() - t0) / 1000;
      waiting = 0;
      await waitFor(
        "the predictor to scale back to 1 replica",
        async () => ((await replicas()) === 1 ? true : undefined),
        {
          timeoutMs: 360_000,
          intervalMs: 2000,
          describe: async () =>
            JSON.stringify(
              (await kube.get("autoscaling/v2", "HorizontalPodAutoscaler", `keda-hpa-${MODEL}`, "models"))
                ?.status,
            ),
        },
      );
      console.log(
        `      scaled up after ${up.toFixed(0)} s, back down after ${((Date.now() - t0) / 1000 - up).toFixed(0)} s`,
      );
    } finally {
      exporter.close();
    }
  });

  it("a rollout step (canary 10% → 50%) changes the VirtualService weights and nothing else", async () => {
    const next = await planStack(
      "dev",
      devWith((m) => (fastLoop(m), (m.rollout.percent = 50))),
      { revealSecrets: true },
    );
    const objects = (p: Plan) =>
      deployOrder(p.resources)
        .filter((r) => r.type !== RELEASE_TYPE)
        .map((r) => r.inputs as unknown as KubeObject);
    const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const snapshot = async (list: KubeObject[]) => {
      const out = new Map<string, { uid: string; generation: number; resourceVersion: string }>();
      for (const o of list) {
        const live = await kube.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace);
        if (live)
          out.set(key(o), {
            uid: String(live.metadata.uid),
            generation: Number(live.metadata.generation ?? 0),
            resourceVersion: String(live.metadata.resourceVersion),
          });
      }
      return out;
    };
    // What the platform owns, and what KServe derived from it.
    const derived: KubeObject[] = [`${MODEL}-predictor`, `${MODEL}-canary-predictor`].map((name) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: "models" },
    }));
    const watched = [...objects(next), ...derived];
    const before = await snapshot(watched);
    for (const o of objects(next)) await kube.apply(o);
    await new Promise((r) => setTimeout(r, 5000)); // let the controllers react to whatever changed
    const after = await snapshot(watched);
    const changed = [...after.entries()]
      .filter(([k, v]) => before.get(k)?.generation !== v.generation)
      .map(([k]) => k);
    const replaced = [...after.entries()].filter(([k, v]) => before.get(k)?.uid !== v.uid).map(([k]) => k);
    assert.deepEqual(replaced, []);
    assert.deepEqual(changed, [`VirtualService/models/${MODEL}`]);
    const vs = (await kube.get("networking.istio.io/v1", "VirtualService", MODEL, "models"))!;
    const route = (vs.spec as { http: Array<{ name: string; route: Array<{ weight: number }> }> }).http.find(
      (h) => h.name === "default",
    )!.route;
    assert.deepEqual(
      route.map((r) => r.weight),
      [50, 50],
    );
  });
});
