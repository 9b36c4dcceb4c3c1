import * as assert from "node:assert/strict";
import { validateCustomResource, toJsonSchema } from "../conformance/crdSchema";
import { checkHelmValues } from "../conformance/helmValues";
import { validateCoreObject } from "../conformance/coreKinds";
import { CHARTS } from "../models/versions";

function isvc(predictor: Record<string, unknown>) {
  return {
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: { name: "m", namespace: "models" },
    spec: { predictor },
  };
}
const model = { modelFormat: { name: "sklearn" }, storageUri: "gs://b/m" };

describe("conformance with upstream APIs (broken fixtures)", () => {
  it("accepts a valid InferenceService", () => {
    assert.deepEqual(validateCustomResource(isvc({ minReplicas: 1, canaryTrafficPercent: 10, model })), []);
  });

  it("rejects canaryTrafficPercent under predictor.model (the API server would prune it)", () => {
    const problems = validateCustomResource(isvc({ model: { ...model, canaryTrafficPercent: 10 } }))!;
    assert.ok(
      problems.some((p) => p.includes("/spec/predictor/model/canaryTrafficPercent: unknown field")),
      problems.join("\n"),
    );
  });

  it("rejects a wrong type and an enum violation (scaleMetric qps: in KServe's docs, not in the CRD)", () => {
    const problems = validateCustomResource(isvc({ minReplicas: "two", scaleMetric: "qps", model }))!;
    assert.ok(problems.some((p) => p.startsWith("/spec/predictor/minReplicas")));
    assert.ok(
      problems.some(
        (p) => p.startsWith("/spec/predictor/scaleMetric: must be one of") && p.includes('"rps"'),
      ),
      problems.join("\n"),
    );
  });

  it("rejects a missing required field (modelFormat.name; ScaledObject scaleTargetRef)", () => {
    assert.ok(
      validateCustomResource(isvc({ model: { modelFormat: {}, storageUri: "gs://b/m" } }))!.some((p) =>
        p.includes("name"),
      ),
    );
    const so = {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: "x" },
      spec: { triggers: [{ type: "prometheus", metadata: {} }] },
    };
    assert.ok(validateCustomResource(so)!.some((p) => p.includes("scaleTargetRef")));
  });

  it("honours x-kubernetes-int-or-string (resource quantities as numbers or strings)", () => {
    const res = { requests: { cpu: 2, memory: "4Gi" }, limits: { cpu: "2", memory: "4Gi" } };
    assert.deepEqual(validateCustomResource(isvc({ model: { ...model, resources: res } })), []);
  });

  it("honours x-kubernetes-preserve-unknown-fields and nullable in the schema translation", () => {
    const schema = toJsonSchema({
      type: "object",
      properties: {
        open: {
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
          properties: { a: { type: "string" } },
        },
        maybe: { type: "string", nullable: true },
      },
    });
    const props = schema.properties as Record<string, Record<string, unknown>>;
    assert.equal(props.open!.additionalProperties, undefined);
    assert.deepEqual(props.maybe!.type, ["string", "null"]);
    assert.equal(schema.additionalProperties, false);
  });

  it("rejects unknown fields in Istio VirtualService routes", () => {
    const vs = {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "x" },
      spec: { hosts: ["a"], http: [{ route: [{ destination: { host: "a" }, weigth: 100 }] }] },
    };
    assert.ok(validateCustomResource(vs)!.some((p) => p.includes("weigth: unknown field")));
  });

  it("reports kinds without an offline CRD instead of passing them", () => {
    assert.equal(
      validateCustomResource({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication" }),
      undefined,
    );
  });

  it("rejects a misspelt Helm value and accepts the real key", () => {
    assert.deepEqual(checkHelmValues("keda", CHARTS.keda.defaultsDir, { crds: { install: true } }), []);
    const problems = checkHelmValues("keda", CHARTS.keda.defaultsDir, { crds: { instal: true } });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /crds\.instal is not a key/);
  });

  it("looks inside Istio's _internal_defaults_do_not_set and under open maps", () => {
    assert.deepEqual(
      checkHelmValues("istiod", CHARTS.istiod.defaultsDir, {
        autoscaleMin: 2,
        nodeSelector: { any: "thing" },
      }),
      [],
    );
    assert.equal(
      checkHelmValues("istiod", CHARTS.istiod.defaultsDir, { pilot: { autoscaleMin: 2 } }).length,
      1,
    );
  });

  it("checks cert-manager's strict values.schema.json", () => {
    assert.deepEqual(
      checkHelmValues("cert-manager", CHARTS.certManager.defaultsDir, { crds: { enabled: true } }),
      [],
    );
    const problems = checkHelmValues("cert-manager", CHARTS.certManager.defaultsDir, { installCRD: true });
    assert.ok(
      problems.some((p) => p.includes("values.schema.json rejects")),
      problems.join("\n"),
    );
  });

  it("substitutes knative-operator's release placeholders before parsing", () => {
    assert.deepEqual(
      checkHelmValues("knative-operator", CHARTS.knativeOperator.defaultsDir, {
        knative_operator: { knative_operator: { image: "x" } },
      }),
      [],
    );
  });

  it("validates core kinds against the Kubernetes schema", async () => {
    assert.deepEqual(
      await validateCoreObject({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "p" },
        spec: { maxUnavailable: 1 },
      } as never),
      [],
    );
    const bad = await validateCoreObject({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "s" },
      automountServiceAccountToken: "yes",
    } as never);
    assert.equal(bad.length, 1);
  });
});
