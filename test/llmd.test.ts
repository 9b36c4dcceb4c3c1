/**
 * llm-d serving (models[].llmd): what config refuses, the LLMInferenceService the platform builds, the
 * add-ons it brings in order, and the prefill pods in the capacity plan. The real llmisvc controller's
 * view of the same objects is e2e/test/llmd.test.ts.
 */
import * as assert from "node:assert/strict";
import { CLOUD_FIXTURE, configError, problemPaths, stackRaw, validate } from "./helpers";
import { LLMD_MODEL } from "../e2e/llmd";
import { resolveModel } from "../models/serving/resolve";
import {
  LLMD_GATEWAY,
  llmdDisruptionBudgets,
  llmdPodLabels,
  llmInferenceService,
} from "../models/serving/llmInferenceService";
import { ENVIRONMENT_LABEL } from "../models/k8s";
import { K8S } from "../policy/policies/k8s";
import { prodModelsSurviveNodeLoss } from "../policy/policies/availability";
import { llmSharedMemory } from "../policy/policies/serving";
import { maxGpusPerModel } from "../policy/policies/cost";
import { kedaTargetsStandardMode, llmHasAutoscaler } from "../policy/policies/stack";
import { validateCustomResource } from "../conformance/crdSchema";
import { llmdDeploymentName } from "../models/names";
import { PrometheusServer, syntheticSeries } from "./prometheusHarness";
import { injectedSidecarPorts, podMonitorTargetLabels } from "./scrapedLabels";
import { modelObjects } from "../models/serving/modelObjects";
import { LLMD_POD_IP_TRAFFIC, LLMD_WORKLOAD_SELECTOR, namespaceObjects } from "../models/serving/namespace";
import { addonCatalog, addonContext, orderAddons } from "../models/addons";
import { GATEWAY_API } from "../models/versions";
import { llmdStackConfig } from "../e2e/llmd";
import { readStackFile } from "../tools/stackFile";
import { planStack, policyInputs, ROOT } from "../tools/planRunner";
import { runPolicies, stackPolicyConfig } from "../policy/offline";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The last whole minute but one: the synthetic series end there. */
const END = Math.floor(Date.now() / 1000 / 60) * 60 - 60;

/** The dev stack with the llm-d model (and room for it in the L4 pool). */
function devWithLlmd(model: Record<string, unknown> = {}): Any {
  const raw = stackRaw("dev") as Any;
  raw.models = [...raw.models, { ...structuredClone(LLMD_MODEL), ...model }];
  raw.gpuPools = raw.gpuPools.map((p: Any) => (p.name === "l4" ? { ...p, maxSize: p.maxSize + 3 } : p));
  return raw;
}

