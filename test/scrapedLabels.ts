/**
 * The labels a model server's series really carry in Prometheus, derived from what produces them instead
 * of assumed: the PodMonitor the platform emits (as prometheus-operator v0.93.1 turns it into scrape
 * config: keep the declared port named by `port`, set namespace/pod/container/endpoint/job, then the
 * endpoint's own relabelings — pkg/prometheus/promcfg.go 1569-1663), the ports the Istio sidecar declares
 * (the istiod chart's injection template at the pinned version), and vLLM's `model_name` label (the
 * --served-model-name the predictor passes; without it the model path /mnt/models,
 * kserve huggingfaceserver/__main__.py 233-236 and vllm/config/model.py).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDir } from "../conformance/sharedDir";
import { ISTIO_VERSION } from "../models/versions";
import type { K8sObject } from "../models/k8s";

interface Port {
  readonly containerPort: number;
  readonly name?: string;
}

/** The containerPorts the injected istio-proxy container declares, read from the pinned injection template. */
export function injectedSidecarPorts(): Port[] {
  return proxyPorts(path.join("istiod", ISTIO_VERSION, "files", "injection-template.yaml"));
}

/** The containerPorts of the ingress gateway's istio-proxy container (gateway chart deployment template). */
export function gatewayProxyPorts(): Port[] {
  return proxyPorts(path.join("gateway", ISTIO_VERSION, "templates", "deployment.yaml"));
}

function proxyPorts(chartFile: string): Port[] {
  const file = path.join(sharedDir(), "helm-charts", chartFile);
  const text = fs.readFileSync(file, "utf8");
  const container = text.slice(text.indexOf("- name: istio-proxy"));
  const ports = /\n\s+ports:\n((?:\s+- containerPort: \d+\n(?:\s+[a-z]+: .*\n)*)+)/.exec(container);
  if (!ports) throw new Error(`no istio-proxy ports in ${file}`);
  return [...ports[1]!.matchAll(/- containerPort: (\d+)\n(?:\s+protocol: .*\n)?(?:\s+name: (\S+))?/g)].map(
    (m) => ({
      containerPort: Number(m[1]),
      name: m[2],
    }),
  );
}

interface Relabeling {
  sourceLabels?: string[];
  regex?: string;
  targetLabel?: string;
  replacement?: string;
  action?: string;
}

/**
 * The target labels of one pod under a PodMonitor, or undefined when the PodMonitor selects no target
 * on it (no container declares the port it names — the mistake that makes every query empty).
 */
export function podMonitorTargetLabels(
  podMonitor: K8sObject,
  pod: { namespace: string; name: string; ip: string; containers: Array<{ name: string; ports: Port[] }> },
): Record<string, string> | undefined {
  const endpoint = (podMonitor.spec as { podMetricsEndpoints: Array<Record<string, unknown>> })
    .podMetricsEndpoints[0]!;
  const wanted = endpoint.port as string | undefined;
  const wantedNumber = (endpoint.portNumber ?? endpoint.targetPort) as number | undefined;
  const declared = pod.containers.flatMap((c) => c.ports.map((p) => ({ container: c.name, ...p })));
  const match = declared.find((p) => (wanted ? p.name === wanted : p.containerPort === wantedNumber));
  if (!match) return undefined;
  const meta: Record<string, string> = {
    __meta_kubernetes_pod_ip: pod.ip,
    __address__: `${pod.ip}:${match.containerPort}`,
  };
  const labels: Record<string, string> = {
    namespace: pod.namespace,
    pod: pod.name,
    container: match.container,
    job: `${podMonitor.metadata.namespace}/${podMonitor.metadata.name}`,
    ...(wanted ? { endpoint: wanted } : {}),
  };
  for (const r of (endpoint.relabelings ?? []) as Relabeling[]) {
    if ((r.action ?? "replace") !== "replace" || !r.targetLabel) continue;
    const source = (r.sourceLabels ?? []).map((l) => meta[l] ?? labels[l] ?? "").join(";");
    const m = new RegExp(`^(?:${r.regex ?? "(.*)"})$`).exec(source);
    if (!m) continue;
    const value = (r.replacement ?? "$1").replace(/\$(\d+)/g, (_, i: string) => m[Number(i)] ?? "");
    if (r.targetLabel === "__address__") meta.__address__ = value;
    else labels[r.targetLabel] = value;
  }
  return { ...labels, instance: meta.__address__! };
}

/** vLLM's `model_name` label for a predictor: its --served-model-name, else the model path. */
export function vllmModelNameLabel(isvc: K8sObject): string {
  const args = (isvc.spec as { predictor: { model: { args?: string[] } } }).predictor.model.args ?? [];
  const served = args.find((a) => a.startsWith("--served-model-name="));
  return served ? served.slice("--served-model-name=".length) : "/mnt/models";
}
