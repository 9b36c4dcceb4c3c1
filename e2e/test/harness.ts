/**
 * What the e2e's own tests share: a test control plane with the real controllers the charts run
 * (started as their releases install), and a plan deployed onto it the way `npm run e2e` deploys.
 */
import * as path from "node:path";
import { buildTool } from "../build";
import { clusterUp, SERVICE_IP, type ClusterState, type FakeNode } from "../cluster";
import { HELD_PODS, LocalControllers } from "../controllers";
import { deployPlan, type DeployReport } from "../deploy";
import { Kube } from "../kube";
import { clusterPki } from "../pki";
import { CONTROLLERS_DIR } from "../processes";
import { kubernetesVersion } from "../run";
import type { Plan } from "../../tools/planRunner";

export interface ControlledCluster {
  readonly state: ClusterState;
  readonly kube: Kube;
  readonly controllers: LocalControllers;
}

/** A cluster of `nodes` whose chart controllers will run locally (extra env per controller process). */
export async function clusterWithControllers(
  name: string,
  nodes: readonly FakeNode[],
  controllerEnv: Readonly<Record<string, Record<string, string>>> = {},
): Promise<ControlledCluster> {
  const state = await clusterUp(name, nodes, undefined, HELD_PODS);
  const controllers = new LocalControllers(
    path.join(state.dir, CONTROLLERS_DIR),
    clusterPki(state.pkiDir, SERVICE_IP),
    state.server,
    undefined,
    controllerEnv,
  );
  return { state, kube: new Kube(state.kubeconfig), controllers };
}

/** Deploys a plan with the cluster's controllers, waiting at most 3 minutes per release. */
export function deployWithControllers(cluster: ControlledCluster, plan: Plan): Promise<DeployReport> {
  return deployPlan(cluster.kube, plan, {
    helm: buildTool("helm").bin["helm"]!,
    kubeVersion: kubernetesVersion(),
    backends: cluster.controllers,
    maxWaitSeconds: 180,
  });
}