describe("llm-d serving", function () {
  this.timeout(60_000);

  it("refuses what KServe's LLMInferenceService or the platform's wiring cannot do, all at once", () => {
    const err = configError(
      devWithLlmd({
        runtime: "tgi",
        storageUri: "gs://bucket/qwen",
        autoscaling: { minReplicas: 0, maxReplicas: 3 },
        sessionAffinityHeader: "x-session",
      }),
      "dev",
    );
    const at = "models[3]";
    for (const path of ["runtime", "storageUri", "autoscaling.minReplicas", "sessionAffinityHeader"])
      assert.ok(
        problemPaths(err).includes(`${at}.${path}`),
        `${at}.${path} in ${problemPaths(err).join(", ")}`,
      );
    assert.match(err.message, /at least one decode pod/);
    assert.match(err.message, /not gs:\/\//);
    const rollout = configError(
      devWithLlmd({
        rollout: { candidate: { storageUri: "hf://Qwen/Qwen2.5-7B-Instruct-1M" }, percent: 10 },
      }),
      "dev",
    );
    assert.match(rollout.message, /models\[3\]\.rollout: .*router\.route\.group/);
  });

  it("builds an LLMInferenceService: one main container, the model's pool and identity, engine flags vllm serve takes", () => {
    const cfg = validate(devWithLlmd(), "dev");
    const placed = cfg.models.find((m) => m.name === LLMD_MODEL.name)!;
    const model = resolveModel(placed, cfg);
    const svc = llmInferenceService(model, {
      serviceAccountName: "qwen-25-7b-model",
      hfTokenSecretName: "hf-token",
    }) as Any;
    assert.equal(svc.apiVersion, "serving.kserve.io/v1alpha2");
    assert.equal(svc.spec.model.uri, LLMD_MODEL.storageUri);
    // LoRA through KServe's own wiring, with the slots the capacity planner counted.
    assert.deepEqual(svc.spec.model.lora, {
      adapters: [{ uri: LLMD_MODEL.adapters[0].storageUri, name: "qwen-25-7b-sql" }],
      maxRank: 16,
      maxAdapters: 1,
      maxCpuAdapters: 1,
    });
    assert.equal(svc.spec.model.name, LLMD_MODEL.name);
    // Decode pods autoscale: KServe leaves their replicas to the HPA only when spec.replicas is unset.
    assert.equal(svc.spec.replicas, undefined);
    assert.equal(svc.spec.prefill.replicas, 1);
    assert.deepEqual(svc.spec.parallelism, { tensor: 1 });
    assert.deepEqual(svc.spec.router.gateway.refs, [LLMD_GATEWAY]);
    // The endpoint picker runs without a sidecar: the gateway reaches it over the picker's own TLS.
    assert.deepEqual(svc.spec.router.scheduler, { labels: { "sidecar.istio.io/inject": "false" } });
    // Prefill and decode pods pass only the serving port through the sidecar: NIXL's ports stay open.
    for (const annotations of [svc.spec.annotations, svc.spec.prefill.annotations])
      assert.equal(annotations["traffic.sidecar.istio.io/includeInboundPorts"], "8000");
    for (const [template, role] of [
      [svc.spec.template, "kv_consumer"],
      [svc.spec.prefill.template, "kv_producer"],
    ]) {
      assert.equal(template.serviceAccountName, "qwen-25-7b-model");
      assert.equal(template.nodeSelector["inference-platform/pool"], "l4");
      const [main] = template.containers;
      assert.equal(main.name, "main");
      assert.equal(main.image, undefined, "the preset's image unless the model sets one");
      assert.equal(main.resources.limits["nvidia.com/gpu"], "1");
      const extra = main.env.find((e: Any) => e.name === "VLLM_ADDITIONAL_ARGS").value as string;
      // The preset passes the path, port, served name and --tensor-parallel-size; the Hugging Face
      // server's own flags would make vllm serve exit.
      // The controller adds the LoRA flags from spec.model.lora; given here too it would skip them.
      assert.doesNotMatch(
        extra,
        /--model_name|--backend|--tensor-parallel-size|--served-model-name|--enable-lora|--lora-modules/,
      );
      assert.match(extra, /--max-model-len=8192/);
      assert.match(extra, /--enable-prefix-caching/);
      // One shell word: the preset evaluates the variable in bash.
      assert.ok(
        extra.includes(`'--kv-transfer-config={"kv_connector":"NixlConnector","kv_role":"${role}"}'`),
        extra,
      );
      assert.ok(main.env.some((e: Any) => e.name === "HF_TOKEN"));
    }
    // No InferenceService machinery around it: KServe's controller owns the pods and the route.
    const objects = modelObjects(model, {
      region: "us-east-1",
      domain: "example.com",
      prometheus: { serverAddress: "http://prometheus", namespace: "monitoring" },
      secretObjectNames: { hfToken: "hf-token" },
    } as never);
    assert.deepEqual(
      objects.inferenceServices.map((o) => o.kind),
      ["LLMInferenceService"],
    );
    assert.deepEqual(
      objects.autoscalers.map((o) => [o.kind, (o.spec as Any).scaleTargetRef.name]),
      [["ScaledObject", "qwen-25-7b-kserve"]],
    );
    const [pickerTls] = objects.routing as Any[];
    assert.equal(pickerTls.kind, "DestinationRule");
    assert.equal(pickerTls.spec.host, "qwen-25-7b-epp-service.models.svc.cluster.local");
    // TLS on the gRPC port only: the Service's health, metrics and ZMQ ports are plaintext.
    assert.deepEqual(pickerTls.spec.trafficPolicy, {
      portLevelSettings: [{ port: { number: 9002 }, tls: { mode: "SIMPLE", insecureSkipVerify: true } }],
    });
    // The picker's tokenizer reads the weights as the controller's ServiceAccount.
    assert.deepEqual(objects.storageReaders, ["qwen-25-7b-epp-sa"]);
    // Without a split there is no NIXL traffic, so every port goes through the sidecar.
    const whole = llmInferenceService(resolveModel({ ...placed, llmd: {} }, cfg), {
      serviceAccountName: "qwen-25-7b-model",
    }) as Any;
    assert.equal(whole.spec.prefill, undefined);
    assert.equal(whole.spec.annotations["traffic.sidecar.istio.io/includeInboundPorts"], undefined);
  });

  it("lets llm-d's pod-IP requests reach the serving port and nothing else, and labels the gateway for the picker", () => {
    const cfg = validate(devWithLlmd(), "dev");
    const objects = namespaceObjects("models", "dev", "1.34", true) as Any[];
    const peer = objects.find(
      (o) => o.kind === "PeerAuthentication" && o.metadata.name === LLMD_POD_IP_TRAFFIC,
    )!;
    assert.deepEqual(peer.spec, {
      selector: LLMD_WORKLOAD_SELECTOR,
      mtls: { mode: "STRICT" },
      portLevelMtls: { "8000": { mode: "PERMISSIVE" } },
    });
    const allow = objects.find(
      (o) => o.kind === "AuthorizationPolicy" && o.metadata.name === LLMD_POD_IP_TRAFFIC,
    )!;
    assert.deepEqual(allow.spec.rules, [{ to: [{ operation: { ports: ["8000"] } }] }]);
    const plain = namespaceObjects("models", "dev", "1.34") as Any[];
    assert.ok(!plain.some((o) => o.metadata.name === LLMD_POD_IP_TRAFFIC));
    // The ports that bypass the sidecar are guarded by the network: llm-d pods leave the namespace-wide
    // rule for their own, where other namespaces reach only the serving and metrics ports.
    const policies = (list: Any[]) =>
      Object.fromEntries(
        list.filter((o) => o.kind === "NetworkPolicy").map((o) => [o.metadata.name, o.spec]),
      );
    assert.deepEqual(policies(plain)["allow-platform-ingress"].podSelector, {});
    const withLlmd = policies(objects);
    const worker = { key: "app.kubernetes.io/component", value: "llminferenceservice-workload-worker" };
    assert.deepEqual(withLlmd["allow-platform-ingress"].podSelector, {
      matchExpressions: [
        { key: "kserve.io/component", operator: "NotIn", values: ["workload"] },
        { key: worker.key, operator: "NotIn", values: [worker.value] },
      ],
    });
    // A LeaderWorkerSet's worker pods (a model over several nodes): their own namespace, and Prometheus on
    // the sidecar's ports.
    const workerIngress = withLlmd["allow-llm-d-worker-ingress"];
    assert.deepEqual(workerIngress.podSelector, { matchLabels: { [worker.key]: worker.value } });
    assert.deepEqual(
      workerIngress.ingress.map((rule: Any) => [
        rule.from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
        rule.ports?.map((p: Any) => p.port) ?? "all",
      ]),
      [
        ["monitoring", [15020, 15090]],
        ["models", "all"],
      ],
    );
    const llmdIngress = withLlmd["allow-llm-d-ingress"];
    assert.deepEqual(llmdIngress.podSelector, LLMD_WORKLOAD_SELECTOR);
    assert.deepEqual(
      llmdIngress.ingress.map((rule: Any) => [
        rule.from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
        rule.ports?.map((p: Any) => p.port) ?? "all",
      ]),
      [
        ["istio-system", [8000]],
        ["monitoring", [15020, 15090]],
        ["models", "all"],
      ],
    );

    const gateway = (stack: typeof cfg) =>
      addonCatalog(
        addonContext(
          stack,
          stack.models.map((m) => resolveModel(m, stack)),
          CLOUD_FIXTURE,
        ),
      ).find((a) => a.name === "istio-ingressgateway")!.values as Any;
    assert.deepEqual(gateway(cfg).labels, { "gateway.networking.k8s.io/gateway-name": LLMD_GATEWAY.name });
    assert.equal(gateway(validate(stackRaw("dev"), "dev")).labels, undefined);
  });

  it("spreads each role's pods over nodes and budgets their disruption; prod wants two of each", async () => {
    const cfg = validate(devWithLlmd(), "dev");
    const model = resolveModel(
      cfg.models.find((m) => m.name === LLMD_MODEL.name)!,
      cfg,
    );
    const svc = llmInferenceService(model, { serviceAccountName: "qwen-25-7b-model" }) as Any;
    for (const [template, role] of [
      [svc.spec.template, "decode"],
      [svc.spec.prefill.template, "prefill"],
    ]) {
      const selectors = template.topologySpreadConstraints.map((c: Any) => c.labelSelector.matchLabels);
      assert.deepEqual(selectors[0], llmdPodLabels(LLMD_MODEL.name, role));
      assert.deepEqual(
        template.topologySpreadConstraints.map((c: Any) => c.topologyKey),
        ["topology.kubernetes.io/zone", "kubernetes.io/hostname"],
      );
    }
    const budgets = llmdDisruptionBudgets(model) as Any[];
    assert.deepEqual(
      budgets.map((b) => [b.metadata.name, b.spec.selector.matchLabels["llm-d.ai/role"]]),
      [
        ["qwen-25-7b-kserve", "decode"],
        ["qwen-25-7b-kserve-prefill", "prefill"],
      ],
    );

    // Policy: in prod, one decode or one prefill pod is a single point of failure unless accepted.
    const prod = structuredClone(svc);
    prod.metadata.labels[ENVIRONMENT_LABEL] = "prod";
    const violations = await runPolicies(
      [{ type: K8S.llmisvc, name: "qwen", urn: "urn:qwen", props: prod } as never],
      stackPolicyConfig("prod"),
      [prodModelsSurviveNodeLoss],
    );
    assert.deepEqual(
      violations.map((v) => v.message.replace(/^.*?: /, "")),
      [
        "one decode replica, so a node loss stops it; run 2 or accept it (autoscaling.outageOnNodeLoss)",
        "one prefill replica, so a node loss stops it; run 2 or accept it (autoscaling.outageOnNodeLoss)",
      ],
    );
    prod.spec.replicas = 2;
    prod.spec.prefill.replicas = 2;
    assert.deepEqual(
      await runPolicies(
        [{ type: K8S.llmisvc, name: "qwen", urn: "urn:qwen", props: prod } as never],
        stackPolicyConfig("prod"),
        [prodModelsSurviveNodeLoss],
      ),
      [],
    );

    // A multi-GPU llm-d pod: /dev/shm comes from the preset, and the GPU budget counts both roles.
    const wide = structuredClone(svc);
    for (const template of [wide.spec.template, wide.spec.prefill.template])
      template.containers[0].resources.limits["nvidia.com/gpu"] = "4";
    wide.spec.replicas = 3;
    const budget = await runPolicies(
      [{ type: K8S.llmisvc, name: "qwen", urn: "urn:qwen", props: wide } as never],
      { ...stackPolicyConfig("dev"), "max-gpus-per-model": { maxGpusPerModel: 12 } } as never,
      [llmSharedMemory, maxGpusPerModel],
    );
    assert.deepEqual(
      budget.map((v) => v.message.replace(/^.*?: /, "")),
      ["16 GPUs (decode 12, prefill 4); the limit is 12"],
    );

    // Config says the same before anything is planned.
    const raw = stackRaw("prod") as Any;
    raw.models = [...raw.models, structuredClone(LLMD_MODEL)];
    const at = `models[${raw.models.length - 1}]`;
    assert.ok(problemPaths(configError(raw, "prod")).includes(`${at}.llmd.prefill.replicas`));
  });

  it("refuses llm-d with prefix caching off, flags its preset already passes, adapters it cannot fetch", () => {
    const err = configError(
      devWithLlmd({
        engine: { prefixCaching: false },
        args: ["--port=9000", "--enforce-eager"],
        adapters: [{ name: "sql", storageUri: "gs://bucket/sql", rank: 8 }],
      }),
      "dev",
    );
    assert.match(
      err.message,
      /models\[3\]\.adapters\[0\]\.storageUri: llmd fetches LoRA adapters from hf:\/\/, s3:\/\/, pvc:\/\/ .*not gs:\/\//,
    );
    assert.match(err.message, /models\[3\]\.args: llm-d's preset already passes --port=9000 \(/);
    assert.match(err.message, /models\[3\]\.engine\.prefixCaching: .*prefix/);
  });

  it("installs llm-d's add-ons only when a model uses it, CRDs and controller before the presets", () => {
    const plain = validate(stackRaw("dev") as Any, "dev");
    const without = addonCatalog(
      addonContext(
        plain,
        plain.models.map((m) => resolveModel(m, plain)),
        CLOUD_FIXTURE,
      ),
    );
    assert.ok(!without.some((a) => a.name.startsWith("kserve-llmisvc")));
    assert.equal((without.find((a) => a.name === "istiod")!.values as Any).env, undefined);

    const cfg = validate(devWithLlmd(), "dev");
    const specs = orderAddons(
      addonCatalog(
        addonContext(
          cfg,
          cfg.models.map((m) => resolveModel(m, cfg)),
          CLOUD_FIXTURE,
        ),
      ),
    );
    const names: string[] = specs.map((s) => s.name);
    const before = (a: string, b: string) =>
      assert.ok(names.indexOf(a) < names.indexOf(b), `${a} before ${b}`);
    before("kserve-llmisvc-crd", "kserve-llmisvc-resources");
    before("kserve-resources", "kserve-llmisvc-resources");
    before("kserve-llmisvc-resources", "kserve-runtime-configs");
    before("istiod", "kserve-llmisvc-resources");
    const crd = specs.find((s) => s.name === "kserve-llmisvc-crd")!;
    assert.deepEqual(
      crd.manifests?.map((m) => m.url),
      [GATEWAY_API.url],
    );
    const runtimeConfigs = specs.find((s) => s.name === "kserve-runtime-configs")!.values as Any;
    assert.equal(runtimeConfigs.kserve.llmisvcConfigs.enabled, true);
    const istiod = specs.find((s) => s.name === "istiod")!.values as Any;
    assert.equal(istiod.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION, "true");
    const gateway = specs.find((s) => s.name === "kserve-llmisvc-resources")!.objects![0] as Any;
    assert.equal(gateway.kind, "Gateway");
    assert.deepEqual(gateway.spec.addresses, [
      { type: "Hostname", value: "istio-ingressgateway.istio-system.svc.cluster.local" },
    ]);
  });

  it("counts the prefill pods beside the decode pods in the capacity plan", () => {
    const withPrefill = validate(devWithLlmd(), "dev");
    const without = validate(devWithLlmd({ llmd: {} }), "dev");
    const gpus = (cfg: typeof withPrefill) => cfg.capacity.pools.find((p) => p.pool === "l4")!.atMin.gpus;
    assert.equal(gpus(withPrefill), gpus(without) + 1);
    const planned = withPrefill.capacity.models.find((m) => m.model === LLMD_MODEL.name)!;
    // The adapter's slots are in the plan for llm-d models too.
    const notes = planned.llm?.notes ?? [];
    assert.ok(
      notes.some((n) => /^LoRA: 1 adapter slot\(s\) of rank 16/.test(n)),
      notes.join("; "),
    );
    const tracks = planned.tracks;
    assert.deepEqual(tracks, [
      { track: "stable", min: 1, max: 2 },
      { track: "prefill", min: 1, max: 1 },
    ]);
  });

  it("plans a stack whose llm-d objects conform to their CRDs and pass every policy", async () => {
    const file = readStackFile(ROOT, "dev");
    const plan = await planStack("dev", { config: llmdStackConfig(file), secretKeys: file.secretKeys });
    // The ingress gateway's label for the Gateway is a key of the chart's open `labels` map.
    assert.deepEqual(plan.conformance.errors, []);
    const types = plan.resources.map((r) => r.type);
    assert.ok(types.includes("kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService"));
    assert.ok(types.includes("kubernetes:gateway.networking.k8s.io/v1:Gateway"));
    // The fixture adds a model of up to 3 GPUs (decode 1..2, prefill 1) to a dev stack budgeted at 8.
    const config = { ...(stackPolicyConfig("dev") as Any) };
    config["max-gpus-per-stack"] = { ...config["max-gpus-per-stack"], maxGpusPerStack: 9 };
    assert.deepEqual(await runPolicies(policyInputs(plan.resources), config), []);
  });

  describe("decode pods autoscaled by the platform's ScaledObject", () => {
    const ctx = {
      region: "us-east-1",
      domain: "example.com",
      prometheus: { serverAddress: "http://prometheus:9090" },
      secretObjectNames: { hfToken: "hf-token" },
    } as never;
    const objectsFor = (autoscaling: Any, model: Any = {}) => {
      const name = model.name ?? LLMD_MODEL.name;
      const cfg = validate(devWithLlmd({ autoscaling, ...model }), "dev");
      return modelObjects(
        resolveModel(
          cfg.models.find((m) => m.name === name)!,
          cfg,
        ),
        ctx,
      );
    };

    it("scales `<name>-kserve` between the bounds, leaving spec.replicas out; fixed replicas get none", () => {
      const objects = objectsFor({ minReplicas: 1, maxReplicas: 2 });
      const svc = objects.inferenceServices[0] as Any;
      assert.equal(svc.spec.replicas, undefined);
      assert.equal(svc.spec.prefill.replicas, 1, "prefill stays fixed");
      assert.deepEqual(svc.metadata.annotations, {
        "inference-platform/min-replicas": "1",
        "inference-platform/max-replicas": "2",
        // For the GPU-fit policy, which sees this object only.
        "inference-platform/architecture": "qwen2.5-7b",
      });
      assert.deepEqual(validateCustomResource(objects.autoscalers[0]!), []);
      const so = objects.autoscalers[0] as Any;
      assert.deepEqual(so.spec.scaleTargetRef, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "qwen-25-7b-kserve",
      });
      assert.equal(so.spec.minReplicaCount, 1);
      assert.equal(so.spec.maxReplicaCount, 2);
      // No wake-from-zero trigger: the minimum is at least 1.
      assert.deepEqual(
        so.spec.triggers.map((t: Any) => t.name),
        ["queue-depth"],
      );

      const fixed = objectsFor({ minReplicas: 2, maxReplicas: 2 });
      assert.equal((fixed.inferenceServices[0] as Any).spec.replicas, 2);
      assert.deepEqual(fixed.autoscalers, []);
    });

    /**
     * A Deployment's pod name as the API server makes it: the ReplicaSet `<deployment>-<hash>` plus `-` as
     * generateName, cut at 58 characters, then 5 random ones (apiserver storage/names/generate.go 49-53).
     */
    const podName = (deployment: string, hash: string, suffix: string) =>
      `${deployment}-${hash}-`.slice(0, 58) + suffix;

    for (const modelName of [LLMD_MODEL.name, "qwen-25-7b-instruct-for-support-tickets"])
      it(`reads the decode pods' vLLM series only, on a real Prometheus (${modelName.length}-character name)`, async () => {
        const triggers = [
          { type: "queueDepth", target: 4 },
          { type: "runningRequests", target: 16 },
          { type: "kvCacheUsage", target: 0.8 },
          { type: "p99Latency", targetSeconds: 20 },
        ];
        const objects = objectsFor({ minReplicas: 1, maxReplicas: 2, triggers }, { name: modelName });
        const svc = objects.inferenceServices[0] as Any;
        const so = objects.autoscalers[0] as Any;
        // The labels the llm-d PodMonitor puts on a pod's merged metrics (the routing sidecar on decode
        // pods proxies /metrics to vLLM: llm-d-inference-scheduler pkg/sidecar/proxy/proxy.go 396-405),
        // and vLLM's model_name: the first --served-model-name the preset passes, spec.model.name
        // (kserve-runtime-configs v0.20.0 resources.yaml 2561; vllm/config/model.py get_served_model_name).
        const podMonitor = namespaceObjects("models", "dev", "1.34", true).find(
          (o) => o.kind === "PodMonitor" && o.metadata.name === "llm-d-workloads",
        )!;
        const times = Array.from({ length: 121 }, (_, i) => END - 1800 + 15 * i);
        const { gauge, histogram } = syntheticSeries(times);
        const decode = llmdDeploymentName(modelName, "decode");
        const prefill = llmdDeploymentName(modelName, "prefill");
        const pods = [
          {
            namespace: "models",
            name: podName(decode, "5f6d7c8b9d", "x2k4p"),
            waiting: 3,
            running: 7,
            kv: 0.5,
          },
          {
            namespace: "models",
            name: podName(decode, "5f6d7c8b9d", "q8z7m"),
            waiting: 5,
            running: 9,
            kv: 0.25,
          },
          // Decoys: the prefill pod of the same model (for a long name, cut into its hash), and the same
          // model in another namespace.
          {
            namespace: "models",
            name: podName(prefill, "7f8d9c6b4b", "bcdfg"),
            waiting: 40,
            running: 1,
            kv: 0.9,
          },
          {
            namespace: "team-b",
            name: podName(decode, "5f6d7c8b9d", "zzzzz"),
            waiting: 100,
            running: 100,
            kv: 1,
          },
        ];
        const series = pods.flatMap((p, n) => {
          const target = podMonitorTargetLabels(podMonitor, {
            namespace: p.namespace,
            name: p.name,
            ip: `10.0.4.${n + 10}`,
            containers: [
              { name: "main", ports: [{ containerPort: 8001 }] },
              { name: "istio-proxy", ports: injectedSidecarPorts() },
            ],
          });
          assert.ok(target, `the llm-d PodMonitor selects no target on ${p.name}`);
          const vllm = { ...target, model_name: svc.spec.model.name, engine: "0" };
          return [
            gauge("vllm:num_requests_waiting", vllm, p.waiting),
            gauge("vllm:num_requests_running", vllm, p.running),
            gauge("vllm:kv_cache_usage_perc", vllm, p.kv),
            ...histogram("vllm:e2e_request_latency_seconds", vllm, 2, "0.5", "1.0"),
          ];
        });
        const prometheus = await PrometheusServer.start(series);
        try {
          const want: Record<string, number> = {
            "queue-depth": 8,
            "running-requests": 16,
            "kv-cache-usage": 0.75,
            "p99-latency": 0.5 + 0.5 * 0.99,
          };
          for (const t of so.spec.triggers as Any[]) {
            const samples = await prometheus.query(t.metadata.query, END);
            assert.equal(samples.length, 1, `${t.name}: ${t.metadata.query} → ${JSON.stringify(samples)}`);
            assert.ok(
              Math.abs(samples[0]!.value - want[t.name]!) < 1e-6,
              `${t.name}: ${t.metadata.query} = ${samples[0]!.value}, expected ${want[t.name]}`,
            );
          }
        } finally {
          prometheus.stop();
        }
      });

    it("policies: an autoscaled decode Deployment needs its ScaledObject, and spec.replicas beside one fails", async () => {
      const objects = objectsFor({ minReplicas: 1, maxReplicas: 2 });
      const svc = objects.inferenceServices[0] as Any;
      const so = objects.autoscalers[0] as Any;
      const resource = (type: string, props: Any) =>
        ({ type, name: props.metadata.name, urn: `urn:${type}:${props.metadata.name}`, props }) as never;
      const run = (resources: never[]) =>
        runPolicies(resources, stackPolicyConfig("dev"), [llmHasAutoscaler, kedaTargetsStandardMode]);
      assert.deepEqual(await run([resource(K8S.llmisvc, svc), resource(K8S.scaledObject, so)]), []);
      assert.deepEqual(
        (await run([resource(K8S.llmisvc, svc)])).map((v) => v.message.replace(/^.*?: /, "")),
        ["1..2 decode replicas but no ScaledObject targets qwen-25-7b-kserve"],
      );
      const fighting = structuredClone(svc);
      fighting.spec.replicas = 1;
      assert.match(
        (await run([resource(K8S.llmisvc, fighting), resource(K8S.scaledObject, so)]))
          .map((v) => v.message)
          .join("\n"),
        /spec\.replicas \(1\) makes KServe's llmisvc controller reset the replicas on every reconcile/,
      );
      // The GPU budget counts decode pods at their maximum.
      const budget = await runPolicies(
        [resource(K8S.llmisvc, svc)],
        { ...stackPolicyConfig("dev"), "max-gpus-per-model": { maxGpusPerModel: 2 } } as never,
        [maxGpusPerModel],
      );
      assert.deepEqual(
        budget.map((v) => v.message.replace(/^.*?: /, "")),
        ["3 GPUs (decode 2, prefill 1); the limit is 2"],
      );
    });
  });
});
