/**
 * Property-based robustness over the whole stack config (fast-check). Valid configs — any mix of
 * runtimes, modes, GPU and CPU models, autoscaling triggers and rollout states — always validate, and
 * every object they emit passes the upstream schemas and every mandatory policy; a sample also runs
 * the whole program under mocks. Mutated configs (wrong types, out-of-range numbers, unknown keys,
 * missing keys) always fail with a ConfigError naming key paths: never a TypeError or a stack trace.
 * FUZZ_RUNS scales the case count (`npm run fuzz`); a failure prints the seed to replay it.
 */
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { validatePlatformConfig } from "../config/load";
import { ConfigError } from "../config/problems";
import { validateCustomResource } from "../conformance/crdSchema";
import { isCoreKind, validateCoreObject } from "../conformance/coreKinds";
import { runPolicies, stackPolicyConfig, type PolicyInput } from "../policy/offline";
import type { K8sObject } from "../models/k8s";
import { modelObjects } from "../models/serving/modelObjects";
import { resolveModel } from "../models/serving/resolve";
import { networkProblems, planNetwork } from "../models/cluster/network";
import { planStack } from "../tools/planRunner";
import { registeredBeforeFailure } from "../tools/mockRuntime";
import { readStackFile } from "../tools/stackFile";
import { ROOT, stackRaw } from "./helpers";

const RUNS = Number(process.env.FUZZ_RUNS ?? "1000");
type Raw = Record<string, unknown>;

const LLM_ARCHITECTURES = [
  "llama-3.2-1b",
  "llama-3.2-3b",
  "qwen2.5-7b",
  "mistral-7b",
  "llama-3.1-8b",
] as const;

/** One model entry that is valid on the dev stack's single L4 pool. */
function modelArb(i: number): fc.Arbitrary<Raw> {
  const name = `m${i}`;
  const llm = fc
    .record({
      runtime: fc.constantFrom("vllm", "tgi"),
      architecture: fc.constantFrom(...LLM_ARCHITECTURES),
      maxModelLen: fc.constantFrom(2048, 4096),
      min: fc.integer({ min: 0, max: 2 }),
      extra: fc.integer({ min: 0, max: 2 }),
      triggers: fc.subarray(
        [
          { type: "queueDepth", target: 5, activation: 1 },
          { type: "kvCacheUsage", target: 0.8 },
          { type: "runningRequests", target: 16 },
          { type: "tokenThroughput", target: 800 },
          { type: "p99Latency", targetSeconds: 30 },
          { type: "gpuUtilization", targetPercent: 85 },
        ],
        { minLength: 1 },
      ),
      rollout: fc.option(
        fc.oneof(
          fc.record({ mode: fc.constant("canary"), percent: fc.integer({ min: 0, max: 100 }) }),
          fc.record({ mode: fc.constant("shadow"), percent: fc.integer({ min: 0, max: 100 }) }),
          fc.record({ mode: fc.constant("ab"), match: fc.constant({ header: "X-Group", value: "b" }) }),
          fc.record({ mode: fc.constant("blueGreen"), active: fc.constantFrom("stable", "candidate") }),
        ),
        { nil: undefined },
      ),
    })
    .map((r) => {
      // Scale to zero wakes on gateway requests (any trigger set will do); keep a vLLM queue trigger in the mix.
      const triggers =
        r.min === 0 && !r.triggers.some((t) => t.type === "queueDepth")
          ? [{ type: "queueDepth", target: 5, activation: 1 }, ...r.triggers]
          : r.triggers;
      const vllmOnly = ["kvCacheUsage", "runningRequests", "tokenThroughput", "queueDepth"];
      return {
        name,
        runtime: r.runtime,
        storageUri: `s3://fuzz-models/${name}`,
        architecture: r.architecture,
        gpu: { pool: "l4", count: 1 },
        engine: { maxModelLen: r.maxModelLen, kvCacheDtype: "fp8" },
        autoscaling: {
          minReplicas: r.min,
          maxReplicas: Math.min(4, Math.max(1, r.min) + r.extra),
          triggers:
            r.runtime === "vllm"
              ? triggers
              : (() => {
                  const rest = triggers.filter((t) => !vllmOnly.includes(t.type));
                  return rest.length > 0 ? rest : [{ type: "gpuUtilization", targetPercent: 80 }];
                })(),
        },
        ...(r.rollout
          ? { rollout: { candidate: { storageUri: `s3://fuzz-models/${name}-v2` }, ...r.rollout } }
          : {}),
      };
    })
    .map((m) => {
      // TGI reads no vLLM metrics; triggers need room to scale (maxReplicas above minReplicas).
      if (m.runtime === "tgi" && m.autoscaling.minReplicas === 0) m.autoscaling.minReplicas = 1;
      if (m.autoscaling.maxReplicas <= m.autoscaling.minReplicas)
        m.autoscaling.maxReplicas = m.autoscaling.minReplicas + 1;
      return m as Raw;
    });
  const triton = fc.record({ min: fc.integer({ min: 1, max: 2 }), gpu: fc.boolean() }).map((r): Raw => ({
    name,
    runtime: "triton",
    format: "onnx",
    storageUri: `gs://fuzz-models/${name}`,
    ...(r.gpu ? { gpu: { pool: "l4" } } : {}),
    autoscaling: { minReplicas: r.min, maxReplicas: r.min + 1 },
  }));
  const classic = fc
    .record({
      runtime: fc.constantFrom("sklearn", "xgboost", "lightgbm", "torchserve"),
      mode: fc.constantFrom("Knative", "Standard"),
      min: fc.integer({ min: 0, max: 2 }),
      canary: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      kpa: fc.constantFrom("concurrency", "rps"),
    })
    .map((r): Raw => {
      const knative = r.mode === "Knative";
      return {
        name,
        runtime: r.runtime,
        deploymentMode: r.mode,
        storageUri: `gs://fuzz-models/${name}`,
        autoscaling: {
          minReplicas: knative ? r.min : Math.max(1, r.min),
          maxReplicas: Math.max(1, r.min) + 1,
          triggers: knative ? [{ type: r.kpa, target: 10 }] : [{ type: "cpu", targetPercent: 70 }],
        },
        ...(r.canary !== undefined
          ? {
              rollout: {
                candidate: { storageUri: `gs://fuzz-models/${name}-v2` },
                mode: "canary",
                percent: r.canary,
              },
            }
          : {}),
      };
    });
  return fc.oneof(llm, triton, classic);
}

