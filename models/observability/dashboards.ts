/**
 * Grafana dashboards shipped as ConfigMaps that kube-prometheus-stack's Grafana sidecar loads
 * (label grafana_dashboard: "1"): GPUs per node and pod, LLM serving, and KServe traffic per model and
 * track. Every query is checked on a real Prometheus by the tests.
 */
import type { K8sObject } from "../k8s";
import { coreObject, PART_OF } from "../k8s";

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly exprs: Array<{ expr: string; legend: string }>;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: Panel[];
}

const p95 = (series: string, by: string) =>
  `histogram_quantile(0.95, sum by (le, ${by}) (rate(${series}[5m])))`;

export const DASHBOARDS: Dashboard[] = [
  {
    uid: "ip-gpu",
    title: "Inference platform / GPUs",
    panels: [
      {
        title: "GPU utilization",
        unit: "percent",
        exprs: [
          {
            expr: "avg by (Hostname, gpu, pod) (DCGM_FI_DEV_GPU_UTIL)",
            legend: "{{Hostname}} gpu{{gpu}} {{pod}}",
          },
        ],
      },
      {
        title: "GPU memory used",
        unit: "decmbytes",
        exprs: [
          {
            expr: "sum by (Hostname, gpu, pod) (DCGM_FI_DEV_FB_USED)",
            legend: "{{Hostname}} gpu{{gpu}} {{pod}}",
          },
        ],
      },
      {
        title: "Power",
        unit: "watt",
        exprs: [
          { expr: "sum by (Hostname, gpu) (DCGM_FI_DEV_POWER_USAGE)", legend: "{{Hostname}} gpu{{gpu}}" },
        ],
      },
      {
        title: "Temperature",
        unit: "celsius",
        exprs: [{ expr: "max by (Hostname, gpu) (DCGM_FI_DEV_GPU_TEMP)", legend: "{{Hostname}} gpu{{gpu}}" }],
      },
      {
        title: "XID errors (last code)",
        unit: "none",
        exprs: [
          {
            expr: "max by (Hostname, gpu, pod) (DCGM_FI_DEV_XID_ERRORS)",
            legend: "{{Hostname}} gpu{{gpu}} {{pod}}",
          },
        ],
      },
    ],
  },
  {
    uid: "ip-llm",
    title: "Inference platform / LLM serving (vLLM)",
    panels: [
      {
        title: "Time to first token (p95)",
        unit: "s",
        exprs: [
          {
            expr: p95("vllm:time_to_first_token_seconds_bucket", "namespace, model_name"),
            legend: "{{namespace}}/{{model_name}}",
          },
        ],
      },
      {
        title: "Time per output token (p95)",
        unit: "s",
        exprs: [
          {
            expr: p95("vllm:request_time_per_output_token_seconds_bucket", "namespace, model_name"),
            legend: "{{namespace}}/{{model_name}}",
          },
        ],
      },
      {
        title: "Requests waiting",
        unit: "none",
        exprs: [
          {
            expr: "sum by (namespace, model_name) (vllm:num_requests_waiting)",
            legend: "{{namespace}}/{{model_name}}",
          },
        ],
      },
      {
        title: "Requests running",
        unit: "none",
        exprs: [
          {
            expr: "sum by (namespace, model_name) (vllm:num_requests_running)",
            legend: "{{namespace}}/{{model_name}}",
          },
        ],
      },
      {
        title: "KV-cache usage",
        unit: "percentunit",
        exprs: [
          {
            expr: "avg by (namespace, model_name, pod) (vllm:kv_cache_usage_perc)",
            legend: "{{namespace}}/{{model_name}} {{pod}}",
          },
        ],
      },
      {
        title: "Generated tokens per second",
        unit: "short",
        exprs: [
          {
            expr: "sum by (namespace, model_name) (rate(vllm:generation_tokens_total[5m]))",
            legend: "{{namespace}}/{{model_name}}",
          },
        ],
      },
    ],
  },
  {
    uid: "ip-kserve",
    title: "Inference platform / KServe traffic",
    panels: [
      {
        title: "Requests per second by model and track",
        unit: "reqps",
        exprs: [
          {
            expr: `sum by (destination_workload_namespace, destination_workload) (rate(istio_requests_total{reporter="destination"}[5m]))`,
            legend: "{{destination_workload_namespace}}/{{destination_workload}}",
          },
        ],
      },
      {
        title: "p95 latency",
        unit: "ms",
        exprs: [
          {
            expr: p95(
              `istio_request_duration_milliseconds_bucket{reporter="destination"}`,
              "destination_workload_namespace, destination_workload",
            ),
            legend: "{{destination_workload_namespace}}/{{destination_workload}}",
          },
        ],
      },
      {
        title: "5xx ratio",
        unit: "percentunit",
        exprs: [
          {
            expr: `sum by (destination_workload_namespace, destination_workload) (rate(istio_requests_total{reporter="destination",response_code=~"5.."}[5m])) / sum by (destination_workload_namespace, destination_workload) (rate(istio_requests_total{reporter="destination"}[5m]))`,
            legend: "{{destination_workload_namespace}}/{{destination_workload}}",
          },
        ],
      },
    ],
  },
];

/** Grafana dashboard JSON (schema 39): a time-series panel per Panel, two per row. */
export function dashboardJson(d: Dashboard): Record<string, unknown> {
  return {
    uid: d.uid,
    title: d.title,
    schemaVersion: 39,
    editable: false,
    time: { from: "now-6h", to: "now" },
    tags: ["inference-platform"],
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus" }] },
    panels: d.panels.map((p, i) => ({
      id: i + 1,
      type: "timeseries",
      title: p.title,
      datasource: { type: "prometheus", uid: "${datasource}" },
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.exprs.map((e, j) => ({
        refId: String.fromCharCode(65 + j),
        expr: e.expr,
        legendFormat: e.legend,
      })),
    })),
  };
}

export function dashboardConfigMaps(namespace: string): K8sObject[] {
  return DASHBOARDS.map((d) =>
    coreObject("v1/ConfigMap", {
      metadata: {
        name: `dashboard-${d.uid}`,
        namespace,
        labels: { ...PART_OF, grafana_dashboard: "1" },
      },
      data: { [`${d.uid}.json`]: JSON.stringify(dashboardJson(d)) },
    }),
  );
}
