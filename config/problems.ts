/**
 * Config problems: a key path plus what is wrong and what is allowed. All problems of a stack are
 * gathered and thrown once, so a user fixes every mistake in one edit.
 */
import type { z } from "zod";

export interface Problem {
  /** Key path as users write it with `pulumi config set --path`, e.g. `models[2].rollout.percent`. */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: readonly Problem[],
  ) {
    super(formatProblems(stack, problems));
    this.name = "ConfigError";
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(root)" : out;
}

export function formatProblems(stack: string, problems: readonly Problem[]): string {
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
  const noun = problems.length === 1 ? "problem" : "problems";
  return `Invalid stack config for stack "${stack}" (${problems.length} ${noun}):\n${lines.join("\n")}`;
}

/** Keys an object schema accepts at a path, to say what is allowed next to an unknown key. */
function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let current: unknown = schema;
  const unwrap = (s: unknown): unknown => {
    // Walk through wrappers (optional, default, prefault, pipe, transform) to the underlying type.
    for (let i = 0; i < 10; i++) {
      const def = (s as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
      if (!def) return s;
      if (def.innerType) s = def.innerType;
      else if (def.type === "pipe") s = def.in;
      else return s;
    }
    return s;
  };
  for (const part of path) {
    current = unwrap(current);
    const def = (current as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === "array" && typeof part === "number") current = def.element;
    else if (def.type === "object") current = (def.shape as Record<string, unknown>)[String(part)];
    else return undefined;
    if (current === undefined) return undefined;
  }
  current = unwrap(current);
  const def = (current as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
  return def?.type === "object" ? Object.keys(def.shape as object) : undefined;
}

/** Turns zod issues into problems, naming allowed keys for unknown ones. */
export function problemsFromZod(
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        problems.push({
          path: formatPath([...path, key]),
          message: `unknown key${allowed ? ` (allowed here: ${allowed.join(", ")})` : ""}`,
        });
      }
    } else {
      problems.push({ path: formatPath(path), message: issue.message });
    }
  }
  return problems;
}
