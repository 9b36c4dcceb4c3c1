/**
 * Validates custom resources against the upstream CRD's OpenAPI v3 schema, the way the API server
 * would: unknown fields where the schema does not preserve them are errors (the server would prune
 * them silently), plus types, required fields and enums; x-kubernetes-int-or-string,
 * x-kubernetes-preserve-unknown-fields and nullable are honoured.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import standaloneCode from "ajv/dist/standalone";
import * as fs from "node:fs";
import { parseAllDocuments } from "yaml";
import { CRD_FILES } from "../models/versions";
import { findCrdFile } from "./crdFiles";
import { cachedValidator } from "./validatorCache";
import { goRegExp } from "./goRegExp";

/** This file's own text: part of the cache key, so changing the conversion invalidates the cache. */
const CONVERTER_SOURCE = fs.readFileSync(__filename, "utf8");

type Schema = Record<string, unknown>;

/** Converts a structural CRD schema to a JSON schema that rejects what the API server would prune. */
export function toJsonSchema(schema: Schema, isRoot = false): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (
      key.startsWith("x-kubernetes-") ||
      key === "nullable" ||
      key === "format" ||
      key === "description" ||
      key === "example"
    )
      continue;
    if (key === "properties")
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toJsonSchema(v)]),
      );
    else if (key === "items") out.items = toJsonSchema(value as Schema);
    else if (key === "additionalProperties")
      out.additionalProperties = typeof value === "boolean" ? value : toJsonSchema(value as Schema);
    else if (key === "allOf" || key === "anyOf" || key === "oneOf")
      out[key] = (value as Schema[]).map((v) => toJsonSchema(v));
    else if (key === "not") out.not = toJsonSchema(value as Schema);
    else out[key] = value;
  }
  if (schema["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [
      ...((out.anyOf as Schema[] | undefined) ?? []),
      { type: "integer" },
      { type: "string" },
    ].filter((s) => s.type !== undefined);
  }
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const embedded = schema["x-kubernetes-embedded-resource"] === true;
  if (embedded) {
    out.properties = {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      ...((out.properties as Schema) ?? {}),
    };
  }
  if (isRoot) {
    out.properties = {
      ...((out.properties as Schema) ?? {}),
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      status: { type: "object" },
    };
  }
  // An object with declared properties and no additionalProperties prunes every other field.
  if (out.type === "object" && out.properties && out.additionalProperties === undefined && !preserve)
    out.additionalProperties = false;
  if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

/** Subschemas at least this large (as JSON) are worth sharing when they repeat. */
const HOIST_MIN_CHARS = 1000;

/**
 * Moves repeated large subschemas into `definitions` and references them: the InferenceService CRD
 * repeats the container and pod specs for every framework and component, and ajv generates code once
 * per definition instead of once per copy (a fraction of the compile time and code size).
 * Validation results and error paths are unchanged: `$ref` is transparent to instance paths.
 */
export function hoistRepeatedSubschemas(root: Schema): Schema {
  // Only schema positions are shared (never a `properties` map, an enum or a default value).
  const mapSubschemas = (node: Schema, f: (child: Schema) => Schema): Schema => {
    const out: Schema = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "properties")
        out[key] = Object.fromEntries(
          Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, f(v)]),
        );
      else if (
        (key === "items" || key === "additionalProperties" || key === "not") &&
        typeof value === "object"
      )
        out[key] = f(value as Schema);
      else if (key === "allOf" || key === "anyOf" || key === "oneOf") out[key] = (value as Schema[]).map(f);
      else out[key] = value;
    }
    return out;
  };
  const counts = new Map<string, number>();
  const keys = new WeakMap<Schema, string>();
  const count = (node: Schema): Schema => {
    mapSubschemas(node, count);
    const key = JSON.stringify(node);
    keys.set(node, key);
    if (key.length >= HOIST_MIN_CHARS) counts.set(key, (counts.get(key) ?? 0) + 1);
    return node;
  };
  count(root);
  const definitions: Record<string, Schema> = {};
  const names = new Map<string, string>();
  const rewrite = (node: Schema): Schema => {
    const key = keys.get(node)!;
    if ((counts.get(key) ?? 0) < 2) return mapSubschemas(node, rewrite);
    let name = names.get(key);
    if (!name) {
      name = `s${names.size}`;
      names.set(key, name);
      definitions[name] = mapSubschemas(node, rewrite);
    }
    return { $ref: `#/definitions/${name}` };
  };
  const out = mapSubschemas(root, rewrite);
  return names.size > 0 ? { ...out, definitions } : out;
}

