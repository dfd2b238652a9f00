/**
 * The ONNX predictor: a model package with the `onnx` flavor (as MLflow's `mlflow.onnx` writes it, or
 * Slipway's `onnxFlavors`), run with onnxruntime-node on the CPU.
 *
 * - The graph is read twice: `readOnnxModelInfo` (from `@slipway/ml`) gives the inputs' and outputs'
 *   dtypes and shapes (symbolic dimensions included) without running anything; the session runs it.
 * - Signature: the MLmodel's when it has one (a single unnamed tensor spec takes the graph's input name;
 *   named specs must name graph inputs), else one derived from the graph.
 * - Feeds, as MLflow's ONNX loader builds them: tensor batches by name, converted to the graph input's
 *   element type when it differs (JSON numbers for a float32 input); column batches either as one
 *   [N, columns] tensor when the graph has a single input (`DataFrame.values`), or one column per
 *   graph input of the same name.
 * - Session options come from `flavors.onnx.onnx_session_options` (`intra_op_num_threads`,
 *   `inter_op_num_threads`, `execution_mode`, `graph_optimization_level`); `providers` is ignored: this
 *   server runs the CPU provider.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import {
  getOnnxFlavor,
  isPlainObject,
  onnxTensorSpecs,
  readOnnxModelInfo,
  type MLmodel,
  type OnnxModelInfo,
  type OnnxValueInfo,
  type Schema,
  type TensorSpec,
} from "@slipway/ml";
import {
  PredictorError,
  PredictorLoadError,
  type ColumnBatch,
  type InputBatch,
  type OutputTensor,
  type PredictionBatch,
  type Predictor,
  type PredictorSignature,
  type Tensor,
  type TensorBatch,
  type TensorDataMap,
  type TensorDtype,
} from "./predictor.js";
import { allocate, convertData, shapeSize, tensorDtypeOf } from "./tensors.js";

/** Server-wide overrides of the package's session options. */
export interface OnnxPredictorOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
}

/** One graph input as the predictor feeds it. */
interface GraphInput {
  name: string;
  dtype: TensorDtype;
  /** Dimensions; -1 where symbolic or unknown. */
  shape: number[];
}

const ORT_TYPE: Record<TensorDtype, ort.Tensor.Type> = {
  float32: "float32",
  float64: "float64",
  int8: "int8",
  int16: "int16",
  int32: "int32",
  int64: "int64",
  uint8: "uint8",
  uint16: "uint16",
  uint32: "uint32",
  uint64: "uint64",
  bool: "bool",
  str: "string",
};

const DTYPE_OF_ORT = new Map<string, TensorDtype>(
  Object.entries(ORT_TYPE).map(([dtype, type]) => [type, dtype as TensorDtype]),
);

const GRAPH_OPTIMIZATION: Record<number, ort.InferenceSession.SessionOptions["graphOptimizationLevel"]> = {
  0: "disabled",
  1: "basic",
  2: "extended",
  99: "all",
};

/** The `onnx` flavor's loader. */
export function onnxLoader(options: OnnxPredictorOptions = {}): (dir: string, mlmodel: MLmodel) => Promise<Predictor> {
  return (dir, mlmodel) => loadOnnxPredictor(dir, mlmodel, options);
}

export async function loadOnnxPredictor(
  dir: string,
  mlmodel: MLmodel,
  options: OnnxPredictorOptions = {},
): Promise<Predictor> {
  const flavor = getOnnxFlavor(mlmodel.flavors);
  if (!flavor) throw new PredictorLoadError("the package has no 'onnx' flavor");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(dir, flavor.data));
  } catch (error) {
    throw new PredictorLoadError(`cannot read the ONNX model '${flavor.data}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  let info: OnnxModelInfo;
  try {
    info = readOnnxModelInfo(bytes);
  } catch (error) {
    throw new PredictorLoadError(`'${flavor.data}' ${(error as Error).message}`, { cause: error });
  }
  const sessionOptions = sessionOptionsOf(flavor.onnx_session_options, options);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (error) {
    throw new PredictorLoadError(`ONNX Runtime cannot load '${flavor.data}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return new OnnxPredictor(session, info, mlmodel);
  } catch (error) {
    await session.release();
    throw error;
  }
}

