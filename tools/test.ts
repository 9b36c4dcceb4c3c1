/**
 * `npm test`: type check, then the mocha suite (TypeScript through tsx, loaded by tools/node22.cjs).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as fs from "node:fs";
import Mocha from "mocha";
import { howToProvideSchemas, isComplete, schemaInventory } from "../conformance/schemaSources";
import { fillGoModuleChartDefaults } from "../conformance/goModuleCharts";

const root = path.resolve(__dirname, "..");
// The suite checks plans against the upstream CRDs and charts: without them it would fail by the dozen.
// Charts that ship inside a Go module (LeaderWorkerSet) come from the Go module proxy, not ../shared.
fillGoModuleChartDefaults();
const inventory = schemaInventory();
if (!isComplete(inventory)) {
  console.error(
    `npm test needs the upstream schemas: ${inventory.missingCrds.length} CRD(s) and ${inventory.missingCharts.length} chart default(s) are missing (e.g. ${[...inventory.missingCrds, ...inventory.missingCharts][0]}); ${howToProvideSchemas()}.`,
  );
  process.exit(1);
}
// The project, and the policy pack on its own (as `pulumi preview --policy-pack policy` compiles it),
// type-checked while mocha runs (incremental: the build info lives in node_modules/.cache).
const typechecks = ["tsconfig.json", "policy/tsconfig.json"].map(
  (project) =>
    new Promise<number>((resolve) => {
      const info = path.join(
        root,
        "node_modules",
        ".cache",
        "tsc",
        `${project.replace(/\W/g, "_")}.tsbuildinfo`,
      );
      const tsc = spawn(
        process.execPath,
        [
          require.resolve("typescript/bin/tsc"),
          "--noEmit",
          "--incremental",
          "--tsBuildInfoFile",
          info,
          "-p",
          path.join(root, project),
        ],
        { stdio: "inherit" },
      );
      tsc.on("close", (code) => {
        if (code !== 0) console.error(`type check failed: ${project}`);
        resolve(code ?? 1);
      });
    }),
);
const mocha = new Mocha({ timeout: 60_000, reporter: "spec" });
const grep = process.argv.slice(2);
for (const file of fs
  .readdirSync(path.join(root, "test"))
  .filter((f) => f.endsWith(".test.ts"))
  .sort()) {
  if (grep.length === 0 || grep.some((g) => file.includes(g))) mocha.addFile(path.join(root, "test", file));
}
mocha.run(async (failures) => {
  const typeErrors = (await Promise.all(typechecks)).filter((c) => c !== 0).length;
  process.exit(failures > 0 || typeErrors > 0 ? 1 : 0);
});
