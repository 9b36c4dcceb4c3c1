/**
 * Platform-owned routing for Standard-mode models: an Istio VirtualService on the ingress gateway
 * (header/cookie matches before weighted routes, weights summing to 100, mirroring for shadow) and a
 * DestinationRule per predictor Service (least-request, or consistent hashing for prefix-cache affinity).
 * Knative-mode models use KServe's native canary instead (canaryTrafficPercent on the InferenceService).
 */
import type { K8sObject } from "../k8s";
import { customObject, PART_OF } from "../k8s";
import { candidateName, componentName, type KServeComponent } from "../names";
import type { ResolvedModel } from "./resolve";

export const GATEWAY = "istio-system/inference-gateway";
/** Requests with this header go straight to the candidate, for smoke tests before it gets traffic. */
export const TRACK_HEADER = "x-inference-track";

export interface TrafficSplit {
  readonly stable: number;
  readonly candidate: number;
  /** Percentage of requests mirrored to the candidate (shadow), responses discarded. */
  readonly mirror: number;
  readonly match?: { header?: string; cookie?: string; value: string };
}

/** The split a model's config asks for; weights always sum to 100. */
export function trafficSplit(model: Pick<ResolvedModel, "rollout">): TrafficSplit {
  const r = model.rollout;
  if (!r) return { stable: 100, candidate: 0, mirror: 0 };
  switch (r.mode) {
    case "canary":
      return { stable: 100 - r.percent, candidate: r.percent, mirror: 0 };
    case "ab":
      return { stable: 100, candidate: 0, mirror: 0, match: r.match };
    case "blueGreen":
      return r.active === "candidate"
        ? { stable: 0, candidate: 100, mirror: 0 }
        : { stable: 100, candidate: 0, mirror: 0 };
    case "shadow":
      return { stable: 100, candidate: 0, mirror: r.percent };
  }
}

export interface TrackReplicas {
  /** prefill: an llm-d model's prefill pods, beside its decode pods (the stable track). */
  readonly track: "stable" | "candidate" | "prefill";
  readonly min: number;
  readonly max: number;
}

/**
 * Replicas each version of a model runs: what its GPUs must hold. Standard mode runs one predictor
 * per track; the idle one of a blue/green pair, or a stable without traffic, stays warm at one
 * replica. Knative mode keeps the last rolled-out revision beside the new one during a canary, each
 * with the model's minReplicas (KServe canaryTrafficPercent; Knative minScale per revision).
 */
export function trackReplicas(
  model: Pick<ResolvedModel, "rollout" | "deploymentMode" | "llmd"> & {
    readonly autoscaling: { readonly minReplicas: number; readonly maxReplicas: number };
  },
): TrackReplicas[] {
  const replicas = { min: model.autoscaling.minReplicas, max: model.autoscaling.maxReplicas };
  const prefill = model.llmd?.prefill;
  // llm-d: decode replicas (autoscaled or fixed), and fixed prefill pods of the same layout when split off.
  if (model.llmd)
    return [
      { track: "stable", ...replicas },
      ...(prefill ? [{ track: "prefill" as const, min: prefill.replicas, max: prefill.replicas }] : []),
    ];
  const warm = { min: Math.min(replicas.min, 1), max: replicas.max };
  if (!model.rollout) return [{ track: "stable", ...replicas }];
  if (model.deploymentMode === "Knative")
    return [
      { track: "stable", ...replicas },
      { track: "candidate", ...replicas },
    ];
  const split = trafficSplit(model);
  return [
    { track: "stable", ...(split.stable === 0 ? warm : replicas) },
    {
      track: "candidate",
      ...(split.candidate === 0 && split.mirror === 0 && !split.match ? warm : replicas),
    },
  ];
}

export function serviceHost(
  isvc: string,
  namespace: string,
  component: KServeComponent = "predictor",
): string {
  return `${componentName(isvc, component)}.${namespace}.svc.cluster.local`;
}

/**
 * Where requests for a model enter its InferenceService: the transformer when there is one (it calls
 * the predictor itself), else the predictor — as KServe's own ingress routes (kserve
 * ingress/kube_ingress_reconciler.go, ingress_reconciler.go 499-585).
 */
export function entryComponent(model: Pick<ResolvedModel, "transformer">): KServeComponent {
  return model.transformer ? "transformer" : "predictor";
}

