/**
 * llm-d serving on the real control plane: the dev stack plus an llm-d model (e2e/llmd.ts), deployed
 * with KServe's real llmisvc controller (kserve v0.20.0 cmd/llmisvc) and its webhooks, the Gateway API
 * and Inference Extension CRDs and llm-d's presets as the platform installs them.
 *
 * Asserted: the presets and the platform's LLMInferenceService are admitted by the controller's own
 * webhooks; it merges the presets and derives decode and prefill Deployments with the platform's pool,
 * GPUs, identity and engine flags, and llm-d's endpoint picker with its prefix-cache scorer; the platform's
 * ScaledObject gets KEDA's HPA on the decode Deployment, whose replicas the controller leaves to it. Readiness needs
 * a Gateway API implementation: istiod runs here as a development build (master of 2026-08-27; 1.30.3 is not
 * served by the module proxy, e2e/tools/istiod/go.mod), so what it shows is that build's acceptance of the
 * Gateway, route and pool, not 1.30.3's.
 */
import * as assert from "node:assert/strict";
import { clusterWithControllers, deployWithControllers } from "./harness";
import { clusterDown } from "../cluster";
import { LocalControllers } from "../controllers";
import { Kube, waitFor, type KubeObject } from "../kube";
import { fakeNodes } from "../nodes";
import { REPO } from "../paths";
import { LLMD_MODEL, llmdStackConfig } from "../llmd";
import { readRawConfig, validatePlatformConfig } from "../../config/load";
import { readStackFile } from "../../tools/stackFile";
import { planStack } from "../../tools/planRunner";
import { LABELS } from "../../models/cluster/nodePools";
import { GATEWAY_NAME_LABEL, INGRESS_GATEWAY_SERVICE } from "../../models/addons/istio";
import { LLMD_GATEWAY, llmdPodLabels } from "../../models/serving/llmInferenceService";
import { llmdEndpointPickerService, llmdEndpointPickerServiceAccount } from "../../models/serving/llmdMesh";
import { LLMD_SERVING_PORT, LLMD_WORKLOAD_SELECTOR } from "../../models/serving/namespace";
import { llmdDeploymentName } from "../../models/names";

const CLUSTER = "e2e-selftest-llmd";
const { name, namespace } = LLMD_MODEL;

type PodSpec = {
  serviceAccountName?: string;
  initContainers?: Array<{ name: string; args?: string[] }>;
  topologySpreadConstraints?: Array<{ labelSelector: { matchLabels: Record<string, string> } }>;
  nodeSelector?: Record<string, string>;
  containers: Array<{
    name: string;
    image?: string;
    command?: string[];
    args?: string[];
    env?: Array<{ name: string; value?: string }>;
    resources?: { limits?: Record<string, string> };
  }>;
};

function podSpecOf(d: KubeObject): PodSpec {
  return (d.spec as { template: { spec: PodSpec } }).template.spec;
}

