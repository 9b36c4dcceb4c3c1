/**
 * Installs one add-on spec: its Helm release (atomic, awaited) and the custom resources it owns.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AddonSpec } from "../models/addons";
import { registerObject, registerPatch, objectResourceName } from "./k8sObject";
import { releaseChart, type DeployEnvironment } from "../config/deployEnvironment";

export interface HelmAddonArgs {
  readonly spec: AddonSpec;
  readonly provider: k8s.Provider;
  /** Releases of the add-ons this one depends on (from spec.dependsOn). */
  readonly dependsOn: pulumi.Resource[];
  /** Protect the release (prod: deleting a CRD-owning release deletes every custom resource). */
  readonly protect: boolean;
  /** Where charts come from (their repositories, unless a local chart directory is set). */
  readonly deploy: DeployEnvironment;
}

export class HelmAddon extends pulumi.ComponentResource {
  static readonly TYPE = "inference-platform:addons:HelmAddon";
  readonly release: k8s.helm.v3.Release;
  /** The release plus its objects: what dependents wait on. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: HelmAddonArgs, opts?: pulumi.ComponentResourceOptions) {
    super(HelmAddon.TYPE, name, {}, opts);
    const { spec } = args;
    const pre: pulumi.Resource[] = (spec.preObjects ?? []).map((o) =>
      registerObject(`${name}-${objectResourceName(o)}`, o, {
        parent: this,
        provider: args.provider,
        dependsOn: args.dependsOn,
      }),
    );
    // Upstream manifests no chart ships (Gateway API's CRDs), by release URL, before the release.
    for (const m of spec.manifests ?? [])
      pre.push(
        new k8s.yaml.v2.ConfigFile(
          `${name}-${m.name}`,
          { file: m.url },
          // CRDs: in prod, deleting them would delete every object of their kinds.
          {
            parent: this,
            provider: args.provider,
            dependsOn: args.dependsOn,
            protect: args.protect,
            retainOnDelete: args.protect,
          },
        ),
      );
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: spec.name,
        namespace: spec.namespace,
        createNamespace: true,
        ...releaseChart(spec.chart, args.deploy),
        version: spec.chart.version,
        values: spec.values,
        // Wait for workloads (webhooks!) to be ready; roll back a failed install instead of leaving it half-done.
        skipAwait: false,
        atomic: true,
        cleanupOnFail: true,
        timeout: spec.timeoutSeconds,
        skipCrds: spec.skipCrds ?? false,
      },
      {
        parent: this,
        provider: args.provider,
        dependsOn: [...args.dependsOn, ...pre],
        protect: args.protect && spec.ownsCrds,
        retainOnDelete: spec.ownsCrds && args.protect,
      },
    );
    const objects = (spec.objects ?? []).map((o) =>
      registerObject(`${name}-${objectResourceName(o)}`, o, {
        parent: this,
        provider: args.provider,
        // Its own release and what that release needed (a custom resource's CRD may come from either).
        dependsOn: [this.release, ...args.dependsOn],
      }),
    );
    const patches = (spec.patches ?? []).map((o) =>
      registerPatch(`${name}-${objectResourceName(o)}-patch`, o, {
        parent: this,
        provider: args.provider,
        dependsOn: [this.release],
      }),
    );
    this.ready = [this.release, ...objects, ...patches];
    this.registerOutputs({ release: this.release.status });
  }
}
