/**
 * A kubeconfig built only from the cluster's identity (name, endpoint, CA) with `aws eks get-token`
 * for credentials. Its text changes only when the cluster itself changes, so the Kubernetes provider
 * is not replaced by unrelated edits (pulumi-eks#764, pulumi-kubernetes#4019).
 */
export function eksKubeconfig(args: {
  clusterName: string;
  endpoint: string;
  certificateAuthority: string;
  region: string;
}): string {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: args.clusterName,
        cluster: { server: args.endpoint, "certificate-authority-data": args.certificateAuthority },
      },
    ],
    contexts: [{ name: args.clusterName, context: { cluster: args.clusterName, user: args.clusterName } }],
    "current-context": args.clusterName,
    users: [
      {
        name: args.clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              args.clusterName,
              "--region",
              args.region,
              "--output",
              "json",
            ],
            interactiveMode: "Never",
          },
        },
      },
    ],
  };
  return JSON.stringify(config);
}
