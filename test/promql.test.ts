/**
 * Every Prometheus query the stack's autoscalers emit, run on a real Prometheus loaded with series
 * shaped like the scraped ones: vLLM's (model_name, engine) and Triton's metrics merged into the
 * Istio sidecar's port, Istio's own histograms, and dcgm-exporter's per-GPU series with the pod
 * attribution kept by honorLabels — plus decoys (the rollout candidate's pods, the same model in another
 * namespace, an idle GPU, source-reported Istio series) that a correct query must not pick up.
 * Each query must return exactly one sample with the value the synthetic load implies.
 */
import * as assert from "node:assert/strict";
import { modelObjects } from "../models/serving/modelObjects";
import { resolveModel } from "../models/serving/resolve";
import type { K8sObject } from "../models/k8s";
import type { ModelConfig } from "../models/plannedModel";
import { predictorDeploymentName } from "../models/names";
import { validateCustomResource } from "../conformance/crdSchema";
import { namespaceObjects } from "../models/serving/namespace";
import { runtimeSpec } from "../models/serving/runtimes";
import { entryComponent, serviceHost } from "../models/serving/traffic";
import {
  gatewayProxyPorts,
  injectedSidecarPorts,
  podMonitorTargetLabels,
  vllmModelNameLabel,
} from "./scrapedLabels";
import { PrometheusServer, syntheticSeries, type Series } from "./prometheusHarness";
import { stackRaw, validate } from "./helpers";

const STEP = 15;
const END = Math.floor(Date.now() / 1000 / 60) * 60 - 60;
const START = END - 30 * 60;
const TIMES = Array.from({ length: (END - START) / STEP + 1 }, (_, i) => START + i * STEP);

interface PodLoad {
  readonly pod: string;
  readonly waiting: number;
  readonly running: number;
  readonly kvUsage: number;
  readonly tokensPerSecond: number;
  readonly gpuUtil: number[];
  readonly tritonQueueMicrosPerSecond: number;
  readonly tritonRequestsPerSecond: number;
  readonly requestsPerSecond: number;
}

interface Scope {
  readonly namespace: string;
  readonly isvc: string;
  readonly model: ModelConfig;
  readonly pods: PodLoad[];
  /** The InferenceService object the platform emits (its args decide vLLM's model_name label). */
  readonly object: K8sObject;
}

const { gauge, counter, histogram } = syntheticSeries(TIMES);

/** The ingress gateway pod as its PodMonitor scrapes it (istio-system/ingress-gateway, port http-envoy-prom). */
const gatewayTarget = {
  namespace: "istio-system",
  pod: "istio-ingressgateway-5d8f7c9b4-abcde",
  container: "istio-proxy",
  endpoint: gatewayProxyPorts().find((p) => p.containerPort === 15090)!.name!,
  job: "istio-system/ingress-gateway",
  instance: "10.0.2.5:15090",
};

