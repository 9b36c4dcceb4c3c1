/**
 * Reads Pulumi.<stack>.yaml the way the CLI hands config to a program: a flat map of
 * `namespace:key` → text (objects and lists as JSON), plus the list of keys holding secure values.
 * Secure values cannot be decrypted offline: each becomes a recognisable placeholder, so tests can
 * prove it never appears in clear text anywhere the plan writes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const SECRET_PLACEHOLDER_PREFIX = "offline-secret:";

export interface StackFileConfig {
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

function replaceSecure(value: unknown, keyPath: string, found: { secure: boolean }): unknown {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 1 && typeof obj.secure === "string") {
      found.secure = true;
      return `${SECRET_PLACEHOLDER_PREFIX}${keyPath}`;
    }
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, replaceSecure(v, `${keyPath}.${k}`, found)]),
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => replaceSecure(v, `${keyPath}[${i}]`, found));
  return value;
}

export function parseStackConfig(text: string): StackFileConfig {
  const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    const found = { secure: false };
    const plain = replaceSecure(value, key, found);
    if (found.secure) secretKeys.push(key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  return { config, secretKeys };
}

export function readStackFile(root: string, stack: string): StackFileConfig {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`no stack file ${file}`);
  return parseStackConfig(fs.readFileSync(file, "utf8"));
}
