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
import { parseArgs } from "node:util";
import { readRawConfig, validatePlatformConfig } from "../config/load";
import { ConfigError } from "../config/problems";
import type { PlatformConfig } from "../config/schema";
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

function parseCommand(
  command: string,
  positionals: string[],
  values: Record<string, string | boolean | undefined>,
): RolloutCommand {
  switch (command) {
    case "set": {
      const raw = positionals[1];
      if (raw === undefined || !/^-?\d+(\.\d+)?$/.test(raw))
        throw new RolloutError("usage: set <model> <percent 0-100>");
      return { kind: "set", percent: Number(raw) };
    }
    case "step":
      return { kind: "step" };
    case "promote":
      return { kind: "promote", force: values.force === true };
    case "abort":
      return { kind: "abort" };
    case "ab":
      if (typeof values.value !== "string")
        throw new RolloutError("usage: ab <model> --header <name> | --cookie <name> --value <v>");
      return {
        kind: "ab",
        header: typeof values.header === "string" ? values.header : undefined,
        cookie: typeof values.cookie === "string" ? values.cookie : undefined,
        value: values.value,
      };
    default:
      throw new RolloutError(`unknown command "${command}" (status, set, step, promote, abort, ab, check)`);
  }
}

/** The command line; `root` holds the stack files (the project root unless a test says otherwise). */
export async function main(argv: string[], root = ROOT): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stack: { type: "string", default: "dev" },
      header: { type: "string" },
      cookie: { type: "string" },
      value: { type: "string" },
      force: { type: "boolean", default: false },
      prometheus: { type: "string" },
    },
  });
  const [command = "status", modelName, ...rest] = positionals;
  const stack = values.stack ?? "dev";
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new RolloutError(`no stack file ${file}`);
  const text = fs.readFileSync(file, "utf8");
  if (command === "status") {
    console.log(statusTable(stack, text));
    return 0;
  }
  if (!modelName) throw new RolloutError(`usage: ${command} <model> --stack <name>`);
  if (command === "check") {
    if (!values.prometheus) throw new RolloutError("usage: check <model> --prometheus <url>");
    const result = await checkGate(stack, text, modelName, values.prometheus);
    console.log(result.lines.join("\n"));
    return result.exitCode;
  }
  const edited = editStack(stack, text, modelName, parseCommand(command, [modelName, ...rest], values));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, edited.text);
  fs.renameSync(tmp, file);
  console.log(`${edited.summary}\nUpdated ${path.basename(file)}; apply with: pulumi up --stack ${stack}`);
  return 0;
}

if (require.main === module) {
  const isCheck = process.argv[2] === "check";
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(
        err instanceof RolloutError || err instanceof ConfigError ? err.message : (err as Error).stack,
      );
      // The gate's 1 and 2 mean hold and roll back: a failure to check must not look like either.
      process.exit(isCheck ? 3 : 1);
    },
  );
}
