/**
 * The work of a prediction thread, without the thread: a model package loaded once into its predictor,
 * then blocks of input rows turned into blocks of output rows. Per block: decode the rows
 * (`decode-block.ts`), check and convert them against the signature with the serving path's batch
 * builder (`build-batch.ts`), predict, encode (`encode-output.ts`).
 *
 * Bad rows never take good ones down with them: when the builder refuses a batch, each row is checked
 * alone to find the ones at fault; when the predictor throws a `PredictorError` for a batch, the rows
 * are predicted one at a time. The bad rows come back with their row numbers and messages; the caller
 * decides whether they fail the job. Any other error is a real failure and is thrown.
 */
import type { MLmodel } from "@slipway/ml";
import { InferenceError } from "../errors.js";
import { compileBatchBuilder, type BatchBuilder } from "../input/build-batch.js";
import { builtinPredictors } from "../predictors/builtin.js";
import {
  PredictorError,
  PredictorLoadError,
  type InputBatch,
  type Predictor,
  type PredictorSignature,
} from "../predictors/predictor.js";
import { BatchError } from "./batch-error.js";
import type { BlockResult, InputBlock, InputPlan, OutputPlan, RowError } from "./block.js";
import { decodeBlock, rawColumnsOf, type DecodeSpec, type DecodedRows } from "./decode-block.js";
import { encodeRows, type PredictedSegment } from "./encode-output.js";

export interface BlockPredictorOptions {
  /** The package's local directory (read-only) and its parsed MLmodel. */
  readonly dir: string;
  readonly mlmodel: MLmodel;
  /** onnxruntime's intra-op threads per session (1 when several prediction threads share the cores). */
  readonly onnxThreads?: number;
}

/** The columns a model reads from an input with these columns (see `InputPlan.features`). */
export function featureColumns(signature: PredictorSignature, input: InputPlan): string[] {
  const inputs = signature.inputs;
  if (inputs.kind === "columns") return inputs.columns.map((c, i) => c.name ?? String(i));
  if (input.features) return [...input.features];
  const names = inputs.tensors.map((t, i) => t.name ?? (inputs.tensors.length === 1 ? "input" : String(i)));
  if (names.every((n) => input.columns.includes(n))) return names;
  return input.columns.filter((c) => c !== "id");
}

const SIGNATURE_PREFIX = "The input does not match the model's signature: ";

/** A one-row batch's error without the row bookkeeping meant for a request of many rows. */
function rowMessage(error: InferenceError): string {
  let message = error.message;
  if (message.startsWith(SIGNATURE_PREFIX)) message = message.slice(SIGNATURE_PREFIX.length);
  return message.replaceAll(" in row 0 (1 of 1)", "").replaceAll("row 0 (1 of 1): ", "");
}

export class BlockPredictor {
  private readonly specs = new Map<string, DecodeSpec>();

  private constructor(
    private readonly predictor: Predictor,
    private readonly build: BatchBuilder,
  ) {}

  /** Loads and warms up the package's predictor. Throws `PredictorLoadError` for a package it cannot load. */
  static async load(options: BlockPredictorOptions): Promise<BlockPredictor> {
    const registry = builtinPredictors(
      options.onnxThreads === undefined ? {} : { onnx: { intraOpNumThreads: options.onnxThreads } },
    );
    const predictor = await registry.load(options.dir, options.mlmodel);
    let build: BatchBuilder;
    try {
      build = compileBatchBuilder(predictor.signature);
      await predictor.warmup();
    } catch (error) {
      await predictor.close();
      if (error instanceof PredictorLoadError) throw error;
      throw new PredictorLoadError(`cannot use this model: ${(error as Error).message}`, { cause: error });
    }
    return new BlockPredictor(predictor, build);
  }

  get signature(): PredictorSignature {
    return this.predictor.signature;
  }

  close(): Promise<void> {
    return this.predictor.close();
  }

  private spec(input: InputPlan, output: OutputPlan): DecodeSpec {
    const key = JSON.stringify([input.columns, input.features ?? null, output.keep]);
    let spec = this.specs.get(key);
    if (!spec) {
      spec = { columns: input.columns, features: featureColumns(this.signature, input), keep: output.keep };
      this.specs.set(key, spec);
    }
    return spec;
  }

  async process(block: InputBlock, input: InputPlan, output: OutputPlan): Promise<BlockResult> {
    const rows = decodeBlock(block, this.spec(input, output));
    if (rows.count + rows.errors.length !== block.rows) {
      throw new Error(
        `block ${block.index} was cut as ${block.rows} rows but reads as ${rows.count + rows.errors.length}`,
      );
    }
    const errors: RowError[] = [...rows.errors];
    const segments = await this.predictRows(rows, errors);
    errors.sort((a, b) => a.row - b.row);
    const encoded = encodeRows({ plan: output, rows, segments, keep: output.keep });
    return {
      index: block.index,
      firstRow: block.firstRow,
      rows: block.rows,
      written: encoded.written,
      columnNames: encoded.columnNames,
      output: encoded.output,
      errors,
    };
  }

  private rowError(rows: DecodedRows, i: number, message: string): RowError {
    const line = rows.lines?.[i];
    return { row: rows.rowNumbers[i]!, ...(line === undefined ? {} : { line }), message, input: rows.inputOf(i) };
  }

  /** The rows' batch, leaving out (and reporting) the rows the signature refuses. */
  private buildChecked(rows: DecodedRows, errors: RowError[]): { batch: InputBatch; good: number[] } | undefined {
    const all = Array.from({ length: rows.count }, (_, i) => i);
    try {
      return { batch: this.build(rawColumnsOf(rows)), good: all };
    } catch (error) {
      if (!(error instanceof InferenceError)) throw error;
    }
    const good: number[] = [];
    for (const i of all) {
      try {
        this.build(rawColumnsOf(rows, [i]));
        good.push(i);
      } catch (error) {
        if (!(error instanceof InferenceError)) throw error;
        errors.push(this.rowError(rows, i, rowMessage(error)));
      }
    }
    return good.length === 0 ? undefined : { batch: this.build(rawColumnsOf(rows, good)), good };
  }

  private async predictRows(rows: DecodedRows, errors: RowError[]): Promise<PredictedSegment[]> {
    if (rows.count === 0) return [];
    const checked = this.buildChecked(rows, errors);
    if (!checked) return [];
    const { batch, good } = checked;
    if (!this.predictor.batchable && good.length > 1) return this.oneByOne(rows, good, errors);
    try {
      return [{ rows: good, prediction: this.checkRows(await this.predictor.predict(batch), batch.rows) }];
    } catch (error) {
      if (!(error instanceof PredictorError)) throw error;
      return this.oneByOne(rows, good, errors);
    }
  }

  private async oneByOne(rows: DecodedRows, good: readonly number[], errors: RowError[]): Promise<PredictedSegment[]> {
    const segments: PredictedSegment[] = [];
    for (const i of good) {
      try {
        const prediction = await this.predictor.predict(this.build(rawColumnsOf(rows, [i])));
        segments.push({ rows: [i], prediction: this.checkRows(prediction, 1) });
      } catch (error) {
        if (!(error instanceof PredictorError)) throw error;
        errors.push(this.rowError(rows, i, `the model refused the row: ${error.message}`));
      }
    }
    return segments;
  }

  private checkRows<T extends { rows: number }>(prediction: T, rows: number): T {
    if (prediction.rows !== rows) {
      throw new BatchError(`the model answered ${prediction.rows} rows for a batch of ${rows}`);
    }
    return prediction;
  }
}