function seriesOf(scope: Scope): Series[] {
  const out: Series[] = [];
  const gpus = scope.model.gpu?.count ?? 0;
  const podMonitor = namespaceObjects(scope.namespace, "dev", "1.34").find((o) => o.kind === "PodMonitor")!;
  const spec = runtimeSpec(scope.model.runtime, scope.model.format);
  scope.pods.forEach((p, n) => {
    // What the emitted PodMonitor attaches to every sample it scrapes from this pod (the model server
    // declares its port; Istio injects istio-proxy with the ports of the pinned injection template).
    const target = podMonitorTargetLabels(podMonitor, {
      namespace: scope.namespace,
      name: p.pod,
      ip: `10.0.3.${n + 10}`,
      containers: [
        { name: "kserve-container", ports: [{ containerPort: spec.port }] },
        { name: "istio-proxy", ports: injectedSidecarPorts() },
      ],
    });
    if (!target)
      throw new Error(`the PodMonitor selects no target on ${p.pod}: no container declares its port`);
    // The gateway reports every request for the model's entry Service (also when it has no pods).
    const entry = entryComponent({ transformer: scope.model.transformer });
    out.push(
      counter(
        "istio_requests_total",
        {
          ...gatewayTarget,
          reporter: "source",
          source_workload: "istio-ingressgateway",
          source_workload_namespace: "istio-system",
          destination_service: serviceHost(scope.isvc, scope.namespace, entry),
          destination_service_name: `${scope.isvc}-${entry}`,
          destination_service_namespace: scope.namespace,
          destination_workload: n === 0 ? "unknown" : `${scope.isvc}-${entry}`,
          response_code: n === 0 ? "503" : "200",
        },
        p.requestsPerSecond,
      ),
    );
    if (scope.model.runtime === "vllm") {
      const vllm = { ...target, model_name: vllmModelNameLabel(scope.object), engine: "0" };
      out.push(
        gauge("vllm:num_requests_waiting", vllm, p.waiting),
        gauge("vllm:num_requests_running", vllm, p.running),
        gauge("vllm:kv_cache_usage_perc", vllm, p.kvUsage),
        counter("vllm:generation_tokens_total", vllm, p.tokensPerSecond),
        ...histogram("vllm:e2e_request_latency_seconds", vllm, p.requestsPerSecond, "0.5", "1.0"),
      );
    }
    if (scope.model.runtime === "triton") {
      const triton = { ...target, model: scope.model.name, version: "1" };
      out.push(
        counter("nv_inference_queue_duration_us", triton, p.tritonQueueMicrosPerSecond),
        counter("nv_inference_request_success", triton, p.tritonRequestsPerSecond),
      );
    }
    const istio = {
      ...target,
      destination_workload: predictorDeploymentName(scope.isvc),
      destination_workload_namespace: scope.namespace,
    };
    out.push(
      ...histogram(
        "istio_request_duration_milliseconds",
        { ...istio, reporter: "destination" },
        p.requestsPerSecond,
        "100",
        "250",
      ),
      // The same pod as a client (e.g. calling the storage API): must not count as serving latency.
      ...histogram(
        "istio_request_duration_milliseconds",
        { ...istio, reporter: "source" },
        p.requestsPerSecond,
        "5000",
        "10000",
      ),
    );
    // dcgm-exporter: one series per GPU, scraped from the exporter with honorLabels (pod/namespace of the workload).
    for (let g = 0; g < gpus; g++)
      out.push(
        gauge(
          "DCGM_FI_DEV_GPU_UTIL",
          {
            gpu: String(g),
            UUID: `GPU-${scope.isvc}-${n}-${g}`,
            device: `nvidia${g}`,
            modelName: "NVIDIA L4",
            Hostname: `ip-10-0-1-${n}`,
            container: "kserve-container",
            namespace: scope.namespace,
            pod: p.pod,
            job: "dcgm-exporter",
            instance: `10.0.1.${n}:9400`,
          },
          p.gpuUtil[g] ?? 0,
        ),
      );
  });
  return out;
}

function scopeFor(
  namespace: string,
  isvc: string,
  model: ModelConfig,
  object: K8sObject,
  seed: number,
): Scope {
  const pods = ["7c9f6d5b8-x2k4p", "7c9f6d5b8-q8z7m"].map((suffix, n) => ({
    pod: `${predictorDeploymentName(isvc)}-${suffix}`,
    waiting: n === 0 ? 2 + seed : 5,
    running: n === 0 ? 1 : 3 + seed,
    kvUsage: n === 0 ? 0.25 : 0.125 * (1 + (seed % 4)),
    tokensPerSecond: n === 0 ? 100 + 10 * seed : 50,
    gpuUtil: Array.from({ length: 8 }, (_, g) => (n === 0 ? 80 - g : 60 + seed + g)),
    tritonQueueMicrosPerSecond: n === 0 ? 4000 : 6000 + 100 * seed,
    tritonRequestsPerSecond: n === 0 ? 40 : 60,
    requestsPerSecond: n === 0 ? 2 : 3,
  }));
  return { namespace, isvc, model, pods, object };
}

