/**
 * Serving correctness against what the pinned upstream components do (each case cites the source it
 * encodes in the builder it tests): every assertion here fails on the behaviour the platform had before.
 */
import * as assert from "node:assert/strict";
import { modelObjects } from "../models/serving/modelObjects";
import { resolveModel } from "../models/serving/resolve";
import { knativePodSpecProblems } from "../conformance/knativePodSpec";
import { checkConformance } from "../conformance";
import { addonCatalog, addonContext, orderAddons } from "../models/addons";
import { loadBalancerVerdict } from "../e2e/deploy";
import { CLOUD_FIXTURE, stackRaw, validate } from "./helpers";
import type { K8sObject } from "../models/k8s";
import { namespaceObjects } from "../models/serving/namespace";

type Raw = { models: Array<Record<string, unknown>> } & Record<string, unknown>;

function objectsOf(stack: string, raw: Record<string, unknown> = stackRaw(stack)) {
  const cfg = validate(raw, stack);
  const ctx = {
    region: cfg.region,
    domain: "models.internal",
    prometheus: { serverAddress: "http://prometheus:9090" },
    secretObjectNames: { hfToken: "hf-token" },
  };
  return { cfg, byModel: new Map(cfg.models.map((m) => [m.name, modelObjects(resolveModel(m, cfg), ctx)])) };
}

const predictorOf = (isvc: K8sObject) => (isvc.spec as { predictor: Record<string, unknown> }).predictor;

