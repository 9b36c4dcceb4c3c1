/**
 * Every command-line tool behaves like a good CLI: --help and `help` show usage (exit 0); unknown
 * options, stray arguments, misspelt commands and unknown stacks are one-line errors with a suggestion
 * (exit 2), never a stack trace; a mutating command never falls back to a default stack.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

function run(tool: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, tool), ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Case {
  readonly tool: string;
  readonly args: string[];
  readonly code: number;
  readonly out?: RegExp;
  readonly err?: RegExp;
}

const CASES: Case[] = [
  { tool: "tools/plan.ts", args: ["--help"], code: 0, out: /Usage:\n {2}npm run plan -- \[--stack <name>\]/ },
  { tool: "tools/plan.ts", args: ["help"], code: 0, out: /Options:/ },
  {
    tool: "tools/plan.ts",
    args: ["--stak", "dev"],
    code: 2,
    err: /unknown option --stak; did you mean --stack\?/,
  },
  {
    tool: "tools/plan.ts",
    args: ["--stack", "devv"],
    code: 2,
    err: /no stack "devv" \(no Pulumi\.devv\.yaml\); did you mean dev\? \(stacks: dev, local, prod\)/,
  },
  {
    tool: "tools/plan.ts",
    args: ["prod"],
    code: 2,
    err: /unexpected argument "prod" \(a stack name\? pass it as --stack prod/,
  },
  { tool: "tools/rollout.ts", args: ["--help"], code: 0, out: /start <model> --storage-uri <uri>/ },
  {
    tool: "tools/rollout.ts",
    args: ["sett", "m", "5", "--stack", "dev"],
    code: 2,
    err: /unknown command "sett"; did you mean set\?/,
  },
  // npm swallowed --stack (npm run rollout set m 50 prod): the stack arrives as a stray argument.
  {
    tool: "tools/rollout.ts",
    args: ["set", "llama-31-8b", "50", "prod"],
    code: 2,
    err: /unexpected argument "prod" \(a stack name\? pass it as --stack prod; with npm, put options after --\)/,
  },
  {
    tool: "tools/rollout.ts",
    args: ["set", "llama-31-8b", "50"],
    code: 2,
    err: /--stack is required \(stacks: dev, local, prod\)/,
  },
  { tool: "tools/rollout.ts", args: ["status", "--stack", "staging"], code: 2, err: /no stack "staging"/ },
  {
    tool: "tools/rollout.ts",
    args: ["check", "llama-31-8b", "--stack", "dev"],
    code: 2,
    err: /check needs --prometheus <url>/,
  },
  {
    tool: "tools/rollout.ts",
    args: ["set", "nope", "50", "--stack", "dev"],
    code: 1,
    err: /no model "nope" in stack dev \(models: llama-31-8b, resnet50, iris\)/,
  },
  {
    tool: "tools/rollout.ts",
    args: ["start", "llama-31-8b", "--stack", "dev"],
    code: 2,
    err: /start needs --storage-uri/,
  },
  { tool: "tools/crds.ts", args: ["--proxy", "x"], code: 2, err: /unknown option --proxy/ },
  {
    tool: "tools/bench.ts",
    args: ["ten"],
    code: 2,
    err: /model counts are positive whole numbers \(got "ten"\)/,
  },
  { tool: "e2e/run.ts", args: [], code: 2, err: /name a stack with --stack <name>, or --all/ },
  { tool: "e2e/run.ts", args: ["--stack", "qa"], code: 2, err: /no stack "qa"/ },
  {
    tool: "e2e/clusterCli.ts",
    args: ["upp", "--stack", "dev"],
    code: 2,
    err: /unknown command "upp"; did you mean up\?/,
  },
  { tool: "e2e/clusterCli.ts", args: ["status"], code: 2, err: /--stack is required/ },
];

describe("command-line tools", function () {
  this.timeout(120_000);
  const results = new Map<Case, Awaited<ReturnType<typeof run>>>();
  before(async () => {
    // All at once: each is a fresh Node process.
    const all = await Promise.all(CASES.map((c) => run(c.tool, c.args)));
    CASES.forEach((c, i) => results.set(c, all[i]!));
  });

  for (const c of CASES)
    it(`${path.basename(c.tool)} ${c.args.join(" ") || "(no arguments)"} → exit ${c.code}`, () => {
      const r = results.get(c)!;
      assert.equal(r.code, c.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      if (c.out) assert.match(r.stdout, c.out);
      if (c.err) assert.match(r.stderr, c.err);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, "no stack trace");
      if (c.code !== 0)
        assert.ok(r.stderr.trim().split("\n").length <= 2, `one line (and the --help hint): ${r.stderr}`);
    });
});
