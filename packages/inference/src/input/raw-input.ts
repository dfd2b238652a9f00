/**
 * What a protocol adapter hands over after decoding a request body, before it is checked against the
 * model's signature and turned into the canonical `InputBatch` (`build-batch.ts`). Three shapes cover
 * every request format:
 *
 * - `columns`: named columns of JS values, one per row (MLflow `dataframe_split`, `dataframe_records`,
 *   `instances` of objects, `inputs` as a mapping; CSV with `text` values; KServe inputs of a column model);
 * - `rows`: unnamed rows, each a scalar or a list (MLflow `instances` / `inputs` as a list, Vertex
 *   `instances` of scalars or lists);
 * - `tensors`: named tensors with an explicit shape and flat data (KServe V2 inputs).
 */

export interface RawColumns {
  readonly form: "columns";
  readonly rows: number;
  /** Column name → one value per row. Every array has `rows` entries. */
  readonly columns: ReadonlyMap<string, readonly unknown[]>;
  /** True when the values are CSV text, to be parsed by the column's type. */
  readonly text?: boolean;
}

export interface RawRows {
  readonly form: "rows";
  /** One entry per row: a scalar, or a list (a tensor row, or positional column values). */
  readonly rows: readonly unknown[];
}

export interface RawTensor {
  /** KServe V2 datatype as given (`FP32`, `BYTES`...). */
  readonly datatype: string;
  readonly shape: readonly number[];
  /** Flat, row-major; `shape`'s product entries. */
  readonly data: readonly unknown[];
}

export interface RawTensors {
  readonly form: "tensors";
  readonly tensors: ReadonlyMap<string, RawTensor>;
}

export type RawInput = RawColumns | RawRows | RawTensors;
