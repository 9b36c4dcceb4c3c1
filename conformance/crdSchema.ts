/**
 * Validates custom resources against the upstream CRD's OpenAPI v3 schema, the way the API server
 * would: unknown fields where the schema does not preserve them are errors (the server would prune
 * them silently), plus types, required fields and enums; x-kubernetes-int-or-string,
 * x-kubernetes-preserve-unknown-fields and nullable are honoured.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { CRD_FILES } from "../models/versions";
import { sharedDir } from "./sharedDir";

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

export interface CrdKey {
  readonly group: string;
  readonly kind: string;
  readonly version: string;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const cache = new Map<string, ValidateFunction | null>();

function loadValidator(key: CrdKey): ValidateFunction | null {
  const id = `${key.group}/${key.kind}/${key.version}`;
  if (cache.has(id)) return cache.get(id)!;
  const file = CRD_FILES[`${key.group}/${key.kind}` as keyof typeof CRD_FILES];
  let validator: ValidateFunction | null = null;
  if (file) {
    const full = path.join(sharedDir(), "crds", file);
    for (const doc of parseAllDocuments(fs.readFileSync(full, "utf8"))) {
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
      validator = ajv.compile(toJsonSchema(version.schema.openAPIV3Schema, true));
    }
  }
  cache.set(id, validator);
  return validator;
}

export function crdKeyOf(object: { apiVersion: string; kind: string }): CrdKey {
  const [group = "", version = ""] = object.apiVersion.split("/");
  return { group, kind: object.kind, version };
}

export function hasCrdSchema(object: { apiVersion: string; kind: string }): boolean {
  return loadValidator(crdKeyOf(object)) !== null;
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
export function validateCustomResource(object: { apiVersion: string; kind: string }): string[] | undefined {
  const validate = loadValidator(crdKeyOf(object));
  if (!validate) return undefined;
  if (validate(object)) return [];
  // anyOf branches repeat errors: keep each message once.
  return [...new Set((validate.errors ?? []).filter((e) => e.keyword !== "anyOf").map(describe))];
}
