/**
 * A disk cache of compiled JSON-schema validators (ajv standalone code). Compiling a large CRD schema
 * dominates the plan's run time; loading the generated code takes milliseconds. Entries are keyed by
 * a hash of everything the code depends on, written atomically, and a corrupt entry is recompiled.
 * Location: <cache>/validators, where <cache> is INFERENCE_PLATFORM_CACHE or .cache (git-ignored).
 */
import type { ValidateFunction } from "ajv";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { cacheDir } from "./crdFiles";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const AJV_VERSION = (require("ajv/package.json") as { version: string }).version;

/** Loads generated validator code; `require` is ours, so ajv's runtime helpers resolve from this project. */
function loadModule(code: string): ValidateFunction {
  const module = { exports: {} as { default?: ValidateFunction } };
  new Function("require", "module", "exports", code)(require, module, module.exports);
  const validate = module.exports.default ?? (module.exports as unknown as ValidateFunction);
  if (typeof validate !== "function") throw new Error("cached validator does not export a function");
  return validate;
}

/**
 * Returns the validator for `keyParts` from the cache, or compiles it with `compile`, which passes the
 * generated source to `save` for the next run.
 */
export function cachedValidator(
  keyParts: readonly string[],
  compile: (save: (source: string) => void) => ValidateFunction,
): ValidateFunction {
  const hash = createHash("sha256");
  for (const part of [AJV_VERSION, ...keyParts]) hash.update(part).update("\0");
  const file = path.join(cacheDir(), "validators", `validator-${hash.digest("hex").slice(0, 32)}.cjs`);
  if (fs.existsSync(file)) {
    try {
      return loadModule(fs.readFileSync(file, "utf8"));
    } catch {
      // Corrupt or partial entry: fall through and recompile.
    }
  }
  return compile((source) => {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, source);
      fs.renameSync(tmp, file);
    } catch {
      // A read-only cache only costs time.
    }
  });
}
