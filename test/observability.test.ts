import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { alertGroups, prometheusRule } from "../models/observability/alerts";
import { DASHBOARDS, dashboardConfigMaps } from "../models/observability/dashboards";
import { validateCoreObject } from "../conformance/coreKinds";
import { PrometheusServer } from "./prometheusHarness";

const groups = alertGroups(["models", "team-a"]);
const rule = (name: string) => groups.flatMap((g) => g.rules).find((r) => r.alert === name)!;

/** The annotations Prometheus renders for an alert with these labels and value (the templates we use). */
function rendered(alert: string, labels: Record<string, string>, value: number) {
  const humanizePercentage = (v: number) => `${Number((v * 100).toPrecision(4))}%`;
  const render = (t: string) =>
    t
      .replace(/\{\{ \$labels\.([A-Za-z_]+) \}\}/g, (_, k: string) => labels[k] ?? "")
      .replace(/\{\{ \$value \| humanizePercentage \}\}/g, humanizePercentage(value))
      .replace(/\{\{ \$value \}\}/g, String(value));
  const a = rule(alert).annotations;
  return { summary: render(a.summary), description: render(a.description) };
}

function expectAlert(alert: string, labels: Record<string, string>, value: number) {
  return {
    exp_labels: { ...labels, severity: rule(alert).labels.severity },
    exp_annotations: rendered(alert, labels, value),
  };
}

function promtool(args: string[], cwd: string) {
  const r = spawnSync("promtool", args, { cwd, encoding: "utf8" });
  if (r.error) throw new Error("promtool not found: apt-get install -y prometheus");
  return r;
}

