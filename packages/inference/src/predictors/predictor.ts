/**
 * The predictor contract: what every model runtime (native `ml` models, ONNX, later GGUF) implements,
 * and the data that flows through it.
 *
 * Protocol adapters (MLflow, KServe V2, SageMaker, Vertex) decode a request into one canonical
 * `InputBatch`, already checked against the predictor's `signature` and converted to the types it asks
 * for; the batcher may merge several requests' batches into one (rows concatenated in order) before
 * calling `predict`, and splits the `PredictionBatch` back by rows. So a predictor:
 *
 * - receives only valid input: every required column / tensor present, of the signature's type, with
 *   `rows` rows (no per-value checks needed on the hot path);
 * - returns one `OutputTensor` per output, each with `rows` as its first dimension, rows in input order;
 * - never keeps a reference to the input after `predict` settles, and may not mutate it;
 * - throws `PredictorError` for a problem with the input it could only see while predicting (answered as
 *   a 400 in the protocol's format); anything else it throws is an internal error (a 500, logged).
 *
 * Column batches (models with a column signature, such as the text classifier):
 *
 * | signature column type      | `Column.kind` | `values`                                  |
 * |----------------------------|---------------|-------------------------------------------|
 * | `double`, `long`, `integer`| `float64`     | `Float64Array` (null → NaN, see `missing`)|
 * | `float`                    | `float32`     | `Float32Array` (null → NaN)               |
 * | `string`                   | `string`      | `string[]` (null → "")                    |
 * | `boolean`                  | `bool`        | `Uint8Array`, 0 or 1 (null → 0)           |
 * | anything else              | `value`       | `unknown[]` as decoded from JSON (null)   |
 *
 * `missing` is present only when an optional column had nulls in this batch (1 = null at that row).
 * Named columns are keyed by name; unnamed (positional) ones by their position as text (`"0"`, `"1"`),
 * as pandas names them.
 *
 * Tensor batches (models with a tensor signature, such as ONNX models logged by MLflow): one
 * `InputTensor` per tensor spec, keyed by name (predictors name unnamed specs, see `signature`), its data
 * flat and row-major in the dtype's typed array (`float32` → Float32Array, `int64` → BigInt64Array,
 * `str` → string[], `bool` → Uint8Array...), its first dimension the batch's `rows`.
 *
 * Loaders: a `PredictorRegistry` maps a package to a loader, by flavor (`onnx`) and, for the `slipway`
 * flavor, by `flavors.slipway.predictor` (`text-classifier`). A loader's `load(dir, mlmodel)` gets the
 * package's local directory (read-only: it may be a shared cache entry) and its parsed MLmodel.
 */
import type { MLmodel, ParamSpec, Schema } from "@slipway/ml";

// ---------------------------------------------------------------------------------------------
// Input

/** The typed values of one column, one entry per row (see the table above). */
export type Column =
  | { readonly kind: "float64"; readonly values: Float64Array; readonly missing?: Uint8Array }
  | { readonly kind: "float32"; readonly values: Float32Array; readonly missing?: Uint8Array }
  | { readonly kind: "string"; readonly values: readonly string[]; readonly missing?: Uint8Array }
  | { readonly kind: "bool"; readonly values: Uint8Array; readonly missing?: Uint8Array }
  | { readonly kind: "value"; readonly values: readonly unknown[] };

export type ColumnKind = Column["kind"];

/** NumPy dtype names (as MLflow's tensor specs write them) that predictors exchange tensors in. */
export type TensorDtype =
  | "float32"
  | "float64"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "bool"
  | "str";

/** The array that holds a tensor of each dtype (flat, row-major). */
export interface TensorDataMap {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  /** 0 or 1. */
  bool: Uint8Array;
  str: string[];
}

/** A tensor of one dtype: `data.length` is the product of `shape`. */
export type Tensor<D extends TensorDtype = TensorDtype> = {
  [K in D]: { readonly dtype: K; readonly shape: readonly number[]; readonly data: TensorDataMap[K] };
}[D];

/** An input tensor: `shape[0]` is the batch's `rows`. */
export type InputTensor = Tensor;

