#!/usr/bin/env node
// Runs a TypeScript entry point under Node >= 22 (the Pulumi SDK's floor), even when the
// machine's own node is older: then it re-executes itself through `npx -p node@22`, which
// fetches Node 22 from the npm registry. Written in plain CommonJS so Node 18/20 can run it.
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node tools/node22.cjs <entry.ts> [args...]");
  process.exit(2);
}
const major = Number(process.versions.node.split(".")[0]);
const root = path.resolve(__dirname, "..");
const nodeArgs = ["--import", "tsx", path.resolve(root, entry), ...args];
const result =
  major >= 22
    ? spawnSync(process.execPath, nodeArgs, { stdio: "inherit", cwd: process.cwd() })
    : spawnSync("npx", ["-y", "-p", "node@22", "--", "node", ...nodeArgs], {
        stdio: "inherit",
        cwd: process.cwd(),
      });
if (result.error) {
  console.error(`failed to start node: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status === null ? 1 : result.status);