/** GPUs the pool must hold at most: every replica of every GPU model, twice during a rollout. */
const gpuDemand = (models: Raw[]) =>
  models
    .filter((m) => m.gpu)
    .reduce((s, m) => s + (m.rollout ? 2 : 1) * (m.autoscaling as { maxReplicas: number }).maxReplicas, 0);
/** The dev policy pack's max-gpus-per-stack: the pool may not grow beyond it. */
const DEV_GPU_LIMIT = 8;

const configArb: fc.Arbitrary<Raw> = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc
    .tuple(...Array.from({ length: n }, (_, i) => modelArb(i)))
    // Configs whose replicas fit the pool (the pool-wide capacity check has its own tests).
    .filter((models) => gpuDemand(models) <= DEV_GPU_LIMIT)
    .map((models) => {
      const raw = stackRaw("dev");
      raw.models = models;
      (raw.gpuPools as Array<Record<string, unknown>>)[0]!.maxSize = DEV_GPU_LIMIT;
      delete raw.secretNames;
      return raw;
    }),
);

function policyInput(o: K8sObject, i: number): PolicyInput {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["core", o.apiVersion];
  return {
    urn: `urn:${i}`,
    type: `kubernetes:${group}/${version}:${o.kind}`,
    name: o.metadata.name,
    props: o as Raw,
    protect: false,
  };
}

/** Everything the models of a config emit, checked against the upstream schemas and the pack. */
async function checkEmitted(raw: Raw): Promise<void> {
  const cfg = validatePlatformConfig("dev", structuredClone(raw));
  const ctx = {
    region: cfg.region,
    domain: "models.internal",
    prometheus: { serverAddress: "http://p:9090" },
    secretObjectNames: { hfToken: "hf-token" },
  };
  const objects = cfg.models.flatMap((m) => {
    const o = modelObjects(resolveModel(m, cfg), ctx);
    return [
      o.serviceAccount,
      ...o.inferenceServices,
      ...o.autoscalers,
      ...o.routing,
      ...o.disruptionBudgets,
      ...o.extras,
    ];
  });
  for (const o of objects) {
    const problems = isCoreKind(o.apiVersion) ? await validateCoreObject(o) : validateCustomResource(o);
    assert.deepEqual(problems, [], `${o.kind} ${o.metadata.name}`); // undefined = no schema = not checked
  }
  const violations = await runPolicies(objects.map(policyInput), stackPolicyConfig("dev"));
  // Pod identity associations are registered outside the model's objects: the full plans cover isvc-identity.
  const mandatory = violations.filter(
    (v) => v.enforcementLevel === "mandatory" && v.policy !== "isvc-identity",
  );
  assert.deepEqual(mandatory, []);
}