export interface ColumnBatch {
  readonly kind: "columns";
  /** Number of rows (≥ 1). */
  readonly rows: number;
  /** One entry per column of the signature that the request gave (every required one is there). */
  readonly columns: ReadonlyMap<string, Column>;
}

export interface TensorBatch {
  readonly kind: "tensors";
  /** The batch dimension shared by every tensor (≥ 1). */
  readonly rows: number;
  /** One entry per tensor of the signature, keyed by name. */
  readonly tensors: ReadonlyMap<string, InputTensor>;
}

/** The canonical batch every protocol adapter decodes a request into. */
export type InputBatch = ColumnBatch | TensorBatch;

/**
 * Inference parameters of one call, checked against `signature.params` (types; defaults filled in).
 * `predict` gets `undefined` when the request gave none: the predictor uses its defaults. Requests with
 * different parameters are never merged into one call.
 */
export type PredictParams = Readonly<Record<string, unknown>>;

/** What the server knows of a batch beyond its rows. */
export interface PredictContext {
  /** Requests merged into the batch. */
  readonly requests: number;
}

// ---------------------------------------------------------------------------------------------
// Output

/** One output: `shape[0]` is the number of rows of the batch, rows in input order. */
export type OutputTensor = Tensor;

export interface PredictionBatch {
  readonly rows: number;
  /**
   * The outputs in the model's order, e.g. `label` [N] and `probabilities` [N, nClasses] for
   * classifiers, `variable` [N, nTargets] for regressors.
   */
  readonly outputs: ReadonlyMap<string, OutputTensor>;
}

// ---------------------------------------------------------------------------------------------
// Predictor

/**
 * The signature a predictor serves: the package's MLmodel signature when it has one, else one the
 * predictor derives (ONNX: from the graph). Tensor specs are all named (a single unnamed spec takes the
 * model's input name), so KServe's metadata and named-tensor requests can refer to them.
 */
export interface PredictorSignature {
  readonly inputs: Schema;
  /** Describes `PredictionBatch.outputs` when known. */
  readonly outputs?: Schema;
  readonly params?: readonly ParamSpec[];
}

export interface Predictor {
  /** What loaded it: `onnx`, `slipway/text-classifier`... (logs, metadata). */
  readonly kind: string;
  /** KServe V2 `platform` string: `onnx_onnxv1`, `slipway_text-classifier`... */
  readonly platform: string;
  readonly signature: PredictorSignature;
  /**
   * The output that holds class labels (one per row), when the model is a classifier: the server counts
   * predictions per class from it.
   */
  readonly labelOutput?: string;
  /**
   * Whether rows are independent, so that the batcher may merge requests into one call and split the
   * result by rows. False for models whose batch dimension is fixed or whose rows interact.
   */
  readonly batchable: boolean;
  /**
   * Whether `predict` computes on the calling thread (plain JavaScript models) rather than handing the
   * work to native threads (ONNX Runtime). The server moves big batches of such models to a prediction
   * thread, so that its event loop keeps reading requests (threaded-predictor.ts).
   */
  readonly blocking?: boolean;
  /**
   * Predicts one batch. May be called again before an earlier call settles. `context.requests`: how many
   * requests the server merged into the batch (predictors may ignore it).
   */
  predict(batch: InputBatch, params?: PredictParams, context?: PredictContext): Promise<PredictionBatch>;
  /** Runs the model once on a small made-up batch so the first request does not pay for lazy setup. */
  warmup(): Promise<void>;
  /** Releases native resources. No call to `predict` is made after it. */
  close(): Promise<void>;
}

/** Loads the package in `dir` (its parsed MLmodel alongside). Throws `PredictorLoadError` for a bad package. */
export type PredictorLoader = (dir: string, mlmodel: MLmodel) => Promise<Predictor>;

// ---------------------------------------------------------------------------------------------
// Errors

/** A problem with the input that only the predictor could see (answered as a 400, never a 500). */
export class PredictorError extends Error {
  override readonly name = "PredictorError";
}

/** A package a predictor cannot load (bad data file, unsupported operator, unknown flavor). */
export class PredictorLoadError extends Error {
  override readonly name = "PredictorLoadError";
}
