import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateCustomResource } from "../conformance/crdSchema";
import { decide, EXIT_CODES } from "../models/rollout/gate";
import { modelObjects } from "../models/serving/modelObjects";
import { resolveModel } from "../models/serving/resolve";
import { checkGate, editStack, main, ROLLOUT_CLI, RolloutError, statusTable } from "../tools/rollout";
import { parseCli } from "../tools/cli";
import { planStack, ROOT } from "../tools/planRunner";
import { parseStackConfig } from "../tools/stackFile";
import { setValue } from "../tools/stackEdit";
import { validatePlatformConfig, readRawConfig } from "../config/load";
import { PrometheusServer, syntheticSeries, type Series } from "./prometheusHarness";
import type { RolloutCommand } from "../models/rollout/schedule";

const DEV = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
const PROD = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
const LLAMA = ["config", "inference-platform:models", 0];

function configOf(stack: string, text: string) {
  const file = parseStackConfig(text);
  return validatePlatformConfig(stack, readRawConfig(file.config, (k) => file.secretKeys.includes(k)).raw);
}

type Route = {
  name: string;
  match?: unknown[];
  route: Array<{ weight: number }>;
  mirrorPercentage?: { value: number };
};

/** The objects of the first model as the program would emit them, for the text's current state. */
function llamaObjects(text: string) {
  const cfg = configOf("dev", text);
  const ctx = {
    region: cfg.region,
    domain: "models.internal",
    prometheus: { serverAddress: "http://p:9090" },
    secretObjectNames: { hfToken: "hf-token" },
  };
  return modelObjects(resolveModel(cfg.models[0]!, cfg), ctx);
}

function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split("\n");
  const b = after.split("\n");
  let head = 0;
  while (head < a.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  return { removed: a.slice(head, a.length - tail), added: b.slice(head, b.length - tail) };
}

const cli = (argv: string[]) => parseCli(ROLLOUT_CLI, argv)!;

describe("rollout modes: emitted objects", () => {
  const variants: Array<[string, Record<string, unknown>]> = [
    ["canary 10%", { mode: "canary", percent: 10 }],
    ["A/B by header", { mode: "ab", match: { header: "X-Experiment-Group", value: "B" } }],
    ["A/B by cookie", { mode: "ab", match: { cookie: "experiment", value: "b" } }],
    ["blue/green on candidate", { mode: "blueGreen", percent: 0, active: "candidate" }],
    ["shadow 20%", { mode: "shadow", percent: 20 }],
  ];
  for (const [what, fields] of variants) {
    it(`${what}: two InferenceServices, a VirtualService and DestinationRules valid against the CRDs`, () => {
      let text = DEV;
      for (const [k, v] of Object.entries(fields)) text = setValue(text, [...LLAMA, "rollout", k], v);
      const objects = llamaObjects(text);
      assert.equal(objects.inferenceServices.length, 2);
      const vs = objects.routing.find((o) => o.kind === "VirtualService")!;
      for (const o of [...objects.inferenceServices, ...objects.routing, ...objects.autoscalers])
        assert.deepEqual(validateCustomResource(o), [], `${o.kind} ${o.metadata.name}`);
      const http = (vs.spec as { http: Route[] }).http;
      const firstWeighted = http.findIndex((h) => !h.match);
      assert.ok(
        http.slice(firstWeighted).every((h) => !h.match),
        "header/cookie matches come before weighted routes",
      );
      for (const h of http)
        assert.equal(
          h.route.reduce((s, r) => s + r.weight, 0),
          100,
          h.name,
        );
    });
  }
});

