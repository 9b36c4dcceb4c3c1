/**
 * The e2e's own net, proven on the real control plane: a misspelt field in a core object, a value a
 * chart's schema refuses, and a custom resource missing a required field each fail the deploy with a
 * message naming the object and the field — the mistakes the offline checks cannot all see.
 */
import * as assert from "node:assert/strict";
import { buildTool } from "../build";
import { clusterDown, clusterUp } from "../cluster";
import { deployPlan } from "../deploy";
import { Kube } from "../kube";
import { fakeNodes } from "../nodes";
import { kubernetesVersion } from "../run";
import { stackConfig } from "../stack";
import { planStack, type Plan } from "../../tools/planRunner";
import type { RecordedResource } from "../../tools/mockRuntime";

const CLUSTER = "e2e-selftest";

describe("e2e: the real API server and Helm refuse broken objects, naming object and field", function () {
  this.timeout(20 * 60_000);
  let kube: Kube;
  let helm: string;
  let plan: Plan;

  before(async () => {
    helm = buildTool("helm").bin["helm"]!;
    plan = await planStack("local", undefined, { revealSecrets: true });
    const state = await clusterUp(CLUSTER, fakeNodes(stackConfig("local")));
    kube = new Kube(state.kubeconfig);
  });
  after(async () => {
    await clusterDown(CLUSTER);
  });

  /** The plan with one resource changed (the rest as planned). */
  function withChange(
    match: (r: RecordedResource) => boolean,
    change: (inputs: Record<string, unknown>) => void,
  ): Plan {
    const resources = structuredClone(plan.resources);
    const target = resources.find(match);
    assert.ok(target, "the fixture matched no planned resource");
    change(target.inputs);
    return { ...plan, resources };
  }

  it("deploys the unchanged local plan without an error (the baseline the cases break)", async () => {
    const report = await deployPlan(kube, plan, {
      helm,
      kubeVersion: kubernetesVersion(),
      maxWaitSeconds: 180,
    });
    assert.deepEqual(report.errors, []);
  });

  it("a misspelt field in a core object (ServiceAccount metadata.lables)", async () => {
    const broken = withChange(
      (r) => r.type === "kubernetes:core/v1:ServiceAccount",
      (i) => ((i.metadata as Record<string, unknown>).lables = { a: "b" }),
    );
    const report = await deployPlan(kube, broken, {
      helm,
      kubeVersion: kubernetesVersion(),
      maxWaitSeconds: 60,
    });
    const err = report.errors.find((e) => e.includes("ServiceAccount"));
    assert.ok(err, report.errors.join("\n"));
    assert.match(err, /v1 ServiceAccount models\/[a-z0-9-]+-model/);
    // Server-side apply with strict validation: the unknown field is named, nothing is pruned.
    assert.match(err, /\.metadata\.lables: field not declared in schema/);
  });

  it('a value the chart\'s values.schema.json refuses (cert-manager crds.enabled: "yes")', async () => {
    const broken = withChange(
      (r) =>
        r.type === "kubernetes:helm.sh/v3:Release" &&
        (r.inputs as { chart: string }).chart === "cert-manager",
      (i) => ((i.values as { crds: Record<string, unknown> }).crds.enabled = "yes"),
    );
    const report = await deployPlan(kube, broken, {
      helm,
      kubeVersion: kubernetesVersion(),
      maxWaitSeconds: 60,
    });
    const err = report.errors.find((e) => e.includes("cert-manager"));
    assert.ok(err, report.errors.join("\n"));
    assert.match(err, /helm template cert-manager@v1\.19\.6 failed/);
    assert.match(err, /crds\.enabled|crds.*enabled/);
  });

  it("a custom resource without a required field (ScaledObject spec.scaleTargetRef)", async () => {
    const raw = structuredClone(plan.resources);
    // The local stack's CPU model scales with KServe's HPA; take a ScaledObject shape from KEDA's required fields.
    const so: RecordedResource = {
      ...raw.find((r) => r.type === "kubernetes:core/v1:ServiceAccount")!,
      urn: "urn:pulumi:local::inference-platform::kubernetes:keda.sh/v1alpha1:ScaledObject::broken",
      type: "kubernetes:keda.sh/v1alpha1:ScaledObject",
      name: "broken-scaledobject",
      dependsOn: [],
      inputs: {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: { name: "broken", namespace: "models" },
        spec: { triggers: [{ type: "cpu", metricType: "Utilization", metadata: { value: "70" } }] },
      },
    };
    const report = await deployPlan(
      kube,
      { ...plan, resources: [...raw, so] },
      { helm, kubeVersion: kubernetesVersion(), maxWaitSeconds: 60 },
    );
    const err = report.errors.find((e) => e.includes("ScaledObject"));
    assert.ok(err, report.errors.join("\n"));
    assert.match(err, /keda\.sh\/v1alpha1 ScaledObject models\/broken/);
    assert.match(err, /spec\.scaleTargetRef: Required value/);
  });
});