describe("fuzz: stack config properties", function () {
  this.timeout(600_000);

  it(`valid configs validate and emit conforming, policy-clean objects (${Math.round(RUNS * 0.4)} cases)`, async () => {
    await fc.assert(fc.asyncProperty(configArb, checkEmitted), { numRuns: Math.round(RUNS * 0.4) });
  });

  it(`valid configs plan under mocks with no conformance error or mandatory violation (${Math.max(5, Math.round(RUNS / 200))} cases)`, async () => {
    const base = readStackFile(ROOT, "dev");
    await fc.assert(
      fc.asyncProperty(configArb, async (raw) => {
        const config = {
          ...base.config,
          "inference-platform:gpuPools": JSON.stringify(raw.gpuPools),
          "inference-platform:models": JSON.stringify(raw.models),
        };
        const plan = await planStack("dev", { config, secretKeys: base.secretKeys });
        assert.deepEqual(plan.conformance.errors, []);
        assert.deepEqual(plan.conformance.unverified, []);
        assert.deepEqual(
          plan.violations.filter((v) => v.enforcementLevel === "mandatory"),
          [],
        );
      }),
      { numRuns: Math.max(5, Math.round(RUNS / 200)) },
    );
  });

  /** A random edit somewhere in the config tree. */
  const mutation = fc.record({
    pick: fc.nat(),
    kind: fc.constantFrom("wrongType", "outOfRange", "unknownKey", "deleteKey", "nullValue"),
  });

  function mutate(raw: Raw, m: { pick: number; kind: string }): Raw {
    const out = structuredClone(raw);
    const nodes: Array<{ parent: Raw | unknown[]; key: string | number }> = [];
    const walk = (node: unknown) => {
      if (!node || typeof node !== "object") return;
      const entries: Array<[string | number, unknown]> = Array.isArray(node)
        ? node.map((v, i) => [i, v])
        : Object.entries(node);
      for (const [key, child] of entries) {
        nodes.push({ parent: node as Raw, key });
        walk(child);
      }
    };
    walk(out);
    const target = nodes[m.pick % nodes.length]!;
    const parent = target.parent as Record<string | number, unknown>;
    const value = parent[target.key];
    switch (m.kind) {
      case "wrongType":
        parent[target.key] =
          typeof value === "string"
            ? 12345
            : typeof value === "number"
              ? "not-a-number"
              : typeof value === "boolean"
                ? "yes"
                : 7;
        break;
      case "outOfRange":
        parent[target.key] = typeof value === "number" ? -1e9 : [1, 2, 3];
        break;
      case "unknownKey":
        if (value && typeof value === "object" && !Array.isArray(value)) (value as Raw).bogusKey = true;
        else if (Array.isArray(parent)) (parent as unknown[]).push({ bogusKey: true });
        else (parent as Raw).bogusKey = 1;
        break;
      case "deleteKey":
        if (Array.isArray(parent)) parent.splice(target.key as number, 1);
        else delete parent[target.key];
        break;
      case "nullValue":
        parent[target.key] = null;
        break;
    }
    return out;
  }

  it(`mutated configs stop the program before it registers anything (${Math.max(5, Math.round(RUNS / 200))} cases)`, async () => {
    const base = readStackFile(ROOT, "dev");
    await fc.assert(
      fc.asyncProperty(configArb, mutation, async (raw, m) => {
        const mutated = mutate(raw, m);
        // The whole mutated tree, key by key, as the CLI would pass it (a deleted key is absent).
        const config: Record<string, string> = { ...base.config };
        // Every top-level key, region (aws:region) and a top-level bogusKey included: none is dropped.
        for (const key of new Set([...Object.keys(raw), ...Object.keys(mutated)])) {
          const name = key === "region" ? "aws:region" : `inference-platform:${key}`;
          delete config[name];
          if (mutated[key] !== undefined)
            config[name] =
              typeof mutated[key] === "string" ? (mutated[key] as string) : JSON.stringify(mutated[key]);
        }
        let planned = false;
        try {
          await planStack("dev", { config, secretKeys: base.secretKeys });
          planned = true;
        } catch (err) {
          assert.match((err as Error).message, /^Invalid stack config for stack "dev"/);
          assert.deepEqual(
            registeredBeforeFailure(err)?.map((r) => r.type),
            ["pulumi:pulumi:Stack"],
          );
        }
        // Only deleting a key can leave a valid config (an optional key); every other edit must stop it.
        assert.ok(!planned || m.kind === "deleteKey", `a ${m.kind} mutation planned`);
      }),
      { numRuns: Math.max(5, Math.round(RUNS / 200)) },
    );
  });

  it(`mutated configs fail with a ConfigError naming key paths, never a crash (${Math.round(RUNS * 0.6)} cases)`, () => {
    let rejected = 0;
    fc.assert(
      fc.property(configArb, mutation, (raw, m) => {
        const mutated = mutate(raw, m);
        try {
          validatePlatformConfig("dev", mutated);
          assert.equal(m.kind, "deleteKey", `a ${m.kind} mutation was accepted`);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          assert.ok(err.problems.length > 0);
          for (const p of err.problems)
            assert.ok(p.path.length > 0 && p.message.length > 0, JSON.stringify(p));
          assert.match(err.message, /^Invalid stack config for stack "dev" \(\d+ problems?\):\n {2}- /);
          rejected++;
        }
      }),
      { numRuns: Math.round(RUNS * 0.6) },
    );
    // Most edits break something; a few (e.g. deleting an optional key) leave a valid config.
    assert.ok(rejected > RUNS * 0.3, `only ${rejected} mutations were rejected`);
  });
});

