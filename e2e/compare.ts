/**
 * What the API server kept of an object, against what was sent: every field the plan sets must come
 * back with the same value. A field that is missing was pruned; a different value was defaulted or
 * rewritten by admission. Quantities count as equal when they denote the same amount ("0.5" vs "500m").
 */

/** Fields the API server turns into other fields by design (write-only inputs). */
const WRITE_ONLY: ReadonlyArray<readonly string[]> = [["stringData"]];

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const FACTORS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

function quantityValue(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const m = QUANTITY.exec(v);
  return m ? Number(m[1]) * FACTORS[m[2] ?? ""]! : undefined;
}

function sameScalar(sent: unknown, got: unknown): boolean {
  if (sent === got) return true;
  const a = quantityValue(sent);
  const b = quantityValue(got);
  return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-9;
}

export interface FieldDifference {
  readonly path: string;
  readonly sent: unknown;
  /** undefined: the server dropped the field. */
  readonly got: unknown;
}

function fmt(path: readonly (string | number)[]): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
    .join("")
    .replace(/^\./, "");
}

export function fieldDifferences(
  sent: unknown,
  got: unknown,
  path: (string | number)[] = [],
): FieldDifference[] {
  if (WRITE_ONLY.some((w) => w.length === path.length && w.every((p, i) => p === path[i]))) return [];
  if (Array.isArray(sent)) {
    if (!Array.isArray(got)) return [{ path: fmt(path), sent, got }];
    if (got.length !== sent.length) return [{ path: fmt(path), sent, got }];
    return sent.flatMap((v, i) => fieldDifferences(v, got[i], [...path, i]));
  }
  if (sent !== null && typeof sent === "object") {
    if (got === null || typeof got !== "object" || Array.isArray(got))
      return [{ path: fmt(path), sent, got }];
    return Object.entries(sent as Record<string, unknown>).flatMap(([k, v]) =>
      fieldDifferences(v, (got as Record<string, unknown>)[k], [...path, k]),
    );
  }
  return sameScalar(sent, got) ? [] : [{ path: fmt(path), sent, got }];
}
