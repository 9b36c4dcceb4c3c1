/**
 * The add-on catalog for a stack, and the order they are installed in. Dependencies are declared on
 * each spec and resolved here once; a missing dependency or a cycle is an error naming both ends.
 */
import { certManager } from "./certManager";
import { clusterAutoscaler } from "./clusterAutoscaler";
import { karpenter, karpenterCrd } from "./karpenter";
import { dcgmExporter, nvidiaDevicePlugin } from "./gpu";
import { istioBase, istioIngressGateway, istiod } from "./istio";
import { keda } from "./keda";
import { knative } from "./knative";
import { kserveCrd, kserveResources, kserveRuntimeConfigs } from "./kserve";
import { kserveLlmisvcCrd, kserveLlmisvcResources } from "./llmd";
import { leaderWorkerSet } from "./lws";
import { monitoring } from "./monitoring";
import { loadBalancerController } from "./loadBalancerController";
import { metricsServer } from "./metricsServer";
import type { Input } from "@pulumi/pulumi";
import type { PlatformConfig } from "../plannedConfig";
import type { ResolvedModel } from "../serving/resolve";
import { isMultiNode } from "../serving/multiNode";
import type { AddonContext, AddonName, AddonSpec, KarpenterNodeInputs } from "./types";

export type { AddonContext, AddonName, AddonSpec, KarpenterNodeInputs } from "./types";
export { ADDON_NAMES } from "./types";

/**
 * What the add-ons need to know about a stack: the cluster, the GPU pools they serve (none on an
 * existing cluster), whether any model runs in Knative mode, and the namespaces that hold models.
 */
export function addonContext(
  cfg: PlatformConfig,
  models: ReadonlyArray<
    Pick<
      ResolvedModel,
      "deploymentMode" | "namespace" | "triggers" | "transformer" | "explainer" | "llmd" | "resolvedGpu"
    >
  >,
  cloud: {
    ampRemoteWriteUrl?: Input<string>;
    vpcId?: Input<string>;
    alertReceiverCredential?: Input<string>;
    karpenterNodes?: KarpenterNodeInputs;
  } = {},
): AddonContext {
  return {
    environment: cfg.environment,
    clusterName: cfg.cluster.name,
    clusterMode: cfg.cluster.mode,
    kubernetesVersion: cfg.cluster.kubernetesVersion,
    region: cfg.region,
    addons: cfg.addons,
    gpuPools: cfg.cluster.mode === "eks" ? cfg.gpuPools : [],
    nodeAutoscaler: cfg.cluster.nodeAutoscaler,
    systemNodeGroup: cfg.cluster.systemNodeGroup,
    karpenterNodes: cloud.karpenterNodes,
    usesKnative: models.some((m) => m.deploymentMode === "Knative"),
    usesLlmd: models.some((m) => m.llmd !== undefined),
    usesMultiNodeLlmd: models.some((m) => m.llmd !== undefined && isMultiNode(m)),
    usesResourceMetrics: models.some(
      (m) =>
        (m.deploymentMode === "Standard" && (m.transformer !== undefined || m.explainer !== undefined)) ||
        m.triggers.some((t) => t.type === "cpu" || t.type === "memory"),
    ),
    vpcId: cloud.vpcId,
    modelNamespaces: [...new Set(models.map((m) => m.namespace))],
    domain: cfg.addons.kserve.domain,
    ampRemoteWriteUrl: cloud.ampRemoteWriteUrl,
    alertReceiverCredential: cloud.alertReceiverCredential,
  };
}

/** Which add-ons a stack installs, from its config. GPU pieces need GPU pools; AWS pieces need EKS. */
export function addonCatalog(ctx: AddonContext): AddonSpec[] {
  const a = ctx.addons;
  const hasGpu = ctx.gpuPools.length > 0;
  const specs: AddonSpec[] = [certManager(ctx), istioBase(), istiod(ctx), istioIngressGateway(ctx)];
  if (ctx.clusterMode === "eks") specs.push(loadBalancerController(ctx));
  if (ctx.usesResourceMetrics) specs.push(metricsServer(ctx));
  const knativeOn = a.knative.enabled === true || (a.knative.enabled === "auto" && ctx.usesKnative);
  if (knativeOn) specs.push(knative(ctx.domain, ctx.kubernetesVersion));
  if (a.monitoring.enabled) specs.push(monitoring(ctx));
  if (a.keda.enabled) specs.push(keda(ctx));
  specs.push(kserveCrd(), kserveResources({ ...ctx, usesKnative: knativeOn }), kserveRuntimeConfigs(ctx));
  if (ctx.usesMultiNodeLlmd) specs.push(leaderWorkerSet(ctx));
  if (ctx.usesLlmd) specs.push(kserveLlmisvcCrd(), kserveLlmisvcResources(ctx));
  if (hasGpu && a.nvidiaDevicePlugin.enabled && ctx.gpuPools.some((p) => p.os === "al2023"))
    specs.push(nvidiaDevicePlugin());
  if (hasGpu && a.dcgmExporter.enabled) specs.push(dcgmExporter(ctx));
  if (ctx.clusterMode === "eks" && ctx.nodeAutoscaler === "cluster-autoscaler")
    specs.push(clusterAutoscaler(ctx));
  if (ctx.clusterMode === "eks" && ctx.nodeAutoscaler === "karpenter")
    specs.push(karpenterCrd(), karpenter(ctx));
  return specs.map((s) => withUserValues(s, a.values[s.name]));
}

/**
 * A release's values with the stack's own (`addons.values.<release>`) merged last, the way Helm merges
 * a second values file: maps key by key, lists and scalars replaced whole. The offline plan checks the
 * result against the chart's values.yaml like the platform's own values; the policies see it too.
 */
export function withUserValues(spec: AddonSpec, user: Record<string, unknown> | undefined): AddonSpec {
  return user ? { ...spec, values: mergeValues(spec.values, user) } : spec;
}

function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(v) && isMap(out[k]) ? mergeValues(out[k], v) : v;
  return out;
}

/** Topological order (stable: ties keep catalog order). Throws on a missing dependency or a cycle. */
export function orderAddons(specs: readonly AddonSpec[]): AddonSpec[] {
  const byName = new Map(specs.map((s) => [s.name, s] as const));
  for (const spec of specs) {
    for (const dep of spec.dependsOn) {
      if (!byName.has(dep)) throw new Error(`Add-on '${spec.name}' needs '${dep}', which is not enabled`);
    }
  }
  const ordered: AddonSpec[] = [];
  const state = new Map<AddonName, "visiting" | "done">();
  const visit = (spec: AddonSpec, path: AddonName[]) => {
    const s = state.get(spec.name);
    if (s === "done") return;
    if (s === "visiting") throw new Error(`Cycle: ${[...path, spec.name].join(" → ")}`);
    state.set(spec.name, "visiting");
    for (const dep of spec.dependsOn) visit(byName.get(dep)!, [...path, spec.name]);
    state.set(spec.name, "done");
    ordered.push(spec);
  };
  for (const spec of specs) visit(spec, []);
  return ordered;
}
