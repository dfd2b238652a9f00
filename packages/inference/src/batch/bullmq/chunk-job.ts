/**
 * The one queue of distributed batch prediction: its job name, the payload of a chunk job and what a
 * worker answers, and where chunk files go. The payload is parsed at the edge (`parseChunkJob`), so a
 * worker never acts on a job it does not understand; new fields stay optional until old jobs have
 * drained.
 *
 * A chunk is a range of the input (bytes of a CSV/JSON Lines file at record boundaries, or rows of a
 * Parquet file). Its output goes to `OUT.chunks/<chunk>.<ext>` (and its bad rows to
 * `OUT.chunks/<chunk>.errors.jsonl`), each written to a temporary name and renamed, so a chunk file is
 * either absent or complete, and a chunk done twice (after a worker was presumed dead) is written twice
 * with the same content.
 */
import { join } from "node:path";
import { BatchError } from "../batch-error.js";
import type { OnError, OutputPlan, ProbabilitiesLayout } from "../block.js";
import { isDataFormat, type DataFormat } from "../data-format.js";
import type { InputRange } from "../input-blocks.js";

export const CHUNK_JOB_NAME = "predict-chunk";

export interface ChunkJobData {
  readonly version: 1;
  /** One id per batch-predict run (a UUID); job ids are `<batchId>-<chunk>`. */
  readonly batchId: string;
  readonly chunk: number;
  /** The pinned model URI and the tracking server that resolves it. */
  readonly model: { readonly uri: string; readonly trackingUri: string };
  readonly input: {
    readonly path: string;
    readonly format: DataFormat;
    /** The file's size when the job started: a worker refuses a file that changed since. */
    readonly size: number;
    readonly columns: readonly string[];
    readonly features?: readonly string[];
    readonly range: InputRange;
  };
  readonly output: {
    /** The chunk directory (`OUT.chunks`). */
    readonly dir: string;
    readonly plan: OutputPlan;
  };
  readonly batchSize: number;
  readonly onError: OnError;
}

export interface ChunkJobResult {
  readonly rows: number;
  readonly written: number;
  readonly errors: number;
  /** The chunk's output columns (empty when it wrote no row). */
  readonly columnNames: readonly string[];
}

const EXTENSIONS: Record<DataFormat, string> = { csv: "csv", jsonl: "jsonl", parquet: "parquet" };

export function chunkDirFor(outputPath: string): string {
  return `${outputPath}.chunks`;
}

export function chunkPath(dir: string, chunk: number, format: DataFormat): string {
  return join(dir, `${String(chunk).padStart(6, "0")}.${EXTENSIONS[format]}`);
}

export function chunkErrorsPath(dir: string, chunk: number): string {
  return join(dir, `${String(chunk).padStart(6, "0")}.errors.jsonl`);
}

export function chunkJobId(batchId: string, chunk: number): string {
  return `${batchId}-${chunk}`;
}

// ---------------------------------------------------------------------------------------------
// Parsing

class PayloadError extends BatchError {
  override readonly name: string = "PayloadError";
}

type Shape = Record<string, unknown>;

function object(value: unknown, where: string): Shape {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PayloadError(`${where} must be an object`);
  }
  return value as Shape;
}

function string(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") throw new PayloadError(`${where} must be a non-empty string`);
  return value;
}

function count(value: unknown, where: string, min = 0): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new PayloadError(`${where} must be a whole number ≥ ${min}`);
  }
  return value;
}

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new PayloadError(`${where} must be a list of strings`);
  }
  return value;
}

function format(value: unknown, where: string): DataFormat {
  if (typeof value !== "string" || !isDataFormat(value))
    throw new PayloadError(`${where} must be csv, jsonl or parquet`);
  return value;
}

function range(value: unknown): InputRange {
  const r = object(value, "input.range");
  const start = count(r.start, "input.range.start");
  const end = count(r.end, "input.range.end");
  if (end < start) throw new PayloadError("input.range.end must not be before input.range.start");
  if (r.kind === "rows") return { kind: "rows", start, end };
  if (r.kind === "bytes") {
    return {
      kind: "bytes",
      start,
      end,
      firstRow: count(r.firstRow, "input.range.firstRow"),
      firstLine: count(r.firstLine, "input.range.firstLine", 1),
    };
  }
  throw new PayloadError("input.range.kind must be 'bytes' or 'rows'");
}

function outputPlan(value: unknown): OutputPlan {
  const p = object(value, "output.plan");
  if (typeof p.rowNumber !== "boolean") throw new PayloadError("output.plan.rowNumber must be a boolean");
  const probabilities = p.probabilities;
  if (probabilities !== "json" && probabilities !== "columns") {
    throw new PayloadError("output.plan.probabilities must be 'json' or 'columns'");
  }
  return {
    format: format(p.format, "output.plan.format"),
    rowNumber: p.rowNumber,
    keep: strings(p.keep, "output.plan.keep"),
    probabilities: probabilities satisfies ProbabilitiesLayout,
    ...(p.classes === undefined ? {} : { classes: strings(p.classes, "output.plan.classes") }),
  };
}

/** The payload of a chunk job, checked; a `BatchError` naming the first field that is wrong. */
export function parseChunkJob(data: unknown): ChunkJobData {
  const d = object(data, "the job data");
  if (d.version !== 1) throw new PayloadError(`job version ${String(d.version)} is not understood here (1 is)`);
  const model = object(d.model, "model");
  const input = object(d.input, "input");
  const output = object(d.output, "output");
  const onError = d.onError;
  if (onError !== "fail" && onError !== "skip") throw new PayloadError("onError must be 'fail' or 'skip'");
  return {
    version: 1,
    batchId: string(d.batchId, "batchId"),
    chunk: count(d.chunk, "chunk"),
    model: { uri: string(model.uri, "model.uri"), trackingUri: string(model.trackingUri, "model.trackingUri") },
    input: {
      path: string(input.path, "input.path"),
      format: format(input.format, "input.format"),
      size: count(input.size, "input.size"),
      columns: strings(input.columns, "input.columns"),
      ...(input.features === undefined ? {} : { features: strings(input.features, "input.features") }),
      range: range(input.range),
    },
    output: { dir: string(output.dir, "output.dir"), plan: outputPlan(output.plan) },
    batchSize: count(d.batchSize, "batchSize", 1),
    onError,
  };
}

/** A worker's answer, checked (the coordinator trusts nothing it reads from Redis). */
export function parseChunkResult(value: unknown, chunk: number): ChunkJobResult {
  const r = object(value, `the result of chunk ${chunk}`);
  return {
    rows: count(r.rows, "rows"),
    written: count(r.written, "written"),
    errors: count(r.errors, "errors"),
    columnNames: strings(r.columnNames, "columnNames"),
  };
}