describe("alert rules (promtool)", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "rules-"));
    fs.writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("are valid rule files", () => {
    const r = promtool(["check", "rules", "rules.yaml"], dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("fire on failing series and stay quiet on healthy ones (promtool test rules)", () => {
    const xid = { Hostname: "ip-10-0-1-5", gpu: "0", UUID: "GPU-aaaa" };
    const model = { destination_workload_namespace: "models", model: "llama" };
    const tests = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            {
              series: `DCGM_FI_DEV_XID_ERRORS{Hostname="ip-10-0-1-5",gpu="0",UUID="GPU-aaaa"}`,
              values: "0 0 79x10",
            },
            {
              series: `DCGM_FI_DEV_XID_ERRORS{Hostname="ip-10-0-1-5",gpu="1",UUID="GPU-bbbb"}`,
              values: "0x12",
            },
            { series: `DCGM_FI_DEV_FB_USED{Hostname="n1",gpu="0",UUID="GPU-1"}`, values: "23000x30" },
            { series: `DCGM_FI_DEV_FB_FREE{Hostname="n1",gpu="0",UUID="GPU-1"}`, values: "500x30" },
            // A vLLM GPU at its normal 90% reservation is not an alert.
            { series: `DCGM_FI_DEV_FB_USED{Hostname="n1",gpu="1",UUID="GPU-2"}`, values: "21000x30" },
            { series: `DCGM_FI_DEV_FB_FREE{Hostname="n1",gpu="1",UUID="GPU-2"}`, values: "2500x30" },
            {
              series: `vllm:num_requests_waiting{namespace="models",model_name="llama",pod="llama-predictor-a"}`,
              values: "30x30",
            },
            {
              series: `vllm:num_requests_waiting{namespace="models",model_name="llama",pod="llama-predictor-b"}`,
              values: "5x30",
            },
            {
              series: `vllm:num_requests_running{namespace="models",model_name="llama",pod="llama-predictor-a"}`,
              values: "8x30",
            },
            {
              series: `vllm:num_requests_running{namespace="models",model_name="llama",pod="llama-predictor-b"}`,
              values: "8x30",
            },
            {
              series: `vllm:num_requests_waiting{namespace="models",model_name="qwen",pod="qwen-predictor-a"}`,
              values: "3x30",
            },
            {
              series: `vllm:num_requests_running{namespace="models",model_name="qwen",pod="qwen-predictor-a"}`,
              values: "4x30",
            },
          ],
          alert_rule_test: [
            { eval_time: "6m", alertname: "GpuXidError", exp_alerts: [expectAlert("GpuXidError", xid, 79)] },
            {
              eval_time: "20m",
              alertname: "GpuMemoryNearlyFull",
              exp_alerts: [
                expectAlert(
                  "GpuMemoryNearlyFull",
                  { Hostname: "n1", gpu: "0", UUID: "GPU-1" },
                  23000 / 23500,
                ),
              ],
            },
            { eval_time: "5m", alertname: "LlmQueueBackingUp", exp_alerts: [] },
            {
              eval_time: "15m",
              alertname: "LlmQueueBackingUp",
              exp_alerts: [
                expectAlert("LlmQueueBackingUp", { namespace: "models", model_name: "llama" }, 35),
              ],
            },
          ],
        },
        {
          interval: "1m",
          input_series: [
            {
              series: `kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff",namespace="team-a",pod="iris-predictor-1",container="kserve-container"}`,
              values: "1x20",
            },
            {
              series: `kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff",namespace="kube-system",pod="coredns-1",container="coredns"}`,
              values: "1x20",
            },
            {
              series: `kube_pod_status_ready{condition="false",namespace="models",pod="llama-predictor-slow"}`,
              values: "1x60",
            },
          ],
          alert_rule_test: [
            {
              eval_time: "10m",
              alertname: "ModelPodCrashLooping",
              exp_alerts: [
                expectAlert(
                  "ModelPodCrashLooping",
                  { namespace: "team-a", pod: "iris-predictor-1", container: "kserve-container" },
                  1,
                ),
              ],
            },
            // Still loading weights after 30 minutes is within the LLM startup budget.
            { eval_time: "30m", alertname: "ModelPodNotReady", exp_alerts: [] },
            {
              eval_time: "50m",
              alertname: "ModelPodNotReady",
              exp_alerts: [
                expectAlert("ModelPodNotReady", { namespace: "models", pod: "llama-predictor-slow" }, 1),
              ],
            },
          ],
        },
        {
          interval: "1m",
          input_series: [
            {
              series: `istio_requests_total{reporter="destination",destination_workload_namespace="models",destination_workload="llama-predictor",response_code="200"}`,
              values: "0+600x30",
            },
            {
              series: `istio_requests_total{reporter="destination",destination_workload_namespace="models",destination_workload="llama-canary-predictor",response_code="200"}`,
              values: "0+540x30",
            },
            {
              series: `istio_requests_total{reporter="destination",destination_workload_namespace="models",destination_workload="llama-canary-predictor",response_code="503"}`,
              values: "0+60x30",
            },
            {
              series: `istio_requests_total{reporter="destination",destination_workload_namespace="models",destination_workload="qwen-predictor",response_code="200"}`,
              values: "0+600x30",
            },
            {
              series: `istio_requests_total{reporter="destination",destination_workload_namespace="models",destination_workload="qwen-predictor",response_code="500"}`,
              values: "0+6x30",
            },
            {
              series: `istio_requests_total{reporter="destination",destination_workload_namespace="models",destination_workload="qwen-canary-predictor",response_code="200"}`,
              values: "0+594x30",
            },
            {
              series: `istio_requests_total{reporter="destination",destination_workload_namespace="models",destination_workload="qwen-canary-predictor",response_code="500"}`,
              values: "0+6x30",
            },
          ],
          alert_rule_test: [
            {
              eval_time: "20m",
              alertname: "CanaryErrorRateAboveStable",
              exp_alerts: [expectAlert("CanaryErrorRateAboveStable", model, 0.1)],
            },
          ],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, "tests.yaml"), stringify(tests));
    const r = promtool(["test", "rules", "tests.yaml"], dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("ships as a PrometheusRule next to the Grafana dashboards, selecting the stack's model namespaces", () => {
    const pr = prometheusRule("monitoring", ["models", "team-a"], "kube-prometheus-stack");
    assert.match(JSON.stringify(pr), /namespace=~\\"models\|team-a\\"/);
    assert.equal((pr.metadata.labels as Record<string, string>).release, "kube-prometheus-stack");
  });
});

describe("Grafana dashboards", function () {
  this.timeout(30_000);
  let prometheus: PrometheusServer;
  before(async () => {
    const now = Math.floor(Date.now() / 1000);
    prometheus = await PrometheusServer.start([
      { name: "up", labels: { job: "x" }, points: [[now - 60, 1]] },
    ]);
  });
  after(() => prometheus?.stop());

  it("cover GPUs, LLM serving and KServe traffic, as ConfigMaps Grafana's sidecar loads", async () => {
    assert.deepEqual(
      DASHBOARDS.map((d) => d.uid),
      ["ip-gpu", "ip-llm", "ip-kserve"],
    );
    for (const cm of dashboardConfigMaps("monitoring")) {
      assert.deepEqual(await validateCoreObject(cm), []);
      assert.equal((cm.metadata.labels as Record<string, string>).grafana_dashboard, "1");
      const json = JSON.parse(Object.values(cm.data as Record<string, string>)[0]!) as { panels: unknown[] };
      assert.ok(json.panels.length >= 3);
    }
  });

  it("use only queries a real Prometheus accepts", async () => {
    const exprs = DASHBOARDS.flatMap((d) => d.panels.flatMap((p) => p.exprs.map((e) => e.expr)));
    for (const expr of exprs) await prometheus.query(expr, Math.floor(Date.now() / 1000));
    assert.ok(exprs.length >= 14);
  });
});
