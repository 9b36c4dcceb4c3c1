/** Kubernetes resource quantities as numbers (memory in bytes, CPU in millicores), and CPU arithmetic. */

const UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes of a Kubernetes memory quantity such as 512Mi or 2G (NaN when it is not one). */
export function quantityBytes(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q);
  if (!m || UNITS[m[2]!] === undefined) return Number.NaN;
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** Millicores of a CPU quantity such as 500m or 2. */
export function cpuMillis(cpu: string): number {
  return cpu.endsWith("m") ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
}

/** Twice a CPU quantity ("500m" → "1", "2" → "4"). */
export function doubleCpu(cpu: string): string {
  const doubled = cpuMillis(cpu) * 2;
  return doubled % 1000 === 0 ? String(doubled / 1000) : `${doubled}m`;
}
