import * as assert from "node:assert/strict";
import Ajv from "ajv";
import standaloneCode from "ajv/dist/standalone";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cachedValidator } from "../conformance/validatorCache";
import { splitCrdBundle } from "../conformance/crdFiles";
import { downloadChartDefaults, downloadCrds } from "../tools/crds";
import { hoistRepeatedSubschemas, validateCustomResource, toJsonSchema } from "../conformance/crdSchema";
import { sharedDir } from "../conformance/sharedDir";
import { parseDocument } from "yaml";
import { checkHelmValues } from "../conformance/helmValues";
import { goRegExp, translateGoPattern } from "../conformance/goRegExp";
import { checkConformance } from "../conformance";
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

  it("reports kinds without an offline CRD instead of passing them", async () => {
    const widget = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w", namespace: "models" },
    };
    assert.equal(validateCustomResource(widget), undefined);
    const report = await checkConformance(
      [{ resource: "kubernetes:example.com/v1:Widget::w", object: widget }],
      [],
    );
    assert.deepEqual(report.unverified, [
      "example.com/v1 Widget models/w (kubernetes:example.com/v1:Widget::w)",
    ]);
    assert.equal(report.checked.customResources, 0);
    assert.deepEqual(report.errors, []);
  });

  it("rejects a misspelt Helm value and accepts the real key", () => {
    assert.deepEqual(checkHelmValues("keda", CHARTS.keda.defaultsDir, { crds: { install: true } }), []);
    const problems = checkHelmValues("keda", CHARTS.keda.defaultsDir, { crds: { instal: true } });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /crds\.instal is not a key/);
  });

  it("checks a subchart's keys against the subchart's own values.yaml (kube-prometheus-stack's grafana)", () => {
    const kps = CHARTS.kubePrometheusStack.defaultsDir;
    assert.deepEqual(
      checkHelmValues("kube-prometheus-stack", kps, {
        grafana: { rbac: { namespaced: true }, sidecar: { dashboards: { searchNamespace: "monitoring" } } },
      }),
      [],
    );
    const problems = checkHelmValues("kube-prometheus-stack", kps, {
      grafana: { rbac: { namespace: true } },
    });
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0]!, /grafana\.rbac\.namespace is not a key/);
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

describe("compiled validator cache", () => {
  const schema = { type: "object", properties: { a: { type: "integer" } }, additionalProperties: false };
  let dir: string;
  let previous: string | undefined;
  beforeEach(() => {
    previous = process.env.INFERENCE_PLATFORM_CACHE;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "validator-cache-"));
    process.env.INFERENCE_PLATFORM_CACHE = dir;
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.INFERENCE_PLATFORM_CACHE;
    else process.env.INFERENCE_PLATFORM_CACHE = previous;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const compileInto = (calls: string[]) => (save: (source: string) => void) => {
    calls.push("compile");
    const ajv = new Ajv({ allErrors: true, code: { source: true } });
    const validate = ajv.compile(schema);
    save(standaloneCode(ajv, validate));
    return validate;
  };

  it("compiles once, then loads generated code that validates the same way", () => {
    const calls: string[] = [];
    const first = cachedValidator(["k"], compileInto(calls));
    const second = cachedValidator(["k"], compileInto(calls));
    assert.deepEqual(calls, ["compile"]);
    assert.equal(second({ a: 1 }), true);
    assert.equal(second({ a: 1, b: 2 }), false);
    assert.equal(first({ a: "x" }), second({ a: "x" }));
  });

  it("recompiles when any key part changes or the entry is corrupt", () => {
    const calls: string[] = [];
    cachedValidator(["k", "crd v1"], compileInto(calls));
    cachedValidator(["k", "crd v2"], compileInto(calls));
    const entries = path.join(dir, "validators");
    for (const f of fs.readdirSync(entries)) fs.writeFileSync(path.join(entries, f), "not javascript {");
    const validate = cachedValidator(["k", "crd v1"], compileInto(calls));
    assert.deepEqual(calls, ["compile", "compile", "compile"]);
    assert.equal(validate({ a: 2 }), true);
  });
});

