/**
 * The single Kubernetes provider for everything in the cluster. Its kubeconfig is built from the
 * cluster identity only (models/cluster/kubeconfig.ts); `ignoreChanges` on it keeps a re-rendered but
 * equivalent kubeconfig (e.g. an unknown value during preview) from replacing every Kubernetes resource.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/**
 * `adopt`: a provider that takes over an object that already exists instead of failing with
 * AlreadyExists (upsertExistingObjects; since provider v4.29.0 creates fail on existing objects). Only for
 * objects with fixed names that Pulumi must own even where something else created them first — the
 * add-on namespaces Helm created before the platform labelled them — never for renameable resources.
 */
export interface ProviderOptions {
  readonly pluginVersion?: string;
  readonly adopt?: boolean;
}

export function eksProvider(
  name: string,
  kubeconfig: pulumi.Input<string>,
  opts: ProviderOptions = {},
): k8s.Provider {
  const pluginVersion = opts.pluginVersion;
  return new k8s.Provider(
    name,
    {
      kubeconfig,
      enableServerSideApply: true,
      deleteUnreachable: false,
      ...(opts.adopt ? { upsertExistingObjects: true } : {}),
    },
    { ignoreChanges: ["kubeconfig"], ...(pluginVersion ? { version: pluginVersion } : {}) },
  );
}

/** Existing-cluster mode: the user's kubeconfig (a secret) or a context of the default kubeconfig. */
export function existingClusterProvider(
  name: string,
  args: { kubeconfig?: pulumi.Input<string>; context?: string },
  opts: ProviderOptions = {},
): k8s.Provider {
  const pluginVersion = opts.pluginVersion;
  return new k8s.Provider(
    name,
    {
      ...(args.kubeconfig ? { kubeconfig: args.kubeconfig } : {}),
      ...(args.context ? { context: args.context } : {}),
      enableServerSideApply: true,
      ...(opts.adopt ? { upsertExistingObjects: true } : {}),
    },
    pluginVersion ? { version: pluginVersion } : {},
  );
}