/** The value a correct query returns for this scope's load. */
function expected(trigger: string, scope: Scope): number {
  const sum = (f: (p: PodLoad) => number) => scope.pods.reduce((s, p) => s + f(p), 0);
  const gpus = scope.model.gpu?.count ?? 0;
  switch (trigger) {
    case "queue-depth":
      return sum((p) => p.waiting);
    case "running-requests":
      return sum((p) => p.running);
    case "kv-cache-usage":
      return sum((p) => p.kvUsage);
    case "token-throughput":
      return sum((p) => p.tokensPerSecond);
    case "gpu-utilization":
      return sum((p) => p.gpuUtil.slice(0, gpus).reduce((a, b) => a + b, 0));
    case "triton-queue-time":
      return sum((p) => p.tritonQueueMicrosPerSecond) / sum((p) => p.tritonRequestsPerSecond);
    case "p99-latency":
      // All observations in (0.5, 1] s (vLLM) or (100, 250] ms (Istio): linear interpolation at rank 0.99.
      return scope.model.runtime === "vllm" ? 0.5 + 0.5 * 0.99 : (100 + 150 * 0.99) / 1000;
    default:
      throw new Error(`no expectation for trigger ${trigger}`);
  }
}

type Raw = { models: Array<Record<string, unknown> & { autoscaling: Record<string, unknown> }> };

/** The dev stack with every trigger type the runtimes support, on top of the checked-in stacks. */
function allTriggersRaw(): Raw {
  const raw = stackRaw("dev") as Raw;
  raw.models[0]!.autoscaling.triggers = [
    { type: "queueDepth", target: 5, activation: 1 },
    { type: "runningRequests", target: 8 },
    { type: "kvCacheUsage", target: 0.8 },
    { type: "tokenThroughput", target: 500 },
    { type: "p99Latency", targetSeconds: 20 },
    { type: "gpuUtilization", targetPercent: 85 },
  ];
  raw.models[1]!.autoscaling.triggers = [
    { type: "tritonQueueTime", targetMicroseconds: 50000 },
    { type: "p99Latency", targetSeconds: 0.5 },
    { type: "gpuUtilization", targetPercent: 70 },
  ];
  return raw;
}

function scaledObjects(
  stack: string,
  raw: Record<string, unknown>,
): Array<{ so: K8sObject; model: ModelConfig; isvc: K8sObject }> {
  const cfg = validate(raw, stack);
  const ctx = {
    region: cfg.region,
    domain: "models.internal",
    prometheus: { serverAddress: "http://prometheus:9090" },
    secretObjectNames: { hfToken: "hf-token" },
  };
  return cfg.models.flatMap((m) => {
    const objects = modelObjects(resolveModel(m, cfg), ctx);
    return objects.autoscalers.map((so) => ({
      so,
      model: m as ModelConfig,
      isvc: objects.inferenceServices.find((i) => i.metadata.name === so.metadata.name)!,
    }));
  });
}