/** The components that serve traffic and need a DestinationRule. */
export function servingComponents(
  model: Pick<ResolvedModel, "transformer" | "explainer">,
): KServeComponent[] {
  return [
    "predictor",
    ...(model.transformer ? (["transformer"] as const) : []),
    ...(model.explainer ? (["explainer"] as const) : []),
  ];
}

/** KServe's explain path (v1 protocol); Knative mode routes it the same way (ingress_reconciler.go). */
const EXPLAIN_PATH = String.raw`^/v1/models/[\w-]+:explain$`;

export function externalHost(model: Pick<ResolvedModel, "name" | "namespace">, domain: string): string {
  return `${model.name}.${model.namespace}.${domain}`;
}

function destination(isvc: string, namespace: string, component: KServeComponent) {
  return { host: serviceHost(isvc, namespace, component), port: { number: 80 } };
}

export function virtualService(model: ResolvedModel, domain: string): K8sObject {
  const split = trafficSplit(model);
  const entry = entryComponent(model);
  const stable = destination(model.name, model.namespace, entry);
  const candidate = model.rollout
    ? destination(candidateName(model.name), model.namespace, entry)
    : undefined;
  const common = {
    // Streaming LLM responses run for minutes; classic models answer in seconds.
    timeout: model.llm ? "600s" : "60s",
    // Retry only failures that happened before a response started (safe for non-idempotent generation).
    retries: { attempts: 2, retryOn: "connect-failure,refused-stream,unavailable,503" },
  };
  const http: Record<string, unknown>[] = [];
  if (model.explainer) {
    // Explanations go to the stable version's explainer (a candidate's explainer is for smoke tests only).
    http.push({
      name: "explain",
      match: [{ uri: { regex: EXPLAIN_PATH } }],
      route: [{ destination: destination(model.name, model.namespace, "explainer"), weight: 100 }],
      ...common,
    });
  }
  if (candidate) {
    http.push({
      name: "candidate-direct",
      match: [{ headers: { [TRACK_HEADER]: { exact: "candidate" } } }],
      route: [{ destination: candidate, weight: 100 }],
      ...common,
    });
    if (split.match) {
      const m = split.match;
      const condition = m.header
        ? { headers: { [m.header.toLowerCase()]: { exact: m.value } } }
        : { headers: { cookie: { regex: `^(.*?;\\s*)?(${m.cookie}=${escapeRegex(m.value)})(;.*)?$` } } };
      http.push({
        name: "ab-candidate",
        match: [condition],
        route: [{ destination: candidate, weight: 100 }],
        ...common,
      });
    }
  }
  const route = candidate
    ? [
        { destination: stable, weight: split.stable },
        { destination: candidate, weight: split.candidate },
      ]
    : [{ destination: stable, weight: 100 }];
  http.push({
    name: "default",
    route,
    ...(candidate && split.mirror > 0
      ? { mirror: candidate, mirrorPercentage: { value: split.mirror } }
      : {}),
    ...common,
  });
  return customObject("networking.istio.io/v1/VirtualService", {
    metadata: {
      name: model.name,
      namespace: model.namespace,
      labels: { ...PART_OF, "inference-platform/model": model.name },
    },
    spec: { hosts: [externalHost(model, domain)], gateways: [GATEWAY], http },
  });
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function destinationRule(
  model: ResolvedModel,
  isvc: string,
  component: KServeComponent = "predictor",
): K8sObject {
  const loadBalancer = model.sessionAffinityHeader
    ? { consistentHash: { httpHeaderName: model.sessionAffinityHeader.toLowerCase() } }
    : { simple: "LEAST_REQUEST" as const };
  return customObject("networking.istio.io/v1/DestinationRule", {
    metadata: {
      name: component === "predictor" ? isvc : componentName(isvc, component),
      namespace: model.namespace,
      labels: { ...PART_OF, "inference-platform/model": model.name },
    },
    spec: {
      host: serviceHost(isvc, model.namespace, component),
      trafficPolicy: {
        loadBalancer,
        tls: { mode: "ISTIO_MUTUAL" },
        // Eject a replica that keeps failing instead of sending it a share of traffic.
        outlierDetection: {
          consecutive5xxErrors: 5,
          interval: "30s",
          baseEjectionTime: "60s",
          maxEjectionPercent: 50,
        },
      },
    },
  });
}
