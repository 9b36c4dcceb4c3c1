/**
 * Reordering a list in stack config must not rename or re-create anything: every resource name and
 * every input that forces a replacement derives from a stable key (model name, pool name, zone,
 * principal), never from a position in a list. Reordering is a harmless edit users make (sorting a
 * list, inserting an entry at the top); a name from an index would replace a subnet or an access entry.
 */
import * as assert from "node:assert/strict";
import { planStack } from "../tools/planRunner";
import { readStackFile } from "../tools/stackFile";
import type { RecordedResource } from "../tools/mockRuntime";
import { ROOT } from "./helpers";

type Json = Record<string, unknown>;

/** Inputs with lists of plain values sorted: the same set in another order is the same input. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    return items.every((v) => typeof v !== "object" || v === null)
      ? [...items].sort((a, b) => String(a).localeCompare(String(b)))
      : items;
  }
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.keys(value as Json)
        .sort()
        .map((k) => [k, canonical((value as Json)[k])]),
    );
  return value;
}

function byUrn(resources: readonly RecordedResource[]): Map<string, RecordedResource> {
  return new Map(resources.map((r) => [r.urn, r]));
}

/** Plans prod with its config edited by `edit` (on the parsed YAML values). */
async function planProd(edit: (config: Record<string, unknown>) => void): Promise<RecordedResource[]> {
  const file = readStackFile(ROOT, "prod");
  const parsed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(file.config)) {
    try {
      parsed[k] = JSON.parse(v);
    } catch {
      parsed[k] = v;
    }
  }
  edit(parsed);
  const config = Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return (await planStack("prod", { config, secretKeys: file.secretKeys })).resources;
}

const ADMINS = [
  "arn:aws:iam::210987654321:role/platform-admins",
  "arn:aws:iam::210987654321:role/sre-oncall",
];
const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"];

function withLists(order: "as-written" | "reordered") {
  const flip = <T>(list: T[]): T[] => (order === "reordered" ? [...list].reverse() : list);
  return (config: Record<string, unknown>) => {
    const cluster = config["inference-platform:cluster"] as Json;
    cluster.adminRoleArns = flip(ADMINS);
    const endpoint = cluster.endpoint as Json;
    endpoint.publicAccessCidrs = flip(endpoint.publicAccessCidrs as string[]);
    const network = config["inference-platform:network"] as Json;
    network.availabilityZones = order === "reordered" ? [ZONES[2], ZONES[0], ZONES[1]] : ZONES;
    config["inference-platform:gpuPools"] = flip(config["inference-platform:gpuPools"] as Json[]);
    config["inference-platform:models"] = flip(config["inference-platform:models"] as Json[]);
  };
}

describe("resource names survive reordering config lists", function () {
  this.timeout(120_000);

  it("plans prod with models, pools, zones, admins and CIDRs reordered to the same resources and inputs", async () => {
    const a = byUrn(await planProd(withLists("as-written")));
    const b = byUrn(await planProd(withLists("reordered")));
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), "the same resources, by name");
    const changed = [...a.keys()].filter(
      (urn) =>
        JSON.stringify(canonical(a.get(urn)!.inputs)) !== JSON.stringify(canonical(b.get(urn)!.inputs)),
    );
    assert.deepEqual(changed, [], "no resource's inputs change");
  });
});