describe("npm run rollout: edits of the stack file", () => {
  it("status shows every model's split", () => {
    assert.match(statusTable("dev", DEV), /llama-31-8b\s+canary\s+90%\s+10%\s+next step 50% of 10, 50, 100/);
  });

  it("set changes exactly one line and the result plans with conforming objects", async () => {
    const { text } = editStack("dev", DEV, "llama-31-8b", { kind: "set", percent: 50 });
    assert.deepEqual(changedLines(DEV, text), {
      removed: ["        percent: 10"],
      added: ["        percent: 50"],
    });
    const plan = await planStack("dev", parseStackConfig(text));
    assert.deepEqual(plan.conformance.errors, []);
    const vs = plan.objects.find((o) => o.object.kind === "VirtualService")!.object;
    const def = (vs.spec as { http: Route[] }).http.find((h) => h.name === "default")!;
    assert.deepEqual(
      def.route.map((r) => r.weight),
      [50, 50],
    );
  });

  it("step follows the schedule; ab inserts its match inside the rollout only; promote moves the candidate's fields", () => {
    const stepped = editStack("dev", DEV, "llama-31-8b", { kind: "step" }).text;
    assert.match(stepped, /\n {8}percent: 50\n/);
    const ab = editStack("dev", DEV, "llama-31-8b", {
      kind: "ab",
      header: "X-Experiment-Group",
      value: "B",
    }).text;
    const d = changedLines(DEV, ab);
    assert.deepEqual(
      d.removed.filter((l) => !d.added.includes(l)),
      ["        mode: canary", "        percent: 10"],
    );
    assert.ok(
      d.added.every((l) => l.startsWith("        ")),
      d.added.join("\n"),
    );
    const promoted = editStack("dev", DEV, "llama-31-8b", { kind: "promote" }).text;
    const cfg = configOf("dev", promoted);
    assert.equal(cfg.models[0]!.rollout, undefined);
    assert.equal(
      cfg.models[0]!.storageUri,
      "hf://meta-llama/Llama-3.1-8B-Instruct:0e9e39f249a16976918f6564b8830bc894c89659",
    );
    assert.equal(cfg.models[0]!.engine.maxNumSeqs, 24);
    // Comments and the other models stay byte-identical.
    for (const line of DEV.split("\n").filter((l) => l.trimStart().startsWith("#")))
      assert.ok(promoted.includes(line), line);
    assert.ok(promoted.endsWith(DEV.slice(DEV.indexOf("    - name: resnet50"))));
  });

  it("refuses invalid transitions with a clear error and writes nothing", async () => {
    const prod = setValue(
      setValue(
        PROD,
        ["config", "inference-platform:models", 1, "rollout", "candidate", "storageUri"],
        "s3://example-models-prod/qwen2.5-7b-instruct-v2",
      ),
      ["config", "inference-platform:models", 1, "rollout", "steps"],
      [25, 50, 100],
    );
    const refused: Array<[string, string, string, RolloutCommand, RegExp]> = [
      ["dev", DEV, "resnet50", { kind: "set", percent: 10 }, /no rollout in progress/],
      ["dev", DEV, "nope", { kind: "abort" }, /no model "nope"/],
      ["dev", DEV, "llama-31-8b", { kind: "set", percent: 101 }, /whole number from 0 to 100/],
      ["dev", DEV, "llama-31-8b", { kind: "set", percent: -5 }, /whole number from 0 to 100/],
      [
        "dev",
        editStack("dev", DEV, "llama-31-8b", { kind: "set", percent: 100 }).text,
        "llama-31-8b",
        { kind: "step" },
        /last step .* promote or abort/,
      ],
      [
        "dev",
        editStack("dev", DEV, "llama-31-8b", { kind: "ab", cookie: "exp", value: "b" }).text,
        "llama-31-8b",
        { kind: "promote" },
        /rerun with --force/,
      ],
      ["prod", prod, "qwen25-7b", { kind: "set", percent: 60 }, /jump of 60 points; prod moves at most 50/],
      ["dev", DEV, "llama-31-8b", { kind: "ab", value: "b" }, /exactly one of --header/],
    ];
    for (const [stack, text, model, command, message] of refused)
      assert.throws(
        () => editStack(stack, text, model, command),
        (e: Error) => e instanceof RolloutError && message.test(e.message),
        `${model} ${JSON.stringify(command)}`,
      );
    assert.doesNotThrow(() => editStack("prod", prod, "qwen25-7b", { kind: "set", percent: 25 }));
    // Through the command line: the file keeps its bytes and the exit code says refused.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-"));
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), DEV);
      const errors: string[] = [];
      const original = console.error;
      console.error = (m: string) => errors.push(m);
      try {
        await assert.rejects(main(cli(["set", "llama-31-8b", "101", "--stack", "dev"]), dir), RolloutError);
        await assert.rejects(main(cli(["promote", "resnet50", "--stack", "dev"]), dir), RolloutError);
      } finally {
        console.error = original;
      }
      assert.equal(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"), DEV);
      const log = console.log;
      console.log = () => undefined;
      try {
        assert.equal(await main(cli(["step", "llama-31-8b", "--stack", "dev"]), dir), 0);
      } finally {
        console.log = log;
      }
      assert.match(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"), /percent: 50/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("start adds a candidate at 0% to a model of a shipped stack; prod promotion within maxStep unless forced", () => {
    const started = editStack("prod", PROD, "qwen25-7b", {
      kind: "start",
      candidate: { storageUri: "s3://example-models-prod/qwen2.5-7b-instruct-v2" },
    });
    assert.match(started.summary, /added at 0%/);
    assert.match(
      started.text,
      /rollout:\n\s+candidate:\n\s+storageUri: s3:\/\/example-models-prod\/qwen2.5-7b-instruct-v2\n\s+mode: canary\n\s+percent: 0/,
    );
    assert.throws(
      () =>
        editStack("prod", started.text, "qwen25-7b", {
          kind: "start",
          candidate: { storageUri: "s3://x/y" },
        }),
      /already has a rollout/,
    );
    const at10 = editStack("prod", started.text, "qwen25-7b", { kind: "set", percent: 10 }).text;
    assert.throws(
      () => editStack("prod", at10, "qwen25-7b", { kind: "promote" }),
      /10% -> 100% is a jump of 90 points; prod moves at most 50 .*--force/,
    );
    assert.match(editStack("prod", at10, "qwen25-7b", { kind: "promote", force: true }).summary, /promoted/);
    // dev has no max step: promotion at any share.
    assert.doesNotThrow(() => editStack("dev", DEV, "llama-31-8b", { kind: "promote" }));
  });

  it("checks the schedule against prod's max step in the stack config itself", () => {
    const base = ["config", "inference-platform:models", 1, "rollout"];
    const prod = setValue(
      PROD,
      [...base, "candidate", "storageUri"],
      "s3://example-models-prod/qwen2.5-7b-v2",
    );
    assert.throws(
      () => configOf("prod", setValue(prod, [...base, "steps"], [10, 100])),
      /models\[1\]\.rollout\.steps: step 2 \(10 -> 100%\) exceeds the max step of 50 points \(prod's default/,
    );
    assert.doesNotThrow(() =>
      configOf("prod", setValue(setValue(prod, [...base, "steps"], [10, 100]), [...base, "maxStep"], 90)),
    );
    assert.throws(
      () => configOf("dev", setValue(DEV, [...LLAMA, "rollout", "maxStep"], 20)),
      /maxStep guards prod rollouts/,
    );
  });

  it("keeps weights summing to 100, matches first, in every state a command sequence reaches", () => {
    const command = fc.oneof(
      fc.integer({ min: -10, max: 110 }).map((percent): RolloutCommand => ({ kind: "set", percent })),
      fc.constant<RolloutCommand>({ kind: "step" }),
      fc.constant<RolloutCommand>({ kind: "abort" }),
      fc.constantFrom<RolloutCommand>(
        { kind: "ab", header: "X-Group", value: "b" },
        { kind: "ab", cookie: "grp", value: "b" },
      ),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 8 }), (commands) => {
        let text = DEV;
        for (const c of commands) {
          try {
            text = editStack("dev", text, "llama-31-8b", c).text;
          } catch (e) {
            if (!(e instanceof RolloutError)) throw e;
            continue;
          }
          const vs = llamaObjects(text).routing.find((o) => o.kind === "VirtualService")!;
          const http = (vs.spec as { http: Route[] }).http;
          for (const h of http)
            assert.equal(
              h.route.reduce((s, r) => s + r.weight, 0),
              100,
            );
          const firstWeighted = http.findIndex((h) => !h.match);
          assert.ok(http.slice(firstWeighted).every((h) => !h.match));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("rollout metric gate", () => {
  const thresholds = configOf("dev", DEV).models[0]!.rollout!.gate;

  it("decides on the numbers: hold without traffic, roll back on errors or latency, else advance", () => {
    const healthy = {
      requests: 1000,
      errors: 2,
      p95LatencySeconds: 1.0,
      ttftP95Seconds: 0.2,
      tpotP95Seconds: 0.03,
    };
    assert.equal(decide(healthy, healthy, thresholds, true).verdict, "advance");
    assert.equal(decide(healthy, { ...healthy, requests: 20 }, thresholds, true).verdict, "hold");
    assert.equal(decide(healthy, { ...healthy, errors: 40 }, thresholds, true).verdict, "rollback");
    assert.equal(decide(healthy, { ...healthy, ttftP95Seconds: 0.5 }, thresholds, true).verdict, "rollback");
    assert.equal(
      decide(healthy, { ...healthy, tpotP95Seconds: Number.NaN }, thresholds, true).verdict,
      "hold",
    );
    assert.equal(
      decide(healthy, { ...healthy, tpotP95Seconds: Number.NaN }, thresholds, false).verdict,
      "advance",
    );
    assert.deepEqual(EXIT_CODES, { advance: 0, hold: 1, rollback: 2 });
  });

  it("says it could not check (not hold or roll back) when Prometheus is unreachable", async () => {
    await assert.rejects(
      checkGate("dev", DEV, "llama-31-8b", "http://127.0.0.1:1"),
      (e: Error) =>
        e instanceof RolloutError && /cannot reach Prometheus at http:\/\/127.0.0.1:1/.test(e.message),
    );
  });

  describe("on a real Prometheus", function () {
    this.timeout(60_000);
    // The gate queries "now": the synthetic window ends when the Prometheus starts (in before()), not
    // when this file loads, so a slow suite does not push the data out of the gate's window.
    let series = syntheticSeries([0]);
    interface Track {
      rps: number;
      errorRps: number;
      latencyMs: [string, string];
      ttft: [string, string];
    }
    function trackSeries(namespace: string, isvc: string, t: Track): Series[] {
      const { counter, histogram } = series;
      const pod = {
        namespace,
        pod: `${isvc}-predictor-5d8f9c7b6-abcde`,
        job: `${namespace}/inference-services`,
      };
      const istio = { ...pod, reporter: "destination", destination_workload: `${isvc}-predictor` };
      const vllm = { ...pod, model_name: "llama-31-8b", engine: "0" };
      return [
        counter("istio_requests_total", { ...istio, response_code: "200" }, t.rps - t.errorRps),
        ...(t.errorRps > 0
          ? [counter("istio_requests_total", { ...istio, response_code: "503" }, t.errorRps)]
          : []),
        // The gateway's view of the same requests (source): must not be double counted.
        counter("istio_requests_total", { ...istio, reporter: "source", response_code: "200" }, t.rps),
        ...histogram("istio_request_duration_milliseconds", istio, t.rps, ...t.latencyMs),
        ...histogram("vllm:time_to_first_token_seconds", vllm, t.rps, ...t.ttft),
        ...histogram("vllm:request_time_per_output_token_seconds", vllm, t.rps, "0.02", "0.04"),
      ];
    }
    const stable: Track = { rps: 5, errorRps: 0, latencyMs: ["1000", "2500"], ttft: ["0.1", "0.25"] };
    const scenarios: Record<string, [Track, string, number]> = {
      healthy: [{ ...stable, rps: 1 }, "ADVANCE", 0],
      errors: [{ ...stable, rps: 1, errorRps: 0.2 }, "ROLLBACK", 2],
      "slow-ttft": [{ ...stable, rps: 1, ttft: ["0.5", "1"] }, "ROLLBACK", 2],
      idle: [{ ...stable, rps: 0.1 }, "HOLD", 1],
    };
    let prometheus: PrometheusServer;
    before(async () => {
      const end = Math.floor(Date.now() / 1000) - 30;
      series = syntheticSeries(Array.from({ length: 121 }, (_, i) => end - 30 * 60 + i * 15));
      const all = Object.entries(scenarios).flatMap(([ns, [candidate]]) => [
        ...trackSeries(`gate-${ns}`, "llama-31-8b", stable),
        ...trackSeries(`gate-${ns}`, "llama-31-8b-canary", candidate),
      ]);
      prometheus = await PrometheusServer.start(all);
    });
    after(() => prometheus?.stop());

    for (const [scenario, [, verdict, exitCode]] of Object.entries(scenarios))
      it(`${scenario} candidate: ${verdict} (exit ${exitCode}), printing the numbers`, async () => {
        const text = setValue(DEV, [...LLAMA, "namespace"], `gate-${scenario}`);
        const result = await checkGate("dev", text, "llama-31-8b", prometheus.url);
        assert.equal(result.exitCode, exitCode, result.lines.join("\n"));
        assert.match(result.lines[0]!, new RegExp(verdict));
        // 5 requests/s over 10 minutes (the last samples are 30 s old: increase() extrapolates to ~3000).
        assert.ok(Math.abs(result.numbers.stable.requests! - 5 * 600) < 300, JSON.stringify(result.numbers));
      });
  });
});