describe("serving correctness (what KServe, Knative, KEDA, Istio do with the objects)", () => {
  it("model namespaces deny by default and open exactly what a sidecar-injected predictor needs", () => {
    const policies = namespaceObjects("models", "dev", "1.34").filter((o) => o.kind === "NetworkPolicy");
    type Peer = {
      podSelector?: { matchLabels?: Record<string, string> };
      ipBlock?: { cidr: string; except?: string[] };
    };
    type Spec = {
      podSelector: object;
      policyTypes: string[];
      ingress?: Array<{ from: Array<{ namespaceSelector: { matchLabels: Record<string, string> } }> }>;
      egress?: Array<{ to: Peer[]; ports?: Array<{ protocol: string; port: number }> }>;
    };
    const spec = (name: string) => policies.find((p) => p.metadata.name === name)!.spec as Spec;
    assert.deepEqual(spec("default-deny"), { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const callers = spec("allow-platform-ingress").ingress![0]!.from.map(
      (f) => f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
    );
    assert.deepEqual(callers.sort(), ["istio-system", "knative-serving", "models", "monitoring"]);
    const egress = spec("allow-serving-egress").egress!;
    const ports = (match: (to: Peer) => boolean) =>
      egress
        .filter((r) => r.to.some(match))
        .flatMap((r) => (r.ports ?? []).map((p) => `${p.protocol}/${p.port}`));
    assert.deepEqual(
      ports((t) => t.podSelector?.matchLabels?.["k8s-app"] === "kube-dns"),
      ["UDP/53", "TCP/53"],
    );
    assert.deepEqual(
      ports((t) => t.podSelector?.matchLabels?.app === "istiod"),
      ["TCP/15012"],
    );
    assert.deepEqual(
      ports((t) => t.ipBlock?.cidr === "169.254.170.23/32"),
      ["TCP/80"],
    );
    assert.deepEqual(
      ports((t) => t.podSelector?.matchLabels?.app === "activator"),
      ["TCP/8012", "TCP/8013"],
    );
    const https = egress.find((r) => r.to.some((t) => t.ipBlock?.cidr === "0.0.0.0/0"))!;
    assert.deepEqual(https.ports, [{ protocol: "TCP", port: 443 }]);
    assert.deepEqual(https.to[0]!.ipBlock!.except, ["169.254.0.0/16"], "IMDS stays unreachable");
  });

  it("Knative-mode predictors carry no field Knative refuses; the grace period comes from timeout", () => {
    const { byModel } = objectsOf("local");
    const iris = byModel.get("iris")!.inferenceServices[0]!;
    const p = predictorOf(iris);
    assert.equal(p.terminationGracePeriodSeconds, undefined);
    assert.equal(p.timeout, 60);
    const features = {
      "kubernetes.podspec-nodeselector": "enabled",
      "kubernetes.podspec-tolerations": "enabled",
      "kubernetes.podspec-affinity": "enabled",
      "kubernetes.podspec-topologyspreadconstraints": "enabled",
    };
    assert.deepEqual(knativePodSpecProblems(p, features), []);
    // The check names the field Knative refuses outright, and flagged fields that are not enabled.
    assert.match(
      knativePodSpecProblems({ ...p, terminationGracePeriodSeconds: 30 }, features)[0]!,
      /never allows it/,
    );
    assert.match(
      knativePodSpecProblems({ nodeSelector: { a: "b" } }, {})[0]!,
      /kubernetes.podspec-nodeselector/,
    );
    // Standard mode keeps the pod field (KServe's Deployment takes it).
    const llama = objectsOf("dev").byModel.get("llama-31-8b")!.inferenceServices[0]!;
    assert.equal(predictorOf(llama).terminationGracePeriodSeconds, 120);
  });

  it("the offline conformance refuses a Knative predictor with a pod field Knative masks", async () => {
    const { byModel } = objectsOf("local");
    const iris = structuredClone(byModel.get("iris")!.inferenceServices[0]!);
    predictorOf(iris).terminationGracePeriodSeconds = 30;
    const report = await checkConformance([{ resource: "isvc", object: iris as never }], []);
    assert.ok(
      report.errors.some((e) => /terminationGracePeriodSeconds: Knative never allows it/.test(e)),
      report.errors.join("\n"),
    );
  });

  it("hands a gated hf:// model's token to KServe's storage initializer: a Secret with key HF_TOKEN listed on the ServiceAccount", () => {
    const { byModel } = objectsOf("dev");
    const llama = byModel.get("llama-31-8b")!;
    assert.deepEqual((llama.serviceAccount as { secrets?: unknown }).secrets, [{ name: "hf-token" }]);
    // No dead S3 annotations: KServe reads them only next to an IRSA role (Pod Identity needs none).
    assert.equal(llama.serviceAccount.metadata.annotations, undefined);
    const env = (
      predictorOf(llama.inferenceServices[0]!).model as {
        env: Array<{ valueFrom: { secretKeyRef: { key: string } } }>;
      }
    ).env;
    assert.equal(env[0]!.valueFrom.secretKeyRef.key, "HF_TOKEN");
    // Batch jobs read the same Secret and key.
    const job = JSON.stringify(llama.extras.find((o) => o.kind === "CronJob"));
    assert.match(job, /"secretKeyRef":\{"name":"hf-token","key":"HF_TOKEN"\}/);
  });

  it("makes Istio merge the model server's own metrics port, not KServe's queue-proxy port 9091", () => {
    const { byModel } = objectsOf("dev");
    const llama = byModel.get("llama-31-8b")!.inferenceServices[0]!;
    const resnet = byModel.get("resnet50")!.inferenceServices[0]!;
    assert.equal(llama.metadata.annotations?.["serving.kserve.io/enable-prometheus-scraping"], undefined);
    assert.deepEqual(predictorOf(llama).annotations, {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8080",
      "prometheus.io/path": "/metrics",
    });
    assert.equal((predictorOf(resnet).annotations as Record<string, string>)["prometheus.io/port"], "8002");
    // vLLM labels its metrics with the served name only when one is passed.
    assert.ok(
      (predictorOf(llama).model as { args: string[] }).args.includes("--served-model-name=llama-31-8b"),
    );
  });

  it("a Standard-mode canary of a KServe Python runtime serves under the model's name", () => {
    const raw = stackRaw("local") as Raw;
    const xgb = raw.models.find((m) => m.name === "churn-xgb")!;
    xgb.rollout = { candidate: { storageUri: "gs://kfserving-examples/models/xgboost/iris-2" }, percent: 10 };
    const objects = objectsOf("local", raw).byModel.get("churn-xgb")!;
    for (const isvc of objects.inferenceServices)
      assert.deepEqual(
        (predictorOf(isvc).model as { args: string[] }).args,
        ["--model_name=churn-xgb"],
        isvc.metadata.name,
      );
  });

  it("routes through the transformer, sends :explain to the explainer, and scales both on CPU", () => {
    const raw = stackRaw("local") as Raw;
    const xgb = raw.models.find((m) => m.name === "churn-xgb")!;
    xgb.transformer = { image: "example.com/feature-transformer:1.0" };
    xgb.explainer = { image: "example.com/explainer:1.0", maxReplicas: 2 };
    (xgb.autoscaling as Record<string, unknown>).minReplicas = 2; // a PodDisruptionBudget needs 2 replicas
    const objects = objectsOf("local", raw).byModel.get("churn-xgb")!;
    const vs = objects.routing.find((o) => o.kind === "VirtualService")!;
    const http = (
      vs.spec as { http: Array<{ name: string; route: Array<{ destination: { host: string } }> }> }
    ).http;
    assert.equal(
      http.find((h) => h.name === "default")!.route[0]!.destination.host,
      "churn-xgb-transformer.models.svc.cluster.local",
    );
    assert.equal(
      http.find((h) => h.name === "explain")!.route[0]!.destination.host,
      "churn-xgb-explainer.models.svc.cluster.local",
    );
    const spec = objects.inferenceServices[0]!.spec as Record<string, Record<string, unknown>>;
    // The InferenceService's `external` class (KEDA) would leave them at one pod: each gets KServe's HPA.
    assert.deepEqual(spec.transformer!.annotations, { "serving.kserve.io/autoscalerClass": "hpa" });
    assert.equal(spec.explainer!.maxReplicas, 2);
    assert.deepEqual((spec.transformer!.containers as Array<{ args: string[] }>)[0]!.args, [
      "--model_name=churn-xgb",
    ]);
    assert.ok(
      objects.routing.some(
        (o) => o.kind === "DestinationRule" && o.metadata.name === "churn-xgb-transformer",
      ),
    );
    // Selectors meant for the model server name the predictor component.
    assert.equal(objects.disruptionBudgets.length, 1);
    assert.ok(
      objects.disruptionBudgets.every((p) => JSON.stringify(p.spec).includes('"component":"predictor"')),
    );
  });

  it("lets KServe's storage initializer call HeadBucket (s3:ListBucket without s3:prefix)", () => {
    const { byModel } = objectsOf("prod");
    const policy = JSON.parse(byModel.get("llama-31-70b")!.s3[0]!.policy) as {
      Statement: Array<{ Sid: string; Condition?: Record<string, unknown> }>;
    };
    const list = policy.Statement.find((s) => s.Sid === "ListModelPrefix")!;
    assert.ok(list.Condition!.StringLikeIfExists, "a plain StringLike on s3:prefix denies HeadBucket");
    assert.equal(list.Condition!.StringLike, undefined);
  });

  it("CPU models may burst above their CPU request; GPU models keep requests = limits", () => {
    const { byModel } = objectsOf("local");
    const model = (
      predictorOf(byModel.get("churn-xgb")!.inferenceServices[0]!).model as {
        resources: Record<string, Record<string, string>>;
      }
    ).resources;
    assert.equal(model.requests!.cpu, "1");
    assert.equal(model.limits!.cpu, "2");
    assert.equal(model.limits!.memory, model.requests!.memory);
    const gpu = (
      predictorOf(objectsOf("dev").byModel.get("llama-31-8b")!.inferenceServices[0]!).model as {
        resources: Record<string, unknown>;
      }
    ).resources;
    assert.deepEqual(gpu.requests, gpu.limits);
  });

  it("on EKS, installs the AWS Load Balancer Controller before the gateway that needs its NLB, and metrics-server where an HPA reads CPU", () => {
    const dev = validate(stackRaw("dev"), "dev");
    const order = orderAddons(
      addonCatalog(
        addonContext(
          dev,
          dev.models.map((m) => resolveModel(m, dev)),
          CLOUD_FIXTURE,
        ),
      ),
    ).map((s) => s.name);
    assert.ok(order.indexOf("aws-load-balancer-controller") < order.indexOf("istio-ingressgateway"));
    assert.ok(!order.includes("metrics-server"), "dev has no CPU or memory autoscaling");
    const local = validate(stackRaw("local"), "local");
    const localOrder = orderAddons(
      addonCatalog(
        addonContext(
          local,
          local.models.map((m) => resolveModel(m, local)),
        ),
      ),
    ).map((s) => s.name);
    assert.ok(localOrder.includes("metrics-server"), "churn-xgb scales on CPU");
    assert.ok(!localOrder.includes("aws-load-balancer-controller"));
  });

  it("an NLB Service nothing acts on is an error (helm --wait would never finish), one the controller serves is not", () => {
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "gw",
        namespace: "istio-system",
        annotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "external" },
      },
      spec: { type: "LoadBalancer" },
    };
    assert.match(
      (loadBalancerVerdict(svc, new Set()) as { error: string }).error,
      /only the AWS Load Balancer Controller acts on/,
    );
    assert.ok("note" in loadBalancerVerdict(svc, new Set(["aws-load-balancer-controller"]))!);
    assert.equal(loadBalancerVerdict({ ...svc, spec: { type: "ClusterIP" } }, new Set()), undefined);
  });

  it("defaults maxReplicas so a model can scale, and reads an empty scrape as an error, not zero load", () => {
    const raw = stackRaw("dev") as Raw;
    const resnet = raw.models.find((m) => m.name === "resnet50")! as { autoscaling: Record<string, unknown> };
    delete resnet.autoscaling.maxReplicas;
    const { cfg, byModel } = objectsOf("dev", raw);
    assert.equal(cfg.models.find((m) => m.name === "resnet50")!.autoscaling.maxReplicas, 2);
    const so = byModel.get("llama-31-8b")!.autoscalers[0]!;
    const spec = so.spec as {
      fallback: Record<string, unknown>;
      triggers: Array<{ name: string; metadata: Record<string, string> }>;
    };
    assert.equal(spec.fallback.behavior, "currentReplicasIfHigher");
    assert.equal(spec.triggers.find((t) => t.name === "queue-depth")!.metadata.ignoreNullValues, "false");
  });
});
