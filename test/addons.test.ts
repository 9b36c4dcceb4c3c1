/**
 * The add-ons each stack installs, from the plans: charts, repositories and versions as pinned, the key
 * values, per-environment toggles, and GPU DaemonSets checked against the labels and taints the GPU node
 * groups really carry.
 */
import * as assert from "node:assert/strict";
import { addonCatalog, addonContext } from "../models/addons";
import { CHARTS } from "../models/versions";
import { stockPlan } from "./plans";
import type { Plan } from "../tools/planRunner";
import { CLOUD_FIXTURE, validate, stackRaw } from "./helpers";

async function plan(stack: string): Promise<Plan> {
  return stockPlan(stack);
}

type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const release = (p: Plan, name: string) => p.releases.find((r) => r.resource.endsWith(`::${name}-release`));
const names = (p: Plan) => p.releases.map((r) => r.resource.split("::")[1]!.replace(/-release$/, "")).sort();

/** Would a pod with this spec schedule on a node with these labels and (Kubernetes-style) taints? */
function schedulable(
  pod: Values,
  labels: Record<string, string>,
  taints: Array<{ key: string; value: string; effect: string }>,
) {
  const selector = (pod.nodeSelector ?? {}) as Record<string, string>;
  if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return false;
  const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms as
    Array<{ matchExpressions: Array<{ key: string; operator: string; values?: string[] }> }> | undefined;
  if (
    terms &&
    !terms.some((t) =>
      t.matchExpressions.every((e) =>
        e.operator === "In"
          ? e.values!.includes(labels[e.key]!)
          : e.operator === "Exists"
            ? e.key in labels
            : false,
      ),
    )
  )
    return false;
  const tolerations = (pod.tolerations ?? []) as Array<{
    key?: string;
    operator?: string;
    value?: string;
    effect?: string;
  }>;
  return taints.every((t) =>
    tolerations.some(
      (o) =>
        o.key === t.key &&
        (o.operator === "Exists" || o.value === t.value) &&
        (!o.effect || o.effect === t.effect),
    ),
  );
}

/** GPU nodes as the pools declare them: managed node groups' labels and taints, or a NodePool's template. */
function gpuNodes(p: Plan) {
  type Taint = { key: string; value: string; effect: string };
  const groups = p.resources
    .filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup" && r.inputs.taints)
    .map((r) => ({
      name: r.name,
      labels: r.inputs.labels as Record<string, string>,
      taints: (r.inputs.taints as Taint[]).map((t) => ({
        ...t,
        effect: t.effect === "NO_SCHEDULE" ? "NoSchedule" : t.effect,
      })),
    }));
  const pools = p.resources
    // GPU NodePools carry the GPU taint; the `cpu` one (CPU models) has none.
    .filter(
      (r) =>
        r.type === "kubernetes:karpenter.sh/v1:NodePool" && (r.inputs as Values).spec.template.spec.taints,
    )
    .map((r) => {
      const template = (r.inputs as Values).spec.template;
      return {
        name: r.name,
        labels: template.metadata.labels as Record<string, string>,
        taints: template.spec.taints as Taint[],
      };
    });
  return [...groups, ...pools];
}

