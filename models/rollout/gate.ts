/**
 * The metric gate of a rollout: candidate against stable over a window, on the Istio sidecars' request
 * counts and latency (every runtime) and, for vLLM, time to first token and time per output token.
 * Like Flagger's analysis, but for two InferenceServices. Pure: queries out, numbers in, a verdict out.
 */
import { candidateName, predictorDeploymentName } from "../names";
import type { ModelInput, RolloutSettings } from "../schema";

export type GateThresholds = RolloutSettings["gate"];

export const GATE_METRICS = [
  "requests",
  "errors",
  "p95LatencySeconds",
  "ttftP95Seconds",
  "tpotP95Seconds",
] as const;
export type GateMetric = (typeof GATE_METRICS)[number];
export type TrackNumbers = Partial<Record<GateMetric, number>>;

export type Verdict = "advance" | "hold" | "rollback";
export const EXIT_CODES: Record<Verdict, number> = { advance: 0, hold: 1, rollback: 2 };

export interface GateDecision {
  readonly verdict: Verdict;
  readonly reasons: string[];
}

/** The queries for one track (its InferenceService's predictor pods, as the PodMonitor labels them). */
export function gateQueries(
  model: Pick<ModelInput, "name" | "namespace" | "runtime">,
  track: "stable" | "candidate",
  window: string,
): Partial<Record<GateMetric, string>> {
  const isvc = track === "stable" ? model.name : candidateName(model.name);
  const pods = `namespace="${model.namespace}",pod=~"${predictorDeploymentName(isvc)}-.*"`;
  const istio = `${pods},reporter="destination"`;
  const queries: Partial<Record<GateMetric, string>> = {
    requests: `sum(increase(istio_requests_total{${istio}}[${window}]))`,
    // No 5xx series at all means no errors, not missing data.
    errors: `sum(increase(istio_requests_total{${istio},response_code=~"5.."}[${window}])) or vector(0)`,
    p95LatencySeconds: `histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${istio}}[${window}]))) / 1000`,
  };
  if (model.runtime === "vllm") {
    const vllm = `${pods},model_name="${model.name}"`;
    queries.ttftP95Seconds = `histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{${vllm}}[${window}])))`;
    queries.tpotP95Seconds = `histogram_quantile(0.95, sum by (le) (rate(vllm:request_time_per_output_token_seconds_bucket{${vllm}}[${window}])))`;
  }
  return queries;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const secs = (x: number) => `${x.toFixed(3)} s`;

export function decide(
  stable: TrackNumbers,
  candidate: TrackNumbers,
  thresholds: GateThresholds,
  llm: boolean,
): GateDecision {
  const hold: string[] = [];
  const rollback: string[] = [];
  const ok: string[] = [];
  for (const [name, t] of [
    ["stable", stable],
    ["candidate", candidate],
  ] as const) {
    const n = t.requests ?? Number.NaN;
    if (!(n >= thresholds.minRequests))
      hold.push(
        `${name} served ${Number.isNaN(n) ? "no" : Math.round(n)} requests in ${thresholds.window}; the gate needs ${thresholds.minRequests}`,
      );
  }
  if (hold.length > 0) return { verdict: "hold", reasons: hold };

  const errorRate = (t: TrackNumbers) => (t.errors ?? 0) / t.requests!;
  const [se, ce] = [errorRate(stable), errorRate(candidate)];
  if (ce > se + thresholds.maxErrorRateIncrease)
    rollback.push(
      `error rate ${pct(ce)} vs stable ${pct(se)} (allowed +${pct(thresholds.maxErrorRateIncrease)})`,
    );
  else ok.push(`error rate ${pct(ce)} vs stable ${pct(se)}`);

  const ratios: Array<[GateMetric, string, number]> = [
    ["p95LatencySeconds", "p95 latency", thresholds.maxLatencyRatio],
  ];
  if (llm)
    ratios.push(
      ["ttftP95Seconds", "p95 time to first token", thresholds.maxTimeToFirstTokenRatio],
      ["tpotP95Seconds", "p95 time per output token", thresholds.maxTimePerOutputTokenRatio],
    );
  for (const [metric, label, max] of ratios) {
    const [s, c] = [stable[metric], candidate[metric]];
    if (s === undefined || c === undefined || !Number.isFinite(s) || !Number.isFinite(c) || s <= 0) {
      hold.push(`${label}: no data for ${s === undefined || !Number.isFinite(s) ? "stable" : "candidate"}`);
      continue;
    }
    const line = `${label} ${secs(c)} vs stable ${secs(s)} (x${(c / s).toFixed(2)}, allowed x${max})`;
    if (c > s * max) rollback.push(line);
    else ok.push(line);
  }
  if (rollback.length > 0) return { verdict: "rollback", reasons: [...rollback, ...ok] };
  if (hold.length > 0) return { verdict: "hold", reasons: [...hold, ...ok] };
  return { verdict: "advance", reasons: ok };
}
