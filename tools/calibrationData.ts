/**
 * Loads models/capacity/calibration/vllm-startups.yaml (the published vLLM startup figures) and
 * validates its shape, for the calibration test and the bench table.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { GPU_MODELS } from "../models/capacity/gpuInstances";
import { customArchitectureSchema } from "../models/schema";
import {
  calibrationRows,
  type CalibrationData,
  type CalibrationRow,
  type ErrorSummary,
  summarize,
} from "../models/capacity/calibration";

export const CALIBRATION_FILE = path.join(
  __dirname,
  "..",
  "models",
  "capacity",
  "calibration",
  "vllm-startups.yaml",
);

const setup = {
  id: z.string(),
  model: z.string(),
  architecture: z.string(),
  gpu: z.string(),
  vllm: z.string(),
  gpuMemoryUtilization: z.number().gt(0).max(1),
  maxModelLen: z.number().int().positive(),
  tensorParallel: z.number().int().min(1),
  quantization: z.enum(["fp8", "awq"]).optional(),
  kvCacheDtype: z.literal("fp8").optional(),
  maxNumBatchedTokens: z.number().int().optional(),
  torchTotalGiB: z.number().optional(),
  source: z.string().url(),
  quote: z.string().min(1),
};

const fileSchema = z.object({
  about: z.string(),
  gpus: z.record(
    z.string(),
    z.object({
      catalog: z.enum(Object.keys(GPU_MODELS) as [keyof typeof GPU_MODELS]).optional(),
      name: z.string().optional(),
      torchTotalGiB: z.number().optional(),
      nvmlGiB: z.number().optional(),
      computeCapability: z.number().optional(),
      note: z.string().optional(),
    }),
  ),
  architectures: z.record(z.string(), customArchitectureSchema.extend({ note: z.string().optional() })),
  points: z.array(
    z.object({
      ...setup,
      status: z.enum(["fit", "holdout", "reference"]),
      accounting: z.enum(["V0", "0.11", "0.19", "0.24"]),
      observed: z.object({
        weightsGiB: z.number().optional(),
        kvCacheGiB: z.number().optional(),
        kvTokens: z.number().int().optional(),
        kvDerived: z.string().optional(),
        kvNote: z.string().optional(),
        activationGiB: z.number().optional(),
        nonTorchGiB: z.number().optional(),
      }),
      why: z.string().optional(),
      knownMiss: z.string().optional(),
      weightsNote: z.string().optional(),
      notes: z.string().optional(),
    }),
  ),
  notModelled: z.array(z.object({ id: z.string(), why: z.string(), source: z.string().url() })),
  failures: z.array(z.object(setup)),
  failuresNotModelled: z.array(z.object({ id: z.string(), why: z.string(), source: z.string().url() })),
});

export type CalibrationFile = z.infer<typeof fileSchema>;

export function loadCalibration(file = CALIBRATION_FILE): CalibrationFile & CalibrationData {
  const parsed = fileSchema.safeParse(parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.message}`);
  return parsed.data;
}

export interface CalibrationReport {
  readonly rows: CalibrationRow[];
  readonly fit: ErrorSummary;
  readonly holdout: ErrorSummary;
}

export function calibrationReport(data: CalibrationData = loadCalibration()): CalibrationReport {
  const rows = calibrationRows(data);
  return {
    rows,
    fit: summarize(rows.filter((r) => r.point.status === "fit")),
    holdout: summarize(rows.filter((r) => r.point.status === "holdout")),
  };
}

const pct = (x: number | undefined) =>
  x === undefined || Number.isNaN(x) ? "–" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

/** The calibration table as Markdown (bench output and README). */
export function calibrationTable(report: CalibrationReport = calibrationReport()): string[] {
  const lines = [
    "| id | status | model | GPU | TP | util | vLLM | predicted KV GiB | logged KV GiB | KV error | weights error |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of report.rows) {
    const p = r.point;
    const observed = p.observed.kvCacheGiB ?? (p.observed.kvTokens !== undefined ? NaN : NaN);
    lines.push(
      `| ${p.id} | ${p.status} | ${p.model} | ${r.gpuName} | ${p.tensorParallel} | ${p.gpuMemoryUtilization} | ${p.vllm} | ${r.predicted.kvCacheGiB.toFixed(2)} | ${Number.isNaN(observed) ? `(${p.observed.kvTokens} tokens)` : observed.toFixed(2)} | ${pct(r.kvError)} | ${pct(r.weightsError)} |`,
    );
  }
  const s = (name: string, e: ErrorSummary) =>
    `${name}: ${e.points} points, KV error ${pct(e.minError)} … ${pct(e.maxError)}, mean |error| ${(e.meanAbsError * 100).toFixed(1)}%`;
  lines.push("", s("fit", report.fit), s("holdout", report.holdout));
  return lines;
}

if (require.main === module) console.log(calibrationTable().join("\n"));
