/**
 * What every command-line tool of the project shares: `--help` / `help`, strict options (an unknown
 * option, a stray argument or a misspelt command is a one-line error with a suggestion and exit 2),
 * stack names checked against the Pulumi.<stack>.yaml files that exist, and no stack traces for
 * expected failures (set DEBUG=1 to see one).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { suggestion } from "../config/suggest";

export class UsageError extends Error {}
/** An expected failure: printed as one line, exit code chosen by the tool. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly description: string;
  readonly short?: string;
  readonly multiple?: boolean;
  /** Shown in help as the value's placeholder. */
  readonly value?: string;
}

export interface CliSpec {
  /** As users type it, e.g. `npm run e2e --`. */
  readonly name: string;
  readonly summary: string;
  readonly usage: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Subcommands (first positional) with a one-line description each. */
  readonly commands?: Readonly<Record<string, string>>;
  /** Positionals allowed after the command (or at all when there are no commands). */
  readonly maxPositionals?: number;
  readonly notes?: readonly string[];
}

export interface ParsedCli {
  readonly command?: string;
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

export function helpText(spec: CliSpec): string {
  const lines = [spec.summary, "", "Usage:", ...spec.usage.map((u) => `  ${spec.name} ${u}`)];
  if (spec.commands) {
    lines.push("", "Commands:");
    const w = Math.max(...Object.keys(spec.commands).map((c) => c.length));
    for (const [c, d] of Object.entries(spec.commands)) lines.push(`  ${c.padEnd(w)}  ${d}`);
  }
  lines.push("", "Options:");
  const opts = {
    ...spec.options,
    help: { type: "boolean", description: "show this help", short: "h" } as OptionSpec,
  };
  const label = (n: string, o: OptionSpec) =>
    `${o.short ? `-${o.short}, ` : ""}--${n}${o.type === "string" ? ` <${o.value ?? n}>` : ""}`;
  const w = Math.max(...Object.entries(opts).map(([n, o]) => label(n, o).length));
  for (const [n, o] of Object.entries(opts)) lines.push(`  ${label(n, o).padEnd(w)}  ${o.description}`);
  if (spec.notes?.length) lines.push("", ...spec.notes);
  return lines.join("\n");
}

/** Parses argv strictly; throws UsageError with a suggestion on anything unexpected. `undefined`: help was asked for. */
export function parseCli(spec: CliSpec, argv: readonly string[]): ParsedCli | undefined {
  const options = Object.fromEntries(
    Object.entries({
      ...spec.options,
      help: { type: "boolean", description: "", short: "h" } as OptionSpec,
    }).map(([n, o]) => [
      n,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(msg)?.[1];
    if (unknown)
      throw new UsageError(
        `unknown option ${unknown}${suggestion(unknown.replace(/^-+/, ""), Object.keys(spec.options)).replace("mean ", "mean --")}`,
      );
    throw new UsageError(msg.split("\n")[0]!.replace(/\. To specify.*$/, ""));
  }
  const values = parsed.values as ParsedCli["values"];
  let positionals = parsed.positionals;
  if (values.help) return undefined;
  let command: string | undefined;
  if (spec.commands) {
    command = positionals[0];
    if (command === "help") return undefined;
    if (!command) throw new UsageError(`a command is required (${Object.keys(spec.commands).join(", ")})`);
    if (!(command in spec.commands))
      throw new UsageError(
        `unknown command "${command}"${suggestion(command, Object.keys(spec.commands))} (commands: ${Object.keys(spec.commands).join(", ")})`,
      );
    positionals = positionals.slice(1);
  } else if (positionals[0] === "help") return undefined;
  const max = spec.maxPositionals ?? 0;
  if (positionals.length > max) {
    const stray = positionals.slice(max);
    const hint = stray.some((s) => existingStacks().includes(s))
      ? ` (a stack name? pass it as --stack ${stray.find((s) => existingStacks().includes(s))}; with npm, put options after --)`
      : "";
    throw new UsageError(
      `unexpected argument${stray.length > 1 ? "s" : ""} ${stray.map((s) => `"${s}"`).join(" ")}${hint}`,
    );
  }
  return { command, values, positionals };
}

const ROOT = path.resolve(__dirname, "..");

export function existingStacks(root = ROOT): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** The stack named by --stack, checked against the stack files that exist. */
export function stackOption(
  value: unknown,
  opts: { required: boolean; fallback?: string },
  root = ROOT,
): string {
  const stacks = existingStacks(root);
  if (value === undefined || value === "") {
    if (opts.required || opts.fallback === undefined)
      throw new UsageError(`--stack is required (stacks: ${stacks.join(", ")})`);
    return opts.fallback;
  }
  const stack = String(value);
  if (!stacks.includes(stack))
    throw new UsageError(
      `no stack "${stack}" (no Pulumi.${stack}.yaml)${suggestion(stack, stacks)} (stacks: ${stacks.join(", ")})`,
    );
  return stack;
}

/**
 * Runs a CLI's main: help on --help/help, exit 2 with one line for usage errors, the CliError's code
 * for expected failures, 1 with one line for anything else (DEBUG=1 prints the stack trace).
 */
export function runCli(
  spec: CliSpec,
  main: (args: ParsedCli) => Promise<number>,
  argv = process.argv.slice(2),
): void {
  const fail = (code: number, message: string, err?: unknown) => {
    console.error(`${spec.name.replace(/ --$/, "")}: ${message}`);
    if (process.env.DEBUG && err instanceof Error && err.stack) console.error(err.stack);
    process.exit(code);
  };
  let args: ParsedCli | undefined;
  try {
    args = parseCli(spec, argv);
  } catch (err) {
    if (err instanceof UsageError) return fail(2, `${err.message}\nRun with --help for usage.`);
    throw err;
  }
  if (!args) {
    console.log(helpText(spec));
    process.exit(0);
  }
  main(args).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) return fail(2, `${err.message}\nRun with --help for usage.`);
      if (err instanceof CliError) return fail(err.exitCode, err.message, err);
      const msg = err instanceof Error ? err.message : String(err);
      fail(1, msg.split("\n").length > 12 ? `${msg.split("\n").slice(0, 12).join("\n")}\n…` : msg, err);
    },
  );
}
