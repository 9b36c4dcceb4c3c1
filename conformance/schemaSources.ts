/**
 * Whether the upstream schemas the conformance checks read are here (../shared, or the cache `npm run
 * crds` fills), and getting them when they are not: a fresh clone outside this workspace has no
 * ../shared, and the plan then downloads them from their pinned upstream URLs if the network allows,
 * or says plainly what it could not check and how to provide it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, CRD_FILES } from "../models/versions";
import { cacheDir, findChartDir, findCrdFile } from "./crdFiles";
import { sharedDir } from "./sharedDir";

export interface SchemaInventory {
  readonly missingCrds: string[];
  readonly missingCharts: string[];
}

export function schemaInventory(): SchemaInventory {
  return {
    missingCrds: Object.entries(CRD_FILES)
      .filter(([, file]) => !findCrdFile(file))
      .map(([kind]) => kind),
    missingCharts: Object.values(CHARTS)
      .filter((c) => !findChartDir(c.defaultsDir))
      .map((c) => c.defaultsDir),
  };
}

export const isComplete = (i: SchemaInventory) => i.missingCrds.length === 0 && i.missingCharts.length === 0;

/** One line on how to provide the schemas, naming where they were looked for. */
export function howToProvideSchemas(): string {
  const shared = sharedDir();
  return `upstream schemas are read from ${shared}${fs.existsSync(shared) ? "" : " (missing)"} (INFERENCE_PLATFORM_SHARED) and ${path.join(cacheDir(), "crds")} / ${path.join(cacheDir(), "charts")}, which \`npm run crds\` fills from the pinned upstream URLs`;
}