describe("e2e: an llm-d model on the real llmisvc controller", function () {
  this.timeout(20 * 60_000);
  let controllers: LocalControllers | undefined;
  let kube: Kube;
  const deployErrors: string[] = [];

  before(async () => {
    const file = readStackFile(REPO, "dev");
    const config = llmdStackConfig(file);
    const plan = await planStack("dev", { config, secretKeys: file.secretKeys }, { revealSecrets: true });
    const raw = readRawConfig(config, (k) => file.secretKeys.includes(k));
    const cfg = validatePlatformConfig("dev", raw.raw, raw.problems);
    const cluster = await clusterWithControllers(CLUSTER, fakeNodes(cfg));
    ({ kube, controllers } = cluster);
    const report = await deployWithControllers(cluster, plan);
    deployErrors.push(...report.errors);
  });
  after(async () => {
    await controllers?.stop();
    await clusterDown(CLUSTER);
  });

  it("deploys the stack: presets and the LLMInferenceService admitted by the llmisvc webhooks", async () => {
    assert.deepEqual(deployErrors, []);
    const presets = await kube.list("serving.kserve.io/v1alpha2", "LLMInferenceServiceConfig", {
      namespace: "kserve",
    });
    assert.ok(
      presets.some((p) => p.metadata.name.startsWith("kserve-config-llm-scheduler")),
      `presets: ${presets.map((p) => p.metadata.name).join(", ")}`,
    );
  });

  it("derives decode and prefill Deployments with the platform's pool, GPUs, identity, flags and scrape labels", async () => {
    const get = (n: string) =>
      waitFor(`Deployment ${namespace}/${n}`, () => kube.get("apps/v1", "Deployment", n, namespace), {
        timeoutMs: 120_000,
        intervalMs: 1000,
        describe: async () =>
          JSON.stringify(
            (await kube.get("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace))?.status,
          ),
      });
    for (const [deployment, role, llmdRole] of [
      [llmdDeploymentName(name, "decode"), "kv_consumer", "decode"],
      [llmdDeploymentName(name, "prefill"), "kv_producer", "prefill"],
    ] as const) {
      const d = await get(deployment);
      const spec = podSpecOf(d);
      // The controller labels the pods as the platform's spread constraints and budgets select them,
      // and keeps the constraints through its merge of the presets.
      const podLabels = (d.spec as { template: { metadata: KubeObject["metadata"] } }).template.metadata
        .labels;
      for (const [k, v] of Object.entries(llmdPodLabels(name, llmdRole)))
        assert.equal(podLabels?.[k], v, `${deployment} label ${k}`);
      assert.deepEqual(
        (spec.topologySpreadConstraints ?? []).map((c) => c.labelSelector.matchLabels),
        [llmdPodLabels(name, llmdRole), llmdPodLabels(name, llmdRole)],
        deployment,
      );
      assert.ok(
        await kube.get("policy/v1", "PodDisruptionBudget", deployment, namespace),
        `PDB ${deployment}`,
      );
      // What the platform's PodMonitor selects and Istio's metrics merge reads are on the real pods.
      const meta = (d.spec as { template: { metadata: KubeObject["metadata"] } }).template.metadata;
      for (const [k, v] of Object.entries(LLMD_WORKLOAD_SELECTOR.matchLabels))
        assert.equal(meta.labels?.[k], v, `${deployment} label ${k}`);
      assert.equal(meta.annotations?.["prometheus.io/port"], "8000", deployment);
      // Only the serving port through the sidecar, so NIXL's side channel and UCX ports are not refused.
      assert.equal(meta.annotations?.["traffic.sidecar.istio.io/includeInboundPorts"], "8000", deployment);
      const main = spec.containers.find((c) => c.name === "main");
      assert.ok(main, `${deployment}: no main container`);
      assert.equal(spec.nodeSelector?.[LABELS.pool], LLMD_MODEL.gpu.pool, deployment);
      assert.equal(spec.serviceAccountName, `${name}-model`, deployment);
      assert.equal(main.resources?.limits?.["nvidia.com/gpu"], "1", deployment);
      const extra = main.env?.find((e) => e.name === "VLLM_ADDITIONAL_ARGS")?.value ?? "";
      assert.match(extra, /--max-model-len=8192/, deployment);
      assert.match(extra, new RegExp(`"kv_role":"${role}"`), deployment);
      // The adapter: the controller starts vLLM with LoRA on, the planner's slots and the adapter under
      // its own name, and fetches it beside the base model in the storage initializer.
      const argv = JSON.stringify(main.args ?? []);
      assert.match(argv, /--enable-lora/, deployment);
      assert.match(argv, /--max-lora-rank=16/, deployment);
      assert.match(argv, /--max-loras=1/, deployment);
      assert.ok(
        (main.args ?? []).includes(
          `'${JSON.stringify({ name: "qwen-25-7b-sql", path: "/mnt/lora/qwen-25-7b-sql" })}'`,
        ),
        `${deployment}: ${argv}`,
      );
      const initializer = (spec.initContainers ?? []).find((c) => c.name === "storage-initializer");
      assert.ok(initializer, `${deployment}: no storage-initializer`);
      assert.ok(
        (initializer.args ?? []).includes(LLMD_MODEL.adapters[0].storageUri),
        `${deployment}: ${JSON.stringify(initializer.args)}`,
      );
      // The preset's command (merged by the controller) runs vllm serve with the served name and our flags.
      assert.match(
        JSON.stringify([...(main.command ?? []), ...(main.args ?? [])]),
        /vllm serve \/mnt\/models/,
        deployment,
      );
    }
  });

  it("runs llm-d's endpoint picker with prefix-cache-aware scoring", async () => {
    const epp = await waitFor(
      "the endpoint picker Deployment",
      () => kube.get("apps/v1", "Deployment", llmdDeploymentName(name, "scheduler"), namespace),
      {
        timeoutMs: 120_000,
        intervalMs: 1000,
        describe: async () =>
          JSON.stringify(
            (await kube.get("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace))?.status,
          ),
      },
    );
    assert.match(JSON.stringify(podSpecOf(epp).containers), /prefix-cache-scorer/);
    // With adapters on the model, the picker also keeps each adapter's requests where it is loaded.
    assert.match(JSON.stringify(podSpecOf(epp).containers), /lora-affinity-scorer/);
    // Without a sidecar (the gateway reaches it over its own TLS), as the ServiceAccount the platform
    // gives the model's storage role, behind the Service the platform's DestinationRule names.
    const meta = (epp.spec as { template: { metadata: KubeObject["metadata"] } }).template.metadata;
    assert.equal(meta.labels?.["sidecar.istio.io/inject"], "false");
    assert.equal(podSpecOf(epp).serviceAccountName, llmdEndpointPickerServiceAccount(name));
    assert.ok(
      await kube.get("v1", "Service", llmdEndpointPickerService(name), namespace),
      `Service ${llmdEndpointPickerService(name)}`,
    );
    assert.ok(
      await kube.get("networking.istio.io/v1", "DestinationRule", llmdEndpointPickerService(name), namespace),
    );
  });

  it("routes through the platform's Gateway to an InferencePool the endpoint picker serves", async () => {
    const route = await waitFor(
      "the HTTPRoute",
      () => kube.get("gateway.networking.k8s.io/v1", "HTTPRoute", `${name}-kserve-route`, namespace),
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    const spec = route.spec as {
      parentRefs: Array<{ name: string; namespace?: string }>;
      rules: Array<{ backendRefs?: Array<{ kind?: string; name: string }> }>;
    };
    assert.deepEqual(
      spec.parentRefs.map((p) => `${p.namespace}/${p.name}`),
      [`${LLMD_GATEWAY.namespace}/${LLMD_GATEWAY.name}`],
    );
    const pools = spec.rules.flatMap((r) => r.backendRefs ?? []).filter((b) => b.kind === "InferencePool");
    assert.ok(pools.length > 0, JSON.stringify(spec.rules));
    const pool = await kube.get("inference.networking.k8s.io/v1", "InferencePool", pools[0]!.name, namespace);
    assert.ok(pool, `InferencePool ${pools[0]!.name}`);
    // The pool targets the port the platform's PeerAuthentication opens to the picker's pod-IP scrapes,
    // and names the picker Service the platform's DestinationRule covers.
    const poolSpec = pool.spec as {
      targetPorts: Array<{ number: number }>;
      endpointPickerRef: { name: string };
    };
    assert.deepEqual(
      poolSpec.targetPorts.map((p) => p.number),
      [LLMD_SERVING_PORT],
    );
    assert.equal(poolSpec.endpointPickerRef.name, llmdEndpointPickerService(name));
    // istiod calls the picker only from gateway pods labelled with the Gateway's name (the chart renders it).
    const gatewayPods = await kube.get("apps/v1", "Deployment", "istio-ingressgateway", "istio-system");
    assert.equal(
      (gatewayPods?.spec as { template: { metadata: KubeObject["metadata"] } } | undefined)?.template.metadata
        .labels?.[GATEWAY_NAME_LABEL],
      LLMD_GATEWAY.name,
    );
  });

  it("scales the decode Deployment with the platform's ScaledObject; the controller keeps the replicas the HPA sets", async () => {
    const decode = llmdDeploymentName(name, "decode");
    // KEDA (its real operator, after its admission webhook) makes an HPA on the decode Deployment.
    const hpa = await waitFor(
      `KEDA's HPA on ${decode}`,
      () => kube.get("autoscaling/v2", "HorizontalPodAutoscaler", `keda-hpa-${name}`, namespace),
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    const hpaSpec = hpa.spec as {
      scaleTargetRef: { name: string };
      minReplicas: number;
      maxReplicas: number;
    };
    assert.deepEqual(
      [hpaSpec.scaleTargetRef.name, hpaSpec.minReplicas, hpaSpec.maxReplicas],
      [decode, LLMD_MODEL.autoscaling.minReplicas, LLMD_MODEL.autoscaling.maxReplicas],
    );
    const stored = await kube.get("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace);
    assert.equal((stored?.spec as { replicas?: number }).replicas, undefined);
    // What the HPA does on load: set the Deployment's scale. The controller reconciles on that change
    // (it owns the Deployment) and reports the new pod in its status; the replicas must stay.
    await kube.mergePatch("apps/v1", "Deployment", decode, namespace, { spec: { replicas: 2 } }, "scale");
    const primaryReady = async () =>
      (
        (await kube.get("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace))?.status as {
          workloads?: { primary?: { name?: string; readyReplicas?: number } };
        }
      )?.workloads?.primary;
    await waitFor(
      "the controller to observe 2 decode pods",
      async () => ((await primaryReady())?.readyReplicas === 2 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 1000, describe: async () => JSON.stringify(await primaryReady()) },
    );
    assert.equal((await primaryReady())?.name, decode);
    const replicas = async () =>
      ((await kube.get("apps/v1", "Deployment", decode, namespace))?.spec as { replicas?: number }).replicas;
    assert.equal(await replicas(), 2);
    // And after a reconcile the LLMInferenceService itself triggers (a label change on it).
    await kube.mergePatch("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace, {
      metadata: { labels: { "e2e/touched": "1" } },
    });
    await new Promise((r) => setTimeout(r, 5000));
    assert.equal(await replicas(), 2);
    // Why the platform leaves spec.replicas out (and policy keda-targets-standard-mode refuses it beside a
    // ScaledObject): with it set, the controller puts its own count back over the HPA's.
    await kube.mergePatch("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace, {
      spec: { replicas: 1 },
    });
    await waitFor(
      "the controller to set 1 replica",
      async () => ((await replicas()) === 1 ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 1000,
      },
    );
    await kube.mergePatch("apps/v1", "Deployment", decode, namespace, { spec: { replicas: 2 } }, "scale");
    await waitFor(
      "the controller to reset the HPA's 2 replicas to 1",
      async () => ((await replicas()) === 1 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await kube.mergePatch("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace, {
      spec: { replicas: null },
    });
  });

  it("serves v1alpha1 through the controller's conversion webhook", async () => {
    const old = await kube.get("serving.kserve.io/v1alpha1", "LLMInferenceService", name, namespace);
    assert.equal(old?.apiVersion, "serving.kserve.io/v1alpha1");
  });

  it("is Ready once istiod (a development build, not 1.30.3) accepts the Gateway, its route and pool", async () => {
    type Condition = { type: string; status: string; reason?: string; message?: string };
    const status = async (apiVersion: string, kind: string, n: string, ns: string) =>
      ((await kube.get(apiVersion, kind, n, ns))?.status ?? {}) as {
        conditions?: Condition[];
        parents?: Array<{ parentRef: { name: string }; conditions?: Condition[] }>;
      };
    const isTrue = (conditions: Condition[] | undefined, type: string) =>
      (conditions ?? []).some((c) => c.type === type && c.status === "True");
    const llmisvc = () => status("serving.kserve.io/v1alpha2", "LLMInferenceService", name, namespace);
    const gateway = () =>
      status("gateway.networking.k8s.io/v1", "Gateway", LLMD_GATEWAY.name, LLMD_GATEWAY.namespace);
    const route = () =>
      status("gateway.networking.k8s.io/v1", "HTTPRoute", `${name}-kserve-route`, namespace);
    const pool = () =>
      status("inference.networking.k8s.io/v1", "InferencePool", `${name}-inference-pool`, namespace);
    const describe = async () =>
      JSON.stringify({
        gateway: (await gateway()).conditions,
        route: (await route()).parents,
        pool: (await pool()).parents,
        llmisvc: (await llmisvc()).conditions,
      });
    // Until the ingress gateway's load balancer has an address, istiod leaves the Gateway un-Programmed
    // (gatewaycommon/context.go 111-115, the same in 1.30.3), so the model is not Ready while everything
    // else is: routes, pool and workloads ready, only GatewaysReady False.
    const condition = async (type: string) =>
      ((await llmisvc()).conditions ?? []).find((c) => c.type === type);
    await waitFor(
      "everything but the Gateway ready",
      async () =>
        (
          await Promise.all(
            ["HTTPRoutesReady", "InferencePoolReady", "WorkloadsReady"].map(
              async (t) => (await condition(t))?.status,
            ),
          )
        ).every((v) => v === "True") && (await condition("GatewaysReady"))?.status === "False"
          ? true
          : undefined,
      { timeoutMs: 180_000, intervalMs: 2000, describe },
    );
    assert.equal((await condition("Ready"))?.status, "False", await describe());
    assert.match(
      JSON.stringify((await gateway()).conditions?.find((c) => c.type === "Programmed")),
      /address pending for hostname/,
    );
    // The NLB's hostname, as the AWS Load Balancer Controller writes it once the NLB exists (no AWS here).
    await kube.mergePatch(
      "v1",
      "Service",
      INGRESS_GATEWAY_SERVICE.split(".")[0]!,
      INGRESS_GATEWAY_SERVICE.split(".")[1]!,
      {
        status: {
          loadBalancer: {
            ingress: [{ hostname: "internal-k8s-istiosys-example.elb.us-east-1.amazonaws.com" }],
          },
        },
      },
      "status",
    );
    await waitFor(
      "the LLMInferenceService Ready",
      async () => ((await condition("Ready"))?.status === "True" ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 2000, describe },
    );
    // What KServe's readiness reads (router_discovery.go 599-830), as istiod wrote it: the Gateway
    // Programmed on the existing ingress gateway's Service, the route accepted with its InferencePool
    // backend resolved, and the pool accepted by the Gateway.
    const gw = await gateway();
    assert.ok(isTrue(gw.conditions, "Accepted") && isTrue(gw.conditions, "Programmed"), await describe());
    const parents = (await route()).parents ?? [];
    assert.deepEqual(
      parents.map((p) => p.parentRef.name),
      [LLMD_GATEWAY.name],
    );
    assert.ok(
      parents.every((p) => isTrue(p.conditions, "Accepted") && isTrue(p.conditions, "ResolvedRefs")),
      await describe(),
    );
    const poolParents = (await pool()).parents ?? [];
    assert.ok(
      poolParents.length > 0 && poolParents.every((p) => isTrue(p.conditions, "Accepted")),
      await describe(),
    );
  });
});