function sessionOptionsOf(
  fromPackage: Record<string, unknown> | null | undefined,
  overrides: OnnxPredictorOptions,
): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ["cpu"] };
  if (isPlainObject(fromPackage)) {
    const { intra_op_num_threads, inter_op_num_threads, execution_mode, graph_optimization_level } = fromPackage;
    if (typeof intra_op_num_threads === "number") options.intraOpNumThreads = intra_op_num_threads;
    if (typeof inter_op_num_threads === "number") options.interOpNumThreads = inter_op_num_threads;
    if (execution_mode === "sequential" || execution_mode === "parallel") options.executionMode = execution_mode;
    if (typeof graph_optimization_level === "number" && GRAPH_OPTIMIZATION[graph_optimization_level]) {
      options.graphOptimizationLevel = GRAPH_OPTIMIZATION[graph_optimization_level];
    }
  }
  if (overrides.intraOpNumThreads !== undefined) options.intraOpNumThreads = overrides.intraOpNumThreads;
  if (overrides.interOpNumThreads !== undefined) options.interOpNumThreads = overrides.interOpNumThreads;
  return options;
}

function graphValue(v: OnnxValueInfo, what: string): GraphInput {
  if (v.type.kind !== "tensor") {
    throw new PredictorLoadError(`the graph's ${what} '${v.name}' is a ${v.type.kind}; only tensors are supported`);
  }
  const numpy = v.type.dtype;
  const dtype = numpy === undefined ? undefined : tensorDtypeOf(numpy);
  if (dtype === undefined) {
    throw new PredictorLoadError(
      `the graph's ${what} '${v.name}' has element type ${numpy ?? v.type.elemType}, which this server does not support`,
    );
  }
  const shape = (v.type.shape ?? [null]).map((d) => (typeof d === "number" ? d : -1));
  return { name: v.name, dtype, shape };
}

class OnnxPredictor implements Predictor {
  readonly kind = "onnx";
  readonly platform = "onnx_onnxv1";
  readonly signature: PredictorSignature;
  readonly labelOutput?: string;
  readonly batchable: boolean;
  private readonly inputs: GraphInput[];
  private readonly outputNames: readonly string[];

  constructor(
    private readonly session: ort.InferenceSession,
    info: OnnxModelInfo,
    mlmodel: MLmodel,
  ) {
    const byName = new Map(info.inputs.map((v) => [v.name, v]));
    this.inputs = session.inputNames.map((name) => {
      const v = byName.get(name);
      if (!v) throw new PredictorLoadError(`ONNX Runtime lists input '${name}', which the graph does not declare`);
      return graphValue(v, "input");
    });
    // outputs that are not tensors (skl2onnx's ZipMap `output_probability`, a sequence of maps) cannot
    // cross onnxruntime-node's binding: they are not fetched, and not served
    const outputs = new Map(info.outputs.map((v) => [v.name, v]));
    this.outputNames = session.outputNames.filter((name) => {
      const v = outputs.get(name);
      return (
        v !== undefined &&
        v.type.kind === "tensor" &&
        v.type.dtype !== undefined &&
        tensorDtypeOf(v.type.dtype) !== undefined
      );
    });
    if (this.outputNames.length === 0) {
      throw new PredictorLoadError(
        `none of the graph's outputs (${session.outputNames.join(", ")}) is a tensor of a type this server can return`,
      );
    }
    this.signature = signatureOf(mlmodel, info, this.inputs);
    const label = info.outputs.find((o) => o.name === "label");
    if (label && label.type.kind === "tensor" && (label.type.shape?.length ?? 1) === 1) this.labelOutput = "label";
    this.batchable = this.inputs.every((i) => i.shape.length > 0 && i.shape[0] === -1);
  }

