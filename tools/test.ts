/**
 * `npm test`: type check, then the mocha suite (TypeScript through tsx, loaded by tools/node22.cjs).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import * as fs from "node:fs";
import Mocha from "mocha";

const root = path.resolve(__dirname, "..");
// The project, and the policy pack on its own (as `pulumi preview --policy-pack policy` compiles it).
for (const project of ["tsconfig.json", "policy/tsconfig.json"]) {
  const tsc = spawnSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "--noEmit", "-p", path.join(root, project)],
    { stdio: "inherit" },
  );
  if (tsc.status !== 0) {
    console.error(`type check failed: ${project}`);
    process.exit(1);
  }
}
const mocha = new Mocha({ timeout: 60_000, reporter: "spec" });
const grep = process.argv.slice(2);
for (const file of fs
  .readdirSync(path.join(root, "test"))
  .filter((f) => f.endsWith(".test.ts"))
  .sort()) {
  if (grep.length === 0 || grep.some((g) => file.includes(g))) mocha.addFile(path.join(root, "test", file));
}
mocha.run((failures) => process.exit(failures > 0 ? 1 : 0));
