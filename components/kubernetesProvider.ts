/**
 * The single Kubernetes provider for everything in the cluster. Its kubeconfig is built from the
 * cluster identity only (models/cluster/kubeconfig.ts); `ignoreChanges` on it keeps a re-rendered but
 * equivalent kubeconfig (e.g. an unknown value during preview) from replacing every Kubernetes resource.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

export function eksProvider(
  name: string,
  kubeconfig: pulumi.Input<string>,
  pluginVersion?: string,
): k8s.Provider {
  return new k8s.Provider(
    name,
    { kubeconfig, enableServerSideApply: true, deleteUnreachable: false },
    { ignoreChanges: ["kubeconfig"], ...(pluginVersion ? { version: pluginVersion } : {}) },
  );
}

/** Existing-cluster mode: the user's kubeconfig (a secret) or a context of the default kubeconfig. */
export function existingClusterProvider(
  name: string,
  args: { kubeconfig?: pulumi.Input<string>; context?: string },
  pluginVersion?: string,
): k8s.Provider {
  return new k8s.Provider(
    name,
    {
      ...(args.kubeconfig ? { kubeconfig: args.kubeconfig } : {}),
      ...(args.context ? { context: args.context } : {}),
      enableServerSideApply: true,
    },
    pluginVersion ? { version: pluginVersion } : {},
  );
}