describe("npm run crds (download into the cache)", () => {
  const crd = (group: string, kind: string, plural: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.${group}
spec:
  group: ${group}
  names: { kind: ${kind}, plural: ${plural} }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                jwtRules: { type: array, items: { type: object, properties: { issuer: { type: string } } } }
`;
  const bundle = `# a bundle like Istio's crd-all.gen.yaml, with other kinds mixed in
${crd("security.istio.io", "RequestAuthentication", "requestauthentications")}---
apiVersion: v1
kind: ServiceAccount
metadata: { name: not-a-crd }
---
${crd("example.com", "Widget", "widgets")}`;
  let dir: string;
  let previous: string | undefined;
  beforeEach(() => {
    previous = process.env.INFERENCE_PLATFORM_CACHE;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "crd-cache-"));
    process.env.INFERENCE_PLATFORM_CACHE = dir;
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.INFERENCE_PLATFORM_CACHE;
    else process.env.INFERENCE_PLATFORM_CACHE = previous;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("splits bundles into one upstream-named file per CRD, keeping each document's text", () => {
    const docs = splitCrdBundle("istio", bundle);
    assert.deepEqual(
      docs.map((d) => d.file),
      ["istio/security.istio.io_requestauthentications.yaml", "istio/example.com_widgets.yaml"],
    );
    assert.ok(docs[0]!.text.includes("jwtRules: { type: array"));
    assert.ok(!docs[0]!.text.includes("ServiceAccount"));
  });

  it("fetches each pinned chart's defaults from its source tag, and the Helm check reads them from the cache", async () => {
    const urls: string[] = [];
    const report = await downloadChartDefaults(async (url) => {
      urls.push(url);
      if (url.includes("cert-manager") && url.endsWith("Chart.yaml")) throw new Error("HTTP 404");
      return url.endsWith(".json") ? '{"type": "object"}' : "replicaCount: 1\n";
    });
    assert.ok(
      urls.includes(
        "https://raw.githubusercontent.com/prometheus-community/helm-charts/kube-prometheus-stack-88.5.3/charts/kube-prometheus-stack/values.yaml",
      ),
    );
    assert.ok(
      urls.includes(
        "https://raw.githubusercontent.com/istio/istio/1.30.3/manifests/charts/gateway/values.schema.json",
      ),
    );
    assert.deepEqual(report.failed, [], "a missing Chart.yaml is not a failure");
    assert.ok(report.written.includes("keda/2.20.2/values.yaml"));
    // A chart that ships in a Go module (LeaderWorkerSet's) comes from the Go module proxy, not a URL.
    assert.ok(!urls.some((u) => u.includes("kubernetes-sigs/lws")), "no URL fetch for lws");
    assert.ok(report.written.includes("lws/0.8.0/values.yaml"), report.written.join(", "));
    const previousShared = process.env.INFERENCE_PLATFORM_SHARED;
    process.env.INFERENCE_PLATFORM_SHARED = path.join(dir, "no-shared-here");
    try {
      assert.deepEqual(checkHelmValues("keda", "keda/2.20.2", { replicaCount: 2 }), []);
      assert.ok(checkHelmValues("keda", "keda/2.20.2", { replicaCuont: 2 }).length > 0);
    } finally {
      if (previousShared === undefined) delete process.env.INFERENCE_PLATFORM_SHARED;
      else process.env.INFERENCE_PLATFORM_SHARED = previousShared;
    }
  });

  it("writes what it fetched, reports failed sources, and makes the kind verifiable", async () => {
    // Only the cache counts here (../shared has every kind now).
    const previousShared = process.env.INFERENCE_PLATFORM_SHARED;
    process.env.INFERENCE_PLATFORM_SHARED = path.join(dir, "no-shared-here");
    try {
      const report = await downloadCrds(
        async (url) => {
          if (url.includes("broken")) throw new Error("HTTP 404");
          return bundle;
        },
        [
          { dir: "istio", url: "https://example.test/crd-all.gen.yaml" },
          { dir: "istio", url: "https://example.test/broken.yaml" },
        ],
      );
      assert.deepEqual(report.written, [
        "istio/security.istio.io_requestauthentications.yaml",
        "istio/example.com_widgets.yaml",
      ]);
      assert.deepEqual(report.failed, ["https://example.test/broken.yaml: HTTP 404"]);
      assert.ok(!report.missingKinds.includes("security.istio.io/RequestAuthentication"));
      assert.ok(report.missingKinds.includes("security.istio.io/PeerAuthentication"));
      const problems = validateCustomResource({
        apiVersion: "security.istio.io/v1",
        kind: "RequestAuthentication",
        spec: { jwtRules: [{ issuer: "https://issuer", jwksUri: "https://issuer/jwks" }] },
      });
      // Upstream's CRD accepts jwksUri; only the downloaded fixture (issuer alone) rejects it.
      assert.deepEqual(problems, ["/spec/jwtRules/0/jwksUri: unknown field (the API server would prune it)"]);
    } finally {
      if (previousShared === undefined) delete process.env.INFERENCE_PLATFORM_SHARED;
      else process.env.INFERENCE_PLATFORM_SHARED = previousShared;
    }
  });

  it("compiles CRD patterns written in Go RE2 (inline flags, \\A and \\z, POSIX classes)", () => {
    assert.deepEqual(translateGoPattern("^(?i)(abort|warn)?$"), { source: "^(abort|warn)?$", flags: "i" });
    assert.ok(goRegExp("^(?i)(abort|warn)?$", "u").test("Abort"));
    assert.ok(!goRegExp("^(?i)(abort|warn)?$", "u").test("ignore"));
    assert.ok(goRegExp("\\A[[:alpha:]]+\\z", "u").test("abc"));
    assert.ok(goRegExp("^\\pL+$", "u").test("é"));
    // prometheus-operator's PrometheusRule CRD uses the inline flag: it now validates instead of throwing.
    const rule = {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "r" },
      spec: { groups: [{ name: "g", partial_response_strategy: "WARN", rules: [] }] },
    };
    assert.deepEqual(validateCustomResource(rule), []);
    assert.ok(
      validateCustomResource({
        ...rule,
        spec: { groups: [{ name: "g", partial_response_strategy: "drop", rules: [] }] },
      })!.length > 0,
    );
  });
});

describe("shared subschemas (compile-time optimisation)", () => {
  it("hoists repeated subschemas without changing what validates or where errors point", () => {
    const text = fs.readFileSync(
      path.join(sharedDir(), "crds", "istio/networking.istio.io_destinationrules.yaml"),
      "utf8",
    );
    const crd = parseDocument(text).toJS() as {
      spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Record<string, unknown> } }> };
    };
    const plain = toJsonSchema(crd.spec.versions.find((v) => v.name === "v1")!.schema.openAPIV3Schema, true);
    const hoisted = hoistRepeatedSubschemas(plain);
    // The traffic policy repeats under subsets and port-level settings.
    assert.ok(
      Object.keys((hoisted.definitions as object | undefined) ?? {}).length > 0,
      "something was shared",
    );
    assert.ok(JSON.stringify(hoisted).length < JSON.stringify(plain).length / 2);
    const ajv = new Ajv({ allErrors: true, strict: false });
    const [a, b] = [ajv.compile(plain), ajv.compile(hoisted)];
    const rule = (policy: Record<string, unknown>) => ({
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "m" },
      spec: {
        host: "m",
        trafficPolicy: { loadBalancer: { simple: "LEAST_REQUEST" } },
        subsets: [{ name: "v1", labels: { v: "1" }, trafficPolicy: policy }],
      },
    });
    const cases = [
      rule({ loadBalancer: { consistentHash: { httpHeaderName: "x-session" } } }),
      rule({ loadBalancer: { simpel: "ROUND_ROBIN" } }),
      rule({ loadBalancer: { simple: "FASTEST" } }),
      rule({ connectionPool: { http: { http2MaxRequests: "many" } } }),
      rule({ portLevelSettings: [{ port: { number: 80 }, tls: { mode: "ISTIO_MUTUAL", sni: 3 } }] }),
    ];
    const errors = (f: typeof a) => (f.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`).sort();
    for (const object of cases) {
      assert.equal(a(object), b(object), JSON.stringify(object));
      assert.deepEqual(errors(b), errors(a));
    }
    assert.deepEqual(
      cases.map((c) => a(c)),
      [true, false, false, false, false],
    );
  });
});
