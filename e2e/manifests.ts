/**
 * Upstream manifests the plan installs by release URL (Pulumi yaml/v2 ConfigFile, models/addons
 * ManifestPin): the e2e has no internet, so it reads the same documents from ../shared/crds-extra, and
 * refuses a URL it has no local copy of, or a copy of another version.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { sharedDir } from "../conformance/sharedDir";
import { GATEWAY_API } from "../models/versions";
import type { KubeObject } from "./kube";

/** Every manifest the platform pins by URL. */
const PINNED = [GATEWAY_API];

/** The documents of a pinned manifest URL, from its local copy. */
export function localManifest(url: string): KubeObject[] {
  const pin = PINNED.find((p) => p.url === url);
  if (!pin) throw new Error(`no local copy of ${url} (known: ${PINNED.map((p) => p.url).join(", ")})`);
  const docs: KubeObject[] = [];
  for (const dir of pin.crdsExtraDirs) {
    const folder = path.join(sharedDir(), "crds-extra", dir);
    for (const file of fs
      .readdirSync(folder)
      .filter((f) => f.endsWith(".yaml"))
      .sort())
      for (const doc of parseAllDocuments(fs.readFileSync(path.join(folder, file), "utf8"))) {
        const obj = doc.toJS() as KubeObject | null;
        if (!obj?.kind) continue;
        const version = obj.metadata.annotations?.["gateway.networking.k8s.io/bundle-version"];
        if (version !== undefined && version !== pin.version)
          throw new Error(`${path.join(dir, file)} is bundle ${version}, not ${pin.version} as ${url}`);
        docs.push(obj);
      }
  }
  return docs;
}
