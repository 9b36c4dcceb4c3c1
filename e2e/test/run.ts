/**
 * `npm run e2e:test [-- <file filter>]`: the e2e's own tests on a real control plane (mocha over
 * e2e/test/*.test.ts; a filter runs only the files whose name contains it, like `npm test -- <filter>`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Mocha from "mocha";

const mocha = new Mocha({ timeout: 30 * 60_000, reporter: "spec" });
const only = process.argv.slice(2);
for (const file of fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith(".test.ts"))
  .sort())
  if (only.length === 0 || only.some((o) => file.includes(o))) mocha.addFile(path.join(__dirname, file));
mocha.run((failures) => process.exit(failures > 0 ? 1 : 0));