  async predict(batch: InputBatch): Promise<PredictionBatch> {
    const feeds = batch.kind === "tensors" ? this.tensorFeeds(batch) : this.columnFeeds(batch);
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run(feeds, this.outputNames);
    } catch (error) {
      throw new PredictorError(`ONNX Runtime could not run the model on this input: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const outputs = new Map<string, OutputTensor>();
    for (const name of this.outputNames) {
      const value = results[name];
      if (value) outputs.set(name, fromOrt(name, value));
    }
    return { rows: batch.rows, outputs };
  }

  private tensorFeeds(batch: TensorBatch): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.inputs) {
      let tensor = batch.tensors.get(input.name);
      if (!tensor && this.inputs.length === 1 && batch.tensors.size === 1) {
        tensor = batch.tensors.values().next().value;
      }
      if (!tensor) throw new PredictorError(`input tensor '${input.name}' is missing`);
      feeds[input.name] = toOrt(tensor, input.dtype);
    }
    return feeds;
  }

  private columnFeeds(batch: ColumnBatch): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    const rows = batch.rows;
    if (this.inputs.length === 1) {
      // the whole table as one [rows, columns] tensor, columns in signature order
      const input = this.inputs[0]!;
      const columns = [...batch.columns.values()];
      const width = columns.length;
      const data = allocate(input.dtype, rows * width);
      columns.forEach((column, c) => {
        for (let r = 0; r < rows; r++) writeElement(data, input.dtype, r * width + c, column.values[r]);
      });
      const shape = input.shape.length === 1 && width === 1 ? [rows] : [rows, width];
      feeds[input.name] = new ort.Tensor(ORT_TYPE[input.dtype], data, shape);
      return feeds;
    }
    for (const input of this.inputs) {
      const column = batch.columns.get(input.name);
      if (!column) throw new PredictorError(`column '${input.name}' is missing`);
      const data = allocate(input.dtype, rows);
      for (let r = 0; r < rows; r++) writeElement(data, input.dtype, r, column.values[r]);
      const shape = input.shape.length === 2 ? [rows, 1] : [rows];
      feeds[input.name] = new ort.Tensor(ORT_TYPE[input.dtype], data, shape);
    }
    return feeds;
  }

  async warmup(): Promise<void> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.inputs) {
      const shape = input.shape.map((d) => (d === -1 ? 1 : d));
      const data = allocate(input.dtype, shapeSize(shape));
      feeds[input.name] = new ort.Tensor(ORT_TYPE[input.dtype], data, shape);
    }
    await this.session.run(feeds, this.outputNames);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function writeElement(data: TensorDataMap[TensorDtype], dtype: TensorDtype, index: number, value: unknown): void {
  if (dtype === "str") (data as string[])[index] = typeof value === "string" ? value : String(value);
  else if (dtype === "int64" || dtype === "uint64") (data as BigInt64Array)[index] = BigInt(Math.trunc(Number(value)));
  else (data as Float64Array)[index] = Number(value);
}

function toOrt(tensor: Tensor, dtype: TensorDtype): ort.Tensor {
  const data = tensor.dtype === dtype ? tensor.data : convertData(tensor.data, dtype);
  return new ort.Tensor(ORT_TYPE[dtype], data, tensor.shape);
}

function fromOrt(name: string, value: ort.Tensor): OutputTensor {
  const dtype = DTYPE_OF_ORT.get(value.type);
  if (dtype === undefined) {
    throw new Error(`output '${name}' has element type ${value.type}, which this server cannot return`);
  }
  return { dtype, shape: value.dims, data: value.data } as OutputTensor;
}

/** The signature served: the package's, with a single unnamed tensor named after the graph's input. */
function signatureOf(mlmodel: MLmodel, info: OnnxModelInfo, inputs: readonly GraphInput[]): PredictorSignature {
  const declared = mlmodel.signature;
  let inputSchema: Schema;
  if (declared?.inputs) {
    inputSchema = declared.inputs;
    if (inputSchema.kind === "tensors") inputSchema = nameTensors(inputSchema.tensors, inputs);
  } else {
    inputSchema = { kind: "tensors", tensors: derivedSpecs(info.inputs, "input") };
  }
  let outputSchema: Schema | undefined = declared?.outputs;
  if (!outputSchema) {
    try {
      outputSchema = {
        kind: "tensors",
        tensors: onnxTensorSpecs(info.outputs.filter((o) => o.type.kind === "tensor")),
      };
    } catch {
      outputSchema = undefined;
    }
  }
  return {
    inputs: inputSchema,
    ...(outputSchema ? { outputs: outputSchema } : {}),
    ...(declared?.params ? { params: declared.params } : {}),
  };
}

function derivedSpecs(values: readonly OnnxValueInfo[], what: string): TensorSpec[] {
  return values.map((v) => {
    const g = graphValue(v, what);
    return { name: g.name, dtype: g.dtype, shape: g.shape };
  });
}

function nameTensors(specs: readonly TensorSpec[], inputs: readonly GraphInput[]): Schema {
  if (specs.length === 1 && specs[0]!.name === undefined) {
    if (inputs.length !== 1) {
      throw new PredictorLoadError(
        `the signature has one unnamed tensor but the graph has ${inputs.length} inputs (${inputs.map((i) => i.name).join(", ")})`,
      );
    }
    return { kind: "tensors", tensors: [{ ...specs[0]!, name: inputs[0]!.name }] };
  }
  const names = new Set(inputs.map((i) => i.name));
  for (const spec of specs) {
    if (spec.name !== undefined && !names.has(spec.name)) {
      throw new PredictorLoadError(
        `the signature names input tensor '${spec.name}', which the graph does not have (its inputs: ${[...names].join(", ")})`,
      );
    }
  }
  return { kind: "tensors", tensors: [...specs] };
}
