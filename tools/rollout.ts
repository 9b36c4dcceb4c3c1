/**
 * `npm run rollout -- <command> [model] --stack <name>`: rolls models out by editing Pulumi.<stack>.yaml
 * (no Pulumi CLI needed), keeping comments and layout; every edit is validated as a whole stack config
 * before the file is written, so a refused command leaves the file untouched.
 *
 *   status                              the traffic split of every model
 *   set <model> <percent>               canary/shadow share of the candidate
 *   step <model>                        the next step of rollout.steps
 *   promote <model> [--force]           candidate becomes stable; rollout removed
 *   abort <model>                       0% to the candidate (blue/green: back to stable)
 *   ab <model> --header <h> | --cookie <c> --value <v>
 *   check <model> --prometheus <url>    metric gate: exit 0 advance, 1 hold, 2 roll back (3: could not check)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CliError, runCli, stackOption, UsageError, type CliSpec, type ParsedCli } from "./cli";
import { readRawConfig, validatePlatformConfig } from "../config/load";
import { ConfigError } from "../config/problems";
import type { PlatformConfig } from "../models/plannedConfig";
import { ROLLOUT_MODES } from "../models/schema";
import { decide, EXIT_CODES, gateQueries, type TrackNumbers } from "../models/rollout/gate";
import { defaultDeploymentMode } from "../models/serving/resolve";
import { applyRolloutCommand, rolloutStatus, type RolloutCommand } from "../models/rollout/schedule";
import { deleteKey, setValue } from "./stackEdit";
import { ROOT } from "./planRunner";
import { parseStackConfig } from "./stackFile";

const MODELS_KEY = "inference-platform:models";

export class RolloutError extends Error {}

function validateText(stack: string, text: string): PlatformConfig {
  const file = parseStackConfig(text);
  const raw = readRawConfig(file.config, (k) => file.secretKeys.includes(k));
  return validatePlatformConfig(stack, raw.raw, raw.problems);
}

/** The stack file after `command`, or a RolloutError saying why it is refused. Pure over the text. */
export function editStack(
  stack: string,
  text: string,
  modelName: string,
  command: RolloutCommand,
): { text: string; summary: string } {
  const before = validateText(stack, text);
  const index = before.models.findIndex((m) => m.name === modelName);
  if (index < 0)
    throw new RolloutError(
      `no model "${modelName}" in stack ${stack} (models: ${before.models.map((m) => m.name).join(", ")})`,
    );
  const model = before.models[index]!;
  const transition = applyRolloutCommand(model, command, before.environment);
  if ("error" in transition) throw new RolloutError(transition.error);
  let next = text;
  for (const edit of transition.edits) {
    const at = ["config", MODELS_KEY, index, ...edit.path];
    next = edit.op === "set" ? setValue(next, at, edit.value) : deleteKey(next, at);
  }
  try {
    validateText(stack, next);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new RolloutError(`refused: the edit would make the stack config invalid.\n${err.message}`);
    throw err;
  }
  return { text: next, summary: transition.summary };
}

export function statusTable(stack: string, text: string): string {
  const cfg = validateText(stack, text);
  const rows = rolloutStatus(cfg.models);
  const width = Math.max(5, ...rows.map((r) => r.model.length));
  return [
    `${"model".padEnd(width)}  mode       stable  candidate  detail`,
    ...rows.map(
      (r) =>
        `${r.model.padEnd(width)}  ${r.mode.padEnd(9)}  ${`${r.stable}%`.padStart(6)}  ${`${r.candidate}%`.padStart(9)}  ${r.detail}`,
    ),
  ].join("\n");
}

async function queryValue(prometheus: string, query: string): Promise<number> {
  const url = `${prometheus.replace(/\/$/, "")}/api/v1/query?${new URLSearchParams({ query })}`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new RolloutError(`cannot reach Prometheus at ${prometheus}: ${cause}`);
  }
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: Array<{ value: [number, string] }> };
  };
  if (body.status !== "success")
    throw new RolloutError(`Prometheus refused ${query}: ${body.error ?? response.status}`);
  const result = body.data?.result ?? [];
  if (result.length > 1) throw new RolloutError(`${query} returned ${result.length} series; expected one`);
  return result.length === 0 ? Number.NaN : Number(result[0]!.value[1]);
}

/** The metric gate: numbers for both tracks, the verdict, and the lines to print. */
export async function checkGate(stack: string, text: string, modelName: string, prometheus: string) {
  const cfg = validateText(stack, text);
  const model = cfg.models.find((m) => m.name === modelName);
  if (!model) throw new RolloutError(`no model "${modelName}" in stack ${stack}`);
  if (!model.rollout) throw new RolloutError(`${modelName} has no rollout in progress`);
  if (defaultDeploymentMode(model) === "Knative")
    throw new RolloutError(
      `${modelName} runs in Knative mode, where KServe splits traffic between revisions; the gate compares the two InferenceServices of Standard mode`,
    );
  const gate = model.rollout.gate;
  const numbers: Record<"stable" | "candidate", TrackNumbers> = { stable: {}, candidate: {} };
  for (const track of ["stable", "candidate"] as const)
    for (const [metric, query] of Object.entries(gateQueries(model, track, gate.window)))
      numbers[track][metric as keyof TrackNumbers] = await queryValue(prometheus, query);
  const decision = decide(numbers.stable, numbers.candidate, gate, model.runtime === "vllm");
  const lines = [
    `${modelName} (${model.rollout.mode}) over ${gate.window}: ${decision.verdict.toUpperCase()}`,
    ...decision.reasons.map((r) => `  ${r}`),
    `  numbers: ${JSON.stringify(numbers)}`,
  ];
  return { decision, numbers, lines, exitCode: EXIT_CODES[decision.verdict] };
}