describe("autoscaling queries on a real Prometheus", function () {
  this.timeout(60_000);
  let prometheus: PrometheusServer;
  const cases = [
    ...scaledObjects("dev", stackRaw("dev")),
    ...scaledObjects("prod", stackRaw("prod")),
    ...scaledObjects("dev", allTriggersRaw()),
  ];
  const scopes = new Map<string, Scope>();
  for (const { so, model, isvc } of cases) {
    const key = `${so.metadata.namespace}/${so.metadata.name}`;
    if (!scopes.has(key))
      scopes.set(key, scopeFor(so.metadata.namespace!, so.metadata.name, model, isvc, scopes.size));
  }

  before(async () => {
    const series = [...scopes.values()].flatMap(seriesOf);
    // Decoys: the same models in another namespace, and an idle GPU with no pod attribution.
    for (const scope of scopes.values()) series.push(...seriesOf({ ...scope, namespace: "team-b" }));
    series.push({
      name: "DCGM_FI_DEV_GPU_UTIL",
      labels: {
        gpu: "3",
        UUID: "GPU-idle",
        Hostname: "ip-10-0-1-9",
        modelName: "NVIDIA L4",
        job: "dcgm-exporter",
        instance: "10.0.1.9:9400",
      },
      points: TIMES.map((t) => [t, 0] as const),
    });
    prometheus = await PrometheusServer.start(series);
  });
  after(() => prometheus?.stop());

  it("covers every KEDA trigger type", () => {
    const names = new Set(
      cases.flatMap(({ so }) =>
        (so.spec as { triggers: Array<{ name: string }> }).triggers.map((t) => t.name),
      ),
    );
    assert.deepEqual([...names].sort(), [
      "gpu-utilization",
      "kv-cache-usage",
      "p99-latency",
      "queue-depth",
      "running-requests",
      "token-throughput",
      "triton-queue-time",
    ]);
  });

  it("returns exactly one sample with the expected value for every trigger of every ScaledObject", async () => {
    let checked = 0;
    for (const { so } of cases) {
      const scope = scopes.get(`${so.metadata.namespace}/${so.metadata.name}`)!;
      for (const t of (so.spec as { triggers: Array<{ name: string; metadata: { query: string } }> })
        .triggers) {
        const samples = await prometheus.query(t.metadata.query, END);
        const where = `${so.metadata.name} ${t.name}: ${t.metadata.query}`;
        assert.equal(
          samples.length,
          1,
          `${where} returned ${samples.length} series: ${JSON.stringify(samples)}`,
        );
        const want = expected(t.name, scope);
        assert.ok(
          Math.abs(samples[0]!.value - want) <= 1e-6 * Math.max(1, want),
          `${where} = ${samples[0]!.value}, expected ${want}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 15, `only ${checked} queries checked`);
  });

  it("emits ScaledObjects for every trigger type that are valid against KEDA's CRD", () => {
    for (const { so } of cases) assert.deepEqual(validateCustomResource(so), [], so.metadata.name);
  });

  it("wakes a Standard-mode model scaled to zero on gateway requests (its own series are gone at zero); never in prod", async () => {
    const raw = allTriggersRaw();
    raw.models[0]!.autoscaling.minReplicas = 0;
    const dev = scaledObjects("dev", raw).find(({ so }) => so.metadata.name === "llama-31-8b")!.so;
    const spec = dev.spec as {
      minReplicaCount: number;
      initialCooldownPeriod?: number;
      triggers: Array<{ name: string; metadata: Record<string, string> }>;
    };
    assert.equal(spec.minReplicaCount, 0);
    // No claim that initialCooldownPeriod protects loading replicas: it applies only to scaling to zero.
    assert.equal(spec.initialCooldownPeriod, undefined);
    const wake = spec.triggers.find((t) => t.name === "gateway-requests")!;
    assert.equal(wake.metadata.activationThreshold, "0");
    // At zero replicas the model's own queries return nothing (KEDA reads 0: it would never wake) ...
    const own = spec.triggers.find((t) => t.name === "queue-depth")!;
    assert.deepEqual(
      await prometheus.query(own.metadata.query!.replace(/llama-31-8b/g, "absent-model"), END),
      [],
    );
    // ... while the gateway reports requests for the model's Service.
    const samples = await prometheus.query(wake.metadata.query!, END);
    assert.equal(samples.length, 1);
    assert.ok(Number(samples[0]!.value) > 0, "requests at the gateway must read as activity");
    const prod = stackRaw("prod") as Raw;
    prod.models[0]!.autoscaling.minReplicas = 0;
    assert.throws(() => validate(prod, "prod"), /prod never scales an LLM to zero/);
  });

  it("a query that matches several series fails the check (the harness can see the mistake)", async () => {
    const samples = await prometheus.query('vllm:num_requests_waiting{namespace="models"}', END);
    assert.ok(samples.length > 1);
  });
});
