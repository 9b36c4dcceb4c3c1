/**
 * Installs the stack's add-ons in dependency order: each release depends on the releases (and owned
 * objects) of the add-ons its spec names.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { addonCatalog, orderAddons, type AddonContext, type AddonName } from "../models/addons";
import { HelmAddon } from "./helmAddon";
import { registerObject, objectResourceName } from "./k8sObject";
import { addonNamespaces } from "../models/addons/podSecurity";
import { storageClassObjects } from "../models/addons/storageClass";
import { efaDevicePluginObjects } from "../models/addons/efaDevicePlugin";
import type { DeployEnvironment } from "../config/deployEnvironment";

export interface PlatformAddonsArgs {
  readonly context: AddonContext;
  readonly provider: k8s.Provider;
  /** For the add-on namespaces: adopts one that Helm created before the platform owned it. */
  readonly namespaceProvider: k8s.Provider;
  readonly protect: boolean;
  readonly deploy: DeployEnvironment;
  /** What every release waits for: nodes to run on (the system node group on EKS). */
  readonly clusterReady?: pulumi.Resource[];
  /** Cloud resources one add-on needs first (e.g. the CA's Pod Identity role). */
  readonly prerequisites?: Partial<Record<AddonName, pulumi.Resource[]>>;
}

export class PlatformAddons extends pulumi.ComponentResource {
  static readonly TYPE = "inference-platform:addons:PlatformAddons";
  readonly installed: ReadonlyMap<AddonName, HelmAddon>;

  constructor(name: string, args: PlatformAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(PlatformAddons.TYPE, name, {}, opts);
    const installed = new Map<AddonName, HelmAddon>();
    const specs = orderAddons(addonCatalog(args.context));
    // Labelled before any release creates them (Helm's createNamespace would leave them unlabelled).
    const namespaces = new Map(
      addonNamespaces(specs, args.context.kubernetesVersion).map((ns) => [
        ns.metadata.name,
        registerObject(objectResourceName(ns), ns, {
          parent: this,
          provider: args.namespaceProvider,
          dependsOn: args.clusterReady ?? [],
          // Deleting a namespace deletes everything in it: protected where a protected release lives
          // (one that owns CRDs); others go with their add-on (a removed GPU pool, Knative no longer used).
          protect: args.protect && specs.some((s) => s.namespace === ns.metadata.name && s.ownsCrds),
        }),
      ]),
    );
    // The platform's own StorageClass, before the releases whose volumes use it.
    const storageClasses = storageClassObjects(args.context).map((sc) =>
      registerObject(objectResourceName(sc), sc, {
        parent: this,
        provider: args.provider,
        dependsOn: args.clusterReady ?? [],
      }),
    );
    // Node-level device plugins that are no chart's: EFA interfaces for multi-node models.
    for (const ds of efaDevicePluginObjects(args.context))
      registerObject(objectResourceName(ds), ds, {
        parent: this,
        provider: args.provider,
        dependsOn: args.clusterReady ?? [],
      });
    for (const spec of specs) {
      const deps = [
        ...storageClasses,
        ...spec.dependsOn.flatMap((d) => installed.get(d)?.ready ?? []),
        ...[namespaces.get(spec.namespace)].filter((n): n is pulumi.CustomResource => !!n),
      ];
      installed.set(
        spec.name,
        new HelmAddon(
          spec.name,
          {
            spec,
            provider: args.provider,
            dependsOn: [...(args.clusterReady ?? []), ...deps, ...(args.prerequisites?.[spec.name] ?? [])],
            protect: args.protect,
            deploy: args.deploy,
          },
          { parent: this },
        ),
      );
    }
    this.installed = installed;
    this.registerOutputs({});
  }

  /** Everything a model deployment must wait for: CRDs and webhooks of the serving stack. */
  servingReady(): pulumi.Resource[] {
    const names: AddonName[] = [
      "kserve-runtime-configs",
      "kserve-resources",
      "istio-ingressgateway",
      "keda",
      "knative-operator",
      "kube-prometheus-stack",
    ];
    return names.flatMap((n) => this.installed.get(n)?.ready ?? []);
  }
}
