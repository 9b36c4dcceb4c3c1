/**
 * Availability of prod's serving, scaling and alerting path: no add-on workload on it runs a single
 * replica. Checked on the values that set the replicas (HA_VALUE_PATHS) and on KServe's controller patch;
 * the e2e checks the same workloads as the charts render them, with their disruption budgets.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { stackEnvironment } from "./environment";
import { HA_REPLICAS, HA_VALUE_PATHS, KSERVE_CONTROLLER } from "../../models/addons/highAvailability";
import { OUTAGE_ON_NODE_LOSS_ANNOTATION } from "../../models/serving/inferenceService";
import { annotations, K8S, llmdRoles, nameOf, predictorOf } from "./k8s";

type Props = Record<string, unknown>;

const valueAt = (values: Props, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((node, key) => (node as Props | undefined)?.[key], values);

export const prodNoSinglePointOfFailure: StackValidationPolicy = {
  name: "prod-no-single-point-of-failure",
  description: `In prod, every add-on workload on the serving, scaling and alerting path runs at least ${HA_REPLICAS} replicas.`,
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    if (stackEnvironment(args.resources) !== "prod") return;
    const releases = args.resources.filter((r) => r.type === K8S.helmRelease);
    for (const r of releases) {
      const release = String(r.props.name);
      for (const dotted of HA_VALUE_PATHS[release] ?? []) {
        const v = valueAt((r.props.values ?? {}) as Props, dotted);
        if (typeof v !== "number" || v < HA_REPLICAS)
          report(
            `release ${release}: ${dotted} is ${v === undefined ? "unset (the chart's 1)" : JSON.stringify(v)}; prod needs at least ${HA_REPLICAS}`,
          );
      }
    }
    if (releases.some((r) => r.props.name === "kserve-resources")) {
      const patched = args.resources.some(
        (r) =>
          r.type === "kubernetes:apps/v1:DeploymentPatch" &&
          (r.props.metadata as Props | undefined)?.name === KSERVE_CONTROLLER.name &&
          Number((r.props.spec as Props | undefined)?.replicas ?? 0) >= HA_REPLICAS,
      );
      if (!patched)
        report(
          `KServe's ${KSERVE_CONTROLLER.name} runs one replica (its chart has no value for it): its pod-mutator webhook fails closed, so while it is down no model pod starts`,
        );
    }
  },
};

export const prodModelsSurviveNodeLoss: StackValidationPolicy = {
  name: "prod-models-survive-node-loss",
  description:
    "In prod, every model keeps at least 2 replicas, or its single-replica outage is accepted in config (autoscaling.outageOnNodeLoss).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    if (stackEnvironment(args.resources) !== "prod") return;
    // The acceptance sits on the model's ServiceAccount (not copied into pods, unlike isvc annotations).
    const accepted = new Set(
      args.resources
        .filter((x) => x.type === K8S.serviceAccount && annotations(x.props)[OUTAGE_ON_NODE_LOSS_ANNOTATION])
        .map((x) => {
          const m = (x.props.metadata ?? {}) as Props;
          return `${String(m.namespace)}/${String(m.name)}`;
        }),
    );
    for (const r of args.resources.filter((x) => x.type === K8S.isvc)) {
      const predictor = (predictorOf(r.props) ?? {}) as Props;
      const ns = String(((r.props.metadata ?? {}) as Props).namespace);
      if (predictor.minReplicas === 1 && !accepted.has(`${ns}/${String(predictor.serviceAccountName)}`))
        report(
          `${nameOf(r.props)}: one replica, so a node loss stops it; run 2 or accept it (autoscaling.outageOnNodeLoss)`,
        );
    }
    // llm-d: decode (spec.replicas) and prefill pods each stop the model when their only pod's node goes.
    for (const r of args.resources.filter((x) => x.type === K8S.llmisvc)) {
      const roles = llmdRoles(r.props);
      const ns = String(((r.props.metadata ?? {}) as Props).namespace);
      if (accepted.has(`${ns}/${String(roles[0].template?.serviceAccountName)}`)) continue;
      // A group's worker pods fall with their leader's replica: the decode count says how many groups.
      for (const { role, minReplicas } of roles.filter((x) => x.role !== "worker"))
        if (minReplicas === 1)
          report(
            `${nameOf(r.props)}: one ${role} replica, so a node loss stops it; run 2 or accept it (autoscaling.outageOnNodeLoss)`,
          );
    }
  },
};

export const AVAILABILITY_POLICIES: StackValidationPolicy[] = [
  prodNoSinglePointOfFailure,
  prodModelsSurviveNodeLoss,
];