export const ROLLOUT_CLI: CliSpec = {
  name: "npm run rollout --",
  summary:
    "Roll a model out by editing Pulumi.<stack>.yaml (comments and layout kept; the whole stack config is validated before anything is written).",
  usage: [
    "status --stack <name>",
    "start <model> --storage-uri <uri> [--image <ref>] [--mode canary|shadow|ab|blueGreen] --stack <name>",
    "set <model> <percent> --stack <name>",
    "step <model> --stack <name>",
    "promote <model> [--force] --stack <name>",
    "abort <model> --stack <name>",
    "ab <model> --header <name> | --cookie <name> --value <v> --stack <name>",
    "check <model> --prometheus <url> --stack <name>",
  ],
  commands: {
    status: "the traffic split of every model",
    start: "add a candidate version at 0% (smoke-test it with the x-inference-track: candidate header)",
    set: "the candidate's share (canary) or mirrored share (shadow)",
    step: "the next value of rollout.steps",
    promote:
      "the candidate becomes stable and the rollout is removed (prod: within rollout.maxStep unless --force)",
    abort: "0% to the candidate (blue/green: back to stable)",
    ab: "route a header or cookie value to the candidate",
    check: "metric gate: exit 0 advance, 1 hold, 2 roll back, 3 could not check",
  },
  maxPositionals: 2,
  options: {
    stack: {
      type: "string",
      description: "the stack whose Pulumi.<stack>.yaml to read or edit (required)",
      value: "name",
    },
    "storage-uri": { type: "string", description: "start: the candidate's model location", value: "uri" },
    image: { type: "string", description: "start: the candidate's image", value: "ref" },
    mode: { type: "string", description: "start: canary (default), shadow, ab or blueGreen", value: "mode" },
    header: { type: "string", description: "ab: the request header to match", value: "name" },
    cookie: { type: "string", description: "ab: the cookie to match", value: "name" },
    value: { type: "string", description: "ab: the value that goes to the candidate", value: "v" },
    force: { type: "boolean", description: "promote: past an A/B test or prod's max step" },
    prometheus: { type: "string", description: "check: Prometheus base URL", value: "url" },
  },
};

function parseCommand(command: string, positionals: string[], values: ParsedCli["values"]): RolloutCommand {
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  switch (command) {
    case "start": {
      const storageUri = str("storage-uri");
      if (!storageUri)
        throw new UsageError("start needs --storage-uri <uri> (the candidate's model location)");
      const mode = str("mode");
      if (mode !== undefined && !ROLLOUT_MODES.includes(mode as (typeof ROLLOUT_MODES)[number]))
        throw new UsageError(`--mode must be one of ${ROLLOUT_MODES.join(", ")} (got ${mode})`);
      return {
        kind: "start",
        candidate: { storageUri, image: str("image") },
        mode: mode as (typeof ROLLOUT_MODES)[number] | undefined,
      };
    }
    case "set": {
      const raw = positionals[1];
      if (raw === undefined || !/^-?\d+(\.\d+)?$/.test(raw))
        throw new UsageError("set needs <model> <percent 0-100>");
      return { kind: "set", percent: Number(raw) };
    }
    case "step":
      return { kind: "step" };
    case "promote":
      return { kind: "promote", force: values.force === true };
    case "abort":
      return { kind: "abort" };
    default: {
      const value = str("value");
      if (value === undefined)
        throw new UsageError("ab needs --header <name> | --cookie <name> and --value <v>");
      return { kind: "ab", header: str("header"), cookie: str("cookie"), value };
    }
  }
}

/** The command line; `root` holds the stack files (the project root unless a test says otherwise). */
export async function main(args: ParsedCli, root = ROOT): Promise<number> {
  const command = args.command!;
  const [modelName, ...rest] = args.positionals;
  const stack = stackOption(args.values.stack, { required: true }, root);
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  const text = fs.readFileSync(file, "utf8");
  if (command === "status") {
    if (modelName) throw new UsageError(`status takes no model (got "${modelName}")`);
    console.log(statusTable(stack, text));
    return 0;
  }
  if (!modelName) throw new UsageError(`${command} needs a model name`);
  if (rest.length > 0 && command !== "set")
    throw new UsageError(`unexpected argument "${rest[0]}" after the model`);
  if (command === "check") {
    const prometheus = args.values.prometheus;
    if (typeof prometheus !== "string") throw new UsageError("check needs --prometheus <url>");
    const result = await checkGate(stack, text, modelName, prometheus);
    console.log(result.lines.join("\n"));
    return result.exitCode;
  }
  const edited = editStack(stack, text, modelName, parseCommand(command, [modelName, ...rest], args.values));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, edited.text);
  fs.renameSync(tmp, file);
  console.log(`${edited.summary}\nUpdated ${path.basename(file)}; apply with: pulumi up --stack ${stack}`);
  return 0;
}

if (require.main === module) {
  // The gate's 1 and 2 mean hold and roll back: a failure to check must not look like either.
  const failCode = process.argv[2] === "check" ? 3 : 1;
  runCli(ROLLOUT_CLI, (args) =>
    main(args).catch((err: unknown) => {
      if (err instanceof RolloutError || err instanceof ConfigError)
        throw new CliError(err.message, failCode);
      throw err;
    }),
  );
}
