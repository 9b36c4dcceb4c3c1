/** `npm run e2e:test`: the e2e's own tests on a real control plane (mocha over e2e/test/*.test.ts). */
import * as fs from "node:fs";
import * as path from "node:path";
import Mocha from "mocha";

const mocha = new Mocha({ timeout: 20 * 60_000, reporter: "spec" });
for (const file of fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith(".test.ts"))
  .sort())
  mocha.addFile(path.join(__dirname, file));
mocha.run((failures) => process.exit(failures > 0 ? 1 : 0));