export interface CrdKey {
  readonly group: string;
  readonly kind: string;
  readonly version: string;
}

// `code.source` keeps the generated code so it can be cached (see validatorCache.ts).
// Patterns are Go RE2 (the API server's regexp), compiled through goRegExp.
const ajv = new Ajv({
  allErrors: true,
  strict: false,
  validateFormats: false,
  code: { source: true, regExp: goRegExp },
});
const cache = new Map<string, ValidateFunction | null>();

function compileFromCrd(file: string, text: string, key: CrdKey): ValidateFunction {
  for (const doc of parseAllDocuments(text)) {
    const crd = doc.toJS() as {
      kind?: string;
      spec?: {
        names: { kind: string };
        versions: Array<{ name: string; schema?: { openAPIV3Schema: Schema } }>;
      };
    };
    if (crd?.kind !== "CustomResourceDefinition" || crd.spec?.names.kind !== key.kind) continue;
    const version = crd.spec.versions.find((v) => v.name === key.version);
    if (!version?.schema) throw new Error(`${file} has no version ${key.version} of ${key.kind}`);
    return ajv.compile(hoistRepeatedSubschemas(toJsonSchema(version.schema.openAPIV3Schema, true)));
  }
  throw new Error(`${file} has no CustomResourceDefinition for ${key.kind}`);
}

function loadValidator(key: CrdKey): ValidateFunction | null {
  const id = `${key.group}/${key.kind}/${key.version}`;
  const file = CRD_FILES[`${key.group}/${key.kind}` as keyof typeof CRD_FILES] as string | undefined;
  const found = file === undefined ? undefined : findCrdFile(file);
  // Memoised per CRD file actually found: a different shared dir or cache is a different validator.
  const memo = `${id}\0${found ?? ""}`;
  if (cache.has(memo)) return cache.get(memo)!;
  let validator: ValidateFunction | null = null;
  if (file !== undefined && found !== undefined) {
    const text = fs.readFileSync(found, "utf8");
    // Compiling the 2 MB InferenceService schema takes seconds; the generated code is cached by the
    // hash of the CRD text, this converter and the ajv version, so a changed input recompiles.
    validator = cachedValidator([id, text, CONVERTER_SOURCE], (save) => {
      const compiled = compileFromCrd(file, text, key);
      save(standaloneCode(ajv, compiled));
      return compiled;
    });
  }
  cache.set(memo, validator);
  return validator;
}

export function crdKeyOf(object: { apiVersion: string; kind: string }): CrdKey {
  const [group = "", version = ""] = object.apiVersion.split("/");
  return { group, kind: object.kind, version };
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === "" ? "(root)" : e.instancePath;
  if (e.keyword === "additionalProperties")
    return `${at}/${String(e.params.additionalProperty)}: unknown field (the API server would prune it)`;
  if (e.keyword === "enum")
    return `${at}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  return `${at}: ${e.message ?? e.keyword}`;
}

/** Problems with one custom resource, or undefined when no schema for its kind is available. */
export function validateCustomResource(
  object: { apiVersion: string; kind: string } & Record<string, unknown>,
): string[] | undefined {
  const validate = loadValidator(crdKeyOf(object));
  if (!validate) return undefined;
  if (validate(object)) return [];
  // anyOf branches repeat errors: keep each message once.
  return [...new Set((validate.errors ?? []).filter((e) => e.keyword !== "anyOf").map(describe))];
}
