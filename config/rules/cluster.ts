/**
 * Cluster rules: environment vs cluster mode, the API endpoint, the system node group and the network.
 */
import type { PlatformInput } from "../schema";
import type { Problem } from "../problems";
import { amiTypeFor } from "../../models/cluster/nodePools";
import { networkProblems, stackZones } from "../../models/cluster/network";
import { EKS_MANAGED_ADDONS } from "../../models/cluster/addonConfig";
import { suggestion } from "../suggest";

const WORLD = "0.0.0.0/0";

/** Where and how the cluster runs. */
export function clusterProblems(cfg: PlatformInput): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const env = cfg.environment;
  if (env === "local" && cfg.cluster.mode !== "existing")
    add(
      "cluster.mode",
      `the local stack runs on an existing cluster (kind, minikube, k3d); set cluster.mode: existing`,
    );
  if (cfg.cluster.mode === "existing") {
    if (!cfg.cluster.context && !cfg.secretNames.includes("kubeconfig")) {
      add(
        "cluster.context",
        `existing-cluster mode needs a kubeconfig context (cluster.context) or a secure kubeconfig (secrets.kubeconfig)`,
      );
    }
  } else {
    const ep = cfg.cluster.endpoint;
    if (!ep.privateAccess && !ep.publicAccess)
      add(
        "cluster.endpoint",
        "at least one of privateAccess and publicAccess must be true, or nobody can reach the API server",
      );
    if (ep.publicAccess) {
      ep.publicAccessCidrs.forEach((c, i) => {
        if (c === WORLD && env === "prod")
          add(
            `cluster.endpoint.publicAccessCidrs[${i}]`,
            `prod refuses a world-open API endpoint (${WORLD}); list your office/VPN CIDRs or set publicAccess: false`,
          );
      });
      if (ep.publicAccessCidrs.length === 0 && env === "prod")
        add(
          "cluster.endpoint.publicAccessCidrs",
          `prod needs the CIDRs allowed to reach the public endpoint (an empty list means ${WORLD}); or set publicAccess: false`,
        );
    }
    const sys = cfg.cluster.systemNodeGroup;
    if (sys.minSize > sys.maxSize)
      add("cluster.systemNodeGroup.minSize", `minSize (${sys.minSize}) exceeds maxSize (${sys.maxSize})`);
    if (sys.desiredSize !== undefined && (sys.desiredSize < sys.minSize || sys.desiredSize > sys.maxSize))
      add(
        "cluster.systemNodeGroup.desiredSize",
        `desiredSize (${sys.desiredSize}) must lie within [minSize, maxSize] = [${sys.minSize}, ${sys.maxSize}]`,
      );
    sys.instanceTypes.forEach((t, i) => {
      const ami = amiTypeFor("al2023", t, false);
      if (ami.error) add(`cluster.systemNodeGroup.instanceTypes[${i}]`, ami.error);
    });
  }
  if (cfg.network.availabilityZones) {
    const zones = cfg.network.availabilityZones;
    zones.forEach((z, i) => {
      if (!z.startsWith(cfg.region))
        add(`network.availabilityZones[${i}]`, `${z} is not in region ${cfg.region}`);
    });
    if (cfg.cluster.mode === "eks" && zones.length < 2)
      add("network.availabilityZones", "EKS needs subnets in at least 2 availability zones");
  }
  if (cfg.cluster.mode === "eks")
    for (const p of networkProblems({
      cidr: cfg.network.cidr,
      zones: stackZones(cfg),
      explicitZones: !!cfg.network.availabilityZones,
    }))
      add(p.path, p.message);

  return problems;
}

/**
 * Prod on EKS: managed add-ons not pinned follow EKS's default for the Kubernetes version, which AWS
 * moves, so a `pulumi up` may upgrade them. A warning, not an error: there is no pinned default to offer.
 */
export function unpinnedAddonWarnings(cfg: PlatformInput): Problem[] {
  if (cfg.environment !== "prod" || cfg.cluster.mode !== "eks") return [];
  const unpinned = EKS_MANAGED_ADDONS.filter((a) => !cfg.cluster.addonVersions[a]);
  return unpinned.length === 0
    ? []
    : [
        {
          path: "cluster.addonVersions",
          message: `${unpinned.join(", ")} follow EKS's default for Kubernetes ${cfg.cluster.kubernetesVersion}, which AWS moves: a pulumi up may upgrade them; pin the versions you validated (aws eks describe-addon-versions)`,
        },
      ];
}

/** Add-on versions only for the EKS add-ons the platform installs. */
export function addonVersionProblems(cfg: PlatformInput): Problem[] {
  const known: readonly string[] = EKS_MANAGED_ADDONS;
  return Object.keys(cfg.cluster.addonVersions)
    .filter((name) => !known.includes(name))
    .map((name) => ({
      path: `cluster.addonVersions.${name}`,
      message: `not an EKS add-on the platform installs (${known.join(", ")})${suggestion(name, known)}`,
    }));
}