describe("fuzz: network layouts", () => {
  const toInt = (ip: string) => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const range = (cidr: string): [number, number] => {
    const [ip, len] = cidr.split("/");
    const start = toInt(ip!);
    return [start, start + 2 ** (32 - Number(len)) - 1];
  };
  const layoutArb = fc.record({
    octets: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })),
    // Mostly sizes and zone lists near the limits, some anywhere (duplicates, too many, too small).
    prefix: fc.oneof(
      { arbitrary: fc.integer({ min: 15, max: 21 }), weight: 3 },
      { arbitrary: fc.integer({ min: 8, max: 28 }), weight: 1 },
    ),
    aligned: fc.oneof(
      { arbitrary: fc.constant(true), weight: 4 },
      { arbitrary: fc.constant(false), weight: 1 },
    ),
    letters: fc.oneof(
      {
        arbitrary: fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e", "f"), {
          minLength: 1,
          maxLength: 4,
        }),
        weight: 3,
      },
      {
        arbitrary: fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f"), { minLength: 1, maxLength: 6 }),
        weight: 1,
      },
    ),
  });

  it(`a layout either gets a network.* error or plans disjoint subnets inside the VPC, the same in any order (${RUNS} cases)`, () => {
    let accepted = 0;
    fc.assert(
      fc.property(layoutArb, ({ octets, prefix, aligned, letters }) => {
        const size = 2 ** (32 - prefix);
        const raw = octets[0] * 2 ** 24 + octets[1] * 2 ** 16;
        const base = aligned ? raw - (raw % size) : raw - (raw % size) + (size > 1 ? 1 : 0);
        const ip = [24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join(".");
        const cidr = `${ip}/${prefix}`;
        const zones = letters.map((l) => `us-east-1${l}`);
        const problems = networkProblems({ cidr, zones, explicitZones: true });
        if (problems.length > 0) {
          assert.ok(problems.every((p) => /^network\.(cidr|availabilityZones)/.test(p.path)));
          return;
        }
        accepted++;
        const plan = planNetwork({ cidr, zones, clusterName: "c", natPerZone: true });
        const vpc = range(cidr);
        const ranges = plan.subnets.map((s) => range(s.cidr));
        for (const [i, [lo, hi]] of ranges.entries()) {
          assert.ok(lo >= vpc[0] && hi <= vpc[1], `${plan.subnets[i]!.cidr} outside ${cidr}`);
          assert.equal(lo % (hi - lo + 1), 0, `${plan.subnets[i]!.cidr} is misaligned`);
          for (const [j, [lo2, hi2]] of ranges.entries())
            if (i < j)
              assert.ok(hi < lo2 || hi2 < lo, `${plan.subnets[i]!.cidr} overlaps ${plan.subnets[j]!.cidr}`);
        }
        const reordered = planNetwork({
          cidr,
          zones: [...zones].reverse(),
          clusterName: "c",
          natPerZone: true,
        });
        assert.deepEqual(reordered, plan);
      }),
      { numRuns: RUNS },
    );
    assert.ok(accepted > RUNS * 0.2, `only ${accepted} layouts were accepted: the property ran vacuously`);
  });
});