describe("add-ons per stack", function () {
  this.timeout(60_000);

  it("installs each pinned chart from its repository at its version", async () => {
    for (const stack of ["dev", "prod", "local"]) {
      const p = await plan(stack);
      for (const r of p.releases) {
        const pin = Object.values(CHARTS).find((c) => r.chart.endsWith(c.chart) && c.version === r.version);
        assert.ok(pin, `${stack} ${r.resource}: ${r.chart}@${r.version} is not pinned`);
        const inputs = p.resources.find((x) => `${x.type}::${x.name}` === r.resource)!.inputs as Values;
        if (pin.repository.startsWith("oci://")) assert.equal(inputs.chart, `${pin.repository}/${pin.chart}`);
        else assert.equal(inputs.repositoryOpts.repo, pin.repository);
      }
    }
  });

  it("toggles per environment: no GPU pieces or node autoscaler on the local cluster, Knative only where a model uses it", async () => {
    const [dev, prod, local] = [await plan("dev"), await plan("prod"), await plan("local")];
    for (const gpuPiece of ["nvidia-device-plugin", "dcgm-exporter"]) {
      assert.ok(names(dev).includes(gpuPiece), `dev has ${gpuPiece}`);
      assert.ok(!names(local).includes(gpuPiece), `local has no ${gpuPiece}`);
    }
    // One node autoscaler per EKS stack: dev's GPU pools are Karpenter NodePools, prod's managed node groups.
    assert.ok(names(dev).includes("karpenter") && !names(dev).includes("cluster-autoscaler"));
    assert.ok(names(prod).includes("cluster-autoscaler") && !names(prod).includes("karpenter"));
    for (const autoscaler of ["cluster-autoscaler", "karpenter", "karpenter-crd"])
      assert.ok(!names(local).includes(autoscaler), `local has no ${autoscaler}`);
    assert.ok(names(dev).includes("knative-operator"), "dev serves iris in Knative mode");
    assert.ok(!names(prod).includes("knative-operator"), "prod has only Standard-mode models");
    // Bottlerocket NVIDIA nodes ship the device plugin: not installed when no pool runs AL2023.
    const raw = stackRaw("dev") as Values;
    raw.gpuPools[0].os = "bottlerocket";
    const cfg = validate(raw, "dev");
    const ctx = addonContext(
      cfg,
      [{ deploymentMode: "Knative", namespace: "models", triggers: [] }],
      CLOUD_FIXTURE,
    );
    assert.ok(!addonCatalog(ctx).some((s) => s.name === "nvidia-device-plugin"));
  });

  it("sets the values that matter: internal NLB, explicit KServe mode and platform-owned routing, open monitor selectors, CA matching the cluster", async () => {
    const prod = await plan("prod");
    const gw = release(prod, "istio-ingressgateway")!.values as Values;
    assert.equal(gw.service.annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internal");
    const kserve = release(prod, "kserve-resources")!.values as Values;
    assert.equal(kserve.kserve.controller.deploymentMode, "Standard");
    assert.equal(kserve.kserve.controller.gateway.disableIngressCreation, true);
    const kps = release(prod, "kube-prometheus-stack")!.values as Values;
    assert.equal(kps.prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues, false);
    assert.ok(kps.prometheus.prometheusSpec.remoteWrite[0].sigv4, "prod remote-writes to AMP with SigV4");
    // Grafana's sidecar: a Role in its own namespace, not kube-prometheus-stack's default ClusterRole on
    // every Secret (the e2e asks the real authorizer what the rendered chart grants).
    assert.equal(kps.grafana.rbac.namespaced, true);
    assert.equal(kps.grafana.sidecar.dashboards.searchNamespace, "monitoring");
    // Alerts go to the configured receiver, its credential read from the mounted Secret (not Helm values).
    assert.equal(kps.alertmanager.config.route.receiver, "platform");
    const platform = kps.alertmanager.config.receivers.find((r: Values) => r.name === "platform");
    assert.deepEqual(platform.pagerduty_configs, [
      { routing_key_file: "/etc/alertmanager/secrets/alert-receiver/credential", send_resolved: true },
    ]);
    assert.deepEqual(kps.alertmanager.alertmanagerSpec.secrets, ["alert-receiver"]);
    assert.ok(!JSON.stringify(kps).includes("routing-key-ciphertext"), "no credential in the values");
    const ca = release(prod, "cluster-autoscaler")!.values as Values;
    assert.equal(ca.image.tag, "v1.34.3", "the cluster runs Kubernetes 1.34");
    assert.match(ca.extraArgs.expander, /^priority/);
    const knative = (await plan("dev")).objects.find((o) => o.object.kind === "KnativeServing")!
      .object as Values;
    assert.equal(knative.spec.config.features["kubernetes.podspec-nodeselector"], "enabled");
    assert.equal(knative.spec.config.deployment["progress-deadline"], "1800s");
  });

  it("a public gateway needs TLS on its NLB: port 443 with an ACM certificate, no plaintext listener", () => {
    const raw = stackRaw("dev") as Record<string, Values>;
    raw.addons ??= {};
    raw.addons.istio = {
      publicIngress: true,
      jwt: { issuer: "https://id.example.com", jwksUri: "https://id.example.com/jwks" },
    };
    assert.throws(
      () => validate(raw, "dev"),
      /addons\.istio\.tlsCertificateArn: a public gateway carries bearer tokens/,
    );
    raw.addons.istio.tlsCertificateArn =
      "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";
    const ctx = addonContext(
      validate(raw, "dev"),
      [{ deploymentMode: "Standard", namespace: "models", triggers: [] }],
      CLOUD_FIXTURE,
    );
    const service = (addonCatalog(ctx).find((s) => s.name === "istio-ingressgateway")!.values as Values)
      .service;
    assert.equal(
      service.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"],
      raw.addons.istio.tlsCertificateArn,
    );
    assert.equal(service.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"], "https");
    assert.deepEqual(
      service.ports.map((p: Values) => `${p.name}:${p.port}->${p.targetPort}`),
      ["https:443->80"],
    );
  });

  it("prod spreads every serving-path replica set over nodes (the e2e's idle nodes would spread them anyway)", async () => {
    const prod = await plan("prod");
    const values = (name: string) => release(prod, name)!.values as Values;
    const hostnameSpread = (tsc: Values[] | undefined) =>
      (tsc ?? []).some(
        (c) => c.topologyKey === "kubernetes.io/hostname" && c.whenUnsatisfiable === "DoNotSchedule",
      );
    const keda = values("keda");
    for (const part of ["operator", "metricsServer", "webhooks"])
      assert.ok(hostnameSpread(keda.topologySpreadConstraints[part]), `keda ${part}`);
    const cm = values("cert-manager");
    for (const tsc of [
      cm.topologySpreadConstraints,
      cm.webhook.topologySpreadConstraints,
      cm.cainjector.topologySpreadConstraints,
    ])
      assert.ok(hostnameSpread(tsc), "cert-manager");
    const kps = values("kube-prometheus-stack");
    assert.equal(kps.prometheus.prometheusSpec.podAntiAffinity, "hard");
    assert.equal(kps.alertmanager.alertmanagerSpec.podAntiAffinity, "hard");
    const patch = prod.resources.find((r) => r.type === "kubernetes:apps/v1:DeploymentPatch")!;
    assert.ok(
      hostnameSpread((patch.inputs as Values).spec.template.spec.topologySpreadConstraints),
      "KServe",
    );
  });

  it("merges a stack's own Helm values last, checked against the chart like the platform's", async () => {
    const raw = stackRaw("dev") as Record<string, Values>;
    raw.addons ??= {};
    raw.addons.values = {
      keda: { operator: { resources: { requests: { cpu: "200m" } } }, metricsServer: { replicaCount: 3 } },
    };
    const ctx = addonContext(
      validate(raw, "dev"),
      [{ deploymentMode: "Knative", namespace: "models", triggers: [] }],
      CLOUD_FIXTURE,
    );
    const keda = addonCatalog(ctx).find((s) => s.name === "keda")!.values as Values;
    assert.equal(keda.metricsServer.replicaCount, 3, "the stack's value wins");
    assert.deepEqual(keda.operator.resources, { requests: { cpu: "200m" } });
    assert.equal(keda.operator.replicaCount, 1, "the platform's other values stay");
    assert.deepEqual(keda.crds, { install: true });
    // A misspelt key is a conformance error of the plan, as for the platform's own values.
    const { checkHelmValues } = await import("../conformance/helmValues");
    assert.match(
      checkHelmValues("keda", CHARTS.keda.defaultsDir, { operator: { replicaCont: 2 } }).join(),
      /operator\.replicaCont is not a key/,
    );
    raw.addons.values = { kedaa: { operator: {} } };
    assert.throws(
      () => validate(raw, "dev"),
      /addons\.values\.kedaa: not an add-on release of the platform .*did you mean keda\?/,
    );
  });

  it("installs KServe only after Knative Serving is Ready, when a model uses Knative", async () => {
    // KServe decides at startup whether to watch Knative Services (controller.go:629) and fails a
    // Knative-mode InferenceService terminally while the ksvc CRD is missing (controller.go:239-256).
    const resources = (await plan("dev")).resources;
    const knativeServing = resources.find((r) => (r.inputs as { kind?: string }).kind === "KnativeServing")!;
    const annotations = (knativeServing.inputs as { metadata: { annotations?: Record<string, string> } })
      .metadata.annotations;
    assert.equal(annotations?.["pulumi.com/waitFor"], "condition=Ready");
    const kserve = resources.find(
      (r) =>
        r.type === "kubernetes:helm.sh/v3:Release" &&
        (r.inputs as { name?: string }).name === "kserve-resources",
    )!;
    assert.ok(kserve.dependsOn.includes(knativeServing.urn), "kserve-resources waits for the KnativeServing");
  });

  it("schedules the GPU DaemonSets on every GPU node group, and only there", async () => {
    for (const stack of ["dev", "prod"]) {
      const p = await plan(stack);
      const nodes = gpuNodes(p);
      assert.ok(nodes.length > 0);
      for (const name of ["nvidia-device-plugin", "dcgm-exporter"]) {
        const values = release(p, name)!.values as Values;
        for (const n of nodes)
          assert.ok(schedulable(values, n.labels, n.taints), `${stack}: ${name} cannot run on ${n.name}`);
        const system = p.resources.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup" && !r.inputs.taints)!;
        assert.ok(
          !schedulable(values, (system.inputs.labels ?? {}) as Record<string, string>, []),
          `${name} would land on CPU nodes`,
        );
      }
    }
  });
});
