#!/usr/bin/env node
// Runs a TypeScript entry point under Node >= 22 (the Pulumi SDK's floor), even when the
// machine's own node is older: then it finds Node 22 through `npx -p node@22` (fetched from the npm
// registry once) and remembers the binary's path, because npx itself costs about a second per run.
// Written in plain CommonJS so Node 18/20 can run it.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node tools/node22.cjs <entry.ts> [args...]");
  process.exit(2);
}
const root = path.resolve(__dirname, "..");
const remembered = path.join(root, "node_modules", ".cache", "inference-platform", "node22-path");

function isNode22(binary) {
  const probe = spawnSync(binary, ["-p", "process.versions.node"], { encoding: "utf8" });
  return probe.status === 0 && Number(probe.stdout.trim().split(".")[0]) >= 22;
}

function node22() {
  if (Number(process.versions.node.split(".")[0]) >= 22) return process.execPath;
  try {
    const binary = fs.readFileSync(remembered, "utf8").trim();
    if (binary && fs.existsSync(binary)) return binary;
  } catch {
    // not remembered yet
  }
  const found = spawnSync("npx", ["-y", "-p", "node@22", "--", "node", "-p", "process.execPath"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const binary = (found.stdout || "").trim();
  if (found.status !== 0 || !binary || !isNode22(binary)) {
    console.error("could not obtain Node >= 22 through `npx -p node@22`; install Node 22 and retry");
    process.exit(1);
  }
  try {
    fs.mkdirSync(path.dirname(remembered), { recursive: true });
    fs.writeFileSync(remembered, `${binary}\n`);
  } catch {
    // read-only checkout: find it again next time
  }
  return binary;
}

// Node's fetch goes through HTTP(S)_PROXY only when asked to (NODE_USE_ENV_PROXY, Node >= 22.21).
const proxied = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].some((k) => process.env[k]);
const result = spawnSync(node22(), ["--import", "tsx", path.resolve(root, entry), ...args], {
  stdio: "inherit",
  cwd: process.cwd(),
  env: proxied ? { ...process.env, NODE_USE_ENV_PROXY: "1" } : process.env,
});
if (result.error) {
  console.error(`failed to start node: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status === null ? 1 : result.status);
