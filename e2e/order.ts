/**
 * The order the plan says things must reach the cluster in, from resources.json: each Kubernetes
 * object and Helm release after everything its dependsOn names. A dependency on a component means
 * every Kubernetes resource under it; cloud resources (IAM roles, node groups) are not in the cluster
 * and are left out. A manifest by URL counts as one cluster resource.
 */
import type { RecordedResource } from "../tools/mockRuntime";

export const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** A manifest by URL (yaml/v2 ConfigFile): a component to Pulumi, whose objects reach the cluster. */
export const MANIFEST_TYPE = "kubernetes:yaml/v2:ConfigFile";

export function isClusterResource(r: RecordedResource): boolean {
  return (r.custom || r.type === MANIFEST_TYPE) && r.type.startsWith("kubernetes:");
}

/** For each cluster resource, the cluster resources it depends on (components expanded). */
export function clusterDependencies(resources: readonly RecordedResource[]): Map<string, string[]> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const children = new Map<string, RecordedResource[]>();
  for (const r of resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const expand = (urn: string, seen: Set<string>): string[] => {
    if (seen.has(urn)) return [];
    seen.add(urn);
    const r = byUrn.get(urn);
    if (!r) return [];
    if (isClusterResource(r)) return [urn];
    if (r.custom) return [];
    return (children.get(urn) ?? []).flatMap((c) => expand(c.urn, seen));
  };
  return new Map(
    resources
      .filter(isClusterResource)
      .map((r) => [r.urn, [...new Set(r.dependsOn.flatMap((d) => expand(d, new Set())))]]),
  );
}

/** Cluster resources in dependency order (ties keep the plan's order). Throws on a cycle. */
export function deployOrder(resources: readonly RecordedResource[]): RecordedResource[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const deps = clusterDependencies(resources);
  const ordered: RecordedResource[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (r: RecordedResource, trail: string[]) => {
    const s = state.get(r.urn);
    if (s === "done") return;
    if (s === "visiting") throw new Error(`dependency cycle: ${[...trail, r.name].join(" → ")}`);
    state.set(r.urn, "visiting");
    for (const d of deps.get(r.urn) ?? []) visit(byUrn.get(d)!, [...trail, r.name]);
    state.set(r.urn, "done");
    ordered.push(r);
  };
  for (const r of resources.filter(isClusterResource)) visit(r, []);
  return ordered;
}
