/**
 * Builders' objects are typed from the upstream CRDs: the generated types match what the pinned CRDs
 * generate today, and a misspelt field or a value outside a CRD enum does not compile (each probe below
 * carries @ts-expect-error, so `npm test`'s type check fails the day the compiler stops catching it).
 */
import * as assert from "node:assert/strict";
import { coreObject, customObject } from "../models/k8s";
import { staleCrdTypes } from "../tools/crdTypes";

describe("typed builders", function () {
  this.timeout(60_000);

  it("uses types generated from the pinned CRDs, up to date", async () => {
    assert.deepEqual(await staleCrdTypes(true), [], "run npm run crd-types");
  });

  it("refuses misspelt fields and values outside an enum at compile time", () => {
    const ok = customObject("security.istio.io/v1/PeerAuthentication", {
      metadata: { name: "default" },
      spec: { mtls: { mode: "STRICT" } },
    });
    assert.deepEqual(ok, {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default" },
      spec: { mtls: { mode: "STRICT" } },
    });
    customObject("security.istio.io/v1/PeerAuthentication", {
      metadata: { name: "default" },
      // @ts-expect-error: `mtsl` is not a PeerAuthentication field
      spec: { mtsl: { mode: "STRICT" } },
    });
    customObject("security.istio.io/v1/PeerAuthentication", {
      metadata: { name: "default" },
      // @ts-expect-error: "STRCT" is not one of the CRD's modes
      spec: { mtls: { mode: "STRCT" } },
    });
    customObject("karpenter.sh/v1/NodePool", {
      metadata: { name: "l4" },
      spec: {
        template: {
          spec: {
            nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "l4" },
            requirements: [],
          },
        },
        // @ts-expect-error: consolidationPolicy belongs under disruption, and "Never" is not a policy
        consolidationPolicy: "Never",
      },
    });
    coreObject("v1/ServiceAccount", {
      metadata: { name: "model" },
      // @ts-expect-error: a misspelt core field
      automountServiceAcountToken: false,
    });
  });
});
