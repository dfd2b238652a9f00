/**
 * Decoding a KServe V2 / Open Inference Protocol inference request:
 *
 * ```json
 * {"id": "42", "parameters": {...}, "inputs": [{"name", "shape", "datatype", "data", "parameters"?}],
 *  "outputs": [{"name"}]}
 * ```
 *
 * Each input needs a name, a shape of non-negative integers, a datatype this server takes (`BOOL`,
 * `UINT8`…`UINT64`, `INT8`…`INT64`, `FP32`, `FP64`, `BYTES`) and data, nested or flat, with as many
 * elements as the shape holds. Element types are checked later, against the model's signature.
 */
import { isPlainObject, kindOf, show } from "@slipway/ml";
import { badInput } from "../errors.js";
import type { RawTensor, RawTensors } from "../input/raw-input.js";
import { dtypeOfKserve } from "../predictors/tensors.js";

export interface DecodedKserveRequest {
  id: string | undefined;
  raw: RawTensors;
  /** The request's `parameters`, as given. */
  params: unknown;
  /** Requested output names, or undefined for all. */
  outputs: string[] | undefined;
}

const DATATYPES = "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP32, FP64, BYTES";

export function decodeKserveRequest(body: unknown): DecodedKserveRequest {
  if (!isPlainObject(body)) throw badInput(`The inference request must be a JSON object, got ${kindOf(body)}`);
  const { id, inputs, outputs, parameters } = body;
  if (id !== undefined && typeof id !== "string") throw badInput(`'id' must be a string, got ${kindOf(id)}`);
  if (parameters !== undefined && !isPlainObject(parameters)) {
    throw badInput(`'parameters' must be an object, got ${kindOf(parameters)}`);
  }
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw badInput(
      inputs === undefined
        ? "The inference request has no 'inputs'"
        : `'inputs' must be a non-empty list of input tensors, got ${Array.isArray(inputs) ? "an empty list" : kindOf(inputs)}`,
    );
  }
  const tensors = new Map<string, RawTensor>();
  inputs.forEach((input, i) => {
    const t = decodeInput(input, i);
    if (tensors.has(t.name)) throw badInput(`inputs[${i}]: input '${t.name}' is given twice`);
    tensors.set(t.name, t.tensor);
  });
  let names: string[] | undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw badInput(`'outputs' must be a list of {"name": ...}, got ${kindOf(outputs)}`);
    names = outputs.map((o, i) => {
      if (!isPlainObject(o) || typeof o.name !== "string") {
        throw badInput(`outputs[${i}] must be an object with a 'name', got ${show(o)}`);
      }
      return o.name;
    });
  }
  return { id, raw: { form: "tensors", tensors }, params: parameters, outputs: names };
}

function decodeInput(input: unknown, i: number): { name: string; tensor: RawTensor } {
  const at = `inputs[${i}]`;
  if (!isPlainObject(input)) throw badInput(`${at} must be an object, got ${kindOf(input)}`);
  const { name, shape, datatype, data } = input;
  if (typeof name !== "string" || name === "")
    throw badInput(`${at}.name must be a non-empty string, got ${show(name)}`);
  const where = `input '${name}'`;
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 0)) {
    throw badInput(`${where}: 'shape' must be a list of non-negative integers, got ${show(shape)}`);
  }
  if (typeof datatype !== "string") throw badInput(`${where}: 'datatype' must be a string, got ${show(datatype)}`);
  if (dtypeOfKserve(datatype) === undefined) {
    throw badInput(`${where}: datatype ${show(datatype)} is not supported here; use one of ${DATATYPES}`);
  }
  if (!Array.isArray(data)) throw badInput(`${where}: 'data' must be a list, got ${kindOf(data)}`);
  const dims = shape as number[];
  let expected = 1;
  for (const d of dims) expected *= d;
  const flat = flatten(data, where);
  if (flat.length !== expected) {
    throw badInput(`${where}: 'data' has ${flat.length} elements but shape [${dims.join(", ")}] holds ${expected}`);
  }
  checkElements(flat, datatype, where);
  return { name, tensor: { datatype, shape: dims, data: flat } };
}

/** Every element is of the kind the datatype names (BYTES: strings, BOOL: booleans, else numbers). */
function checkElements(data: readonly unknown[], datatype: string, where: string): void {
  const want = datatype === "BYTES" ? "string" : datatype === "BOOL" ? "boolean" : "number";
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== want) {
      throw badInput(
        `${where}: datatype ${datatype} takes ${want}s, but element ${i} of 'data' is ${kindOf(v)} (${show(v)})`,
      );
    }
  }
}

/** Row-major flattening of nested lists; flat data is returned as it is. */
function flatten(data: readonly unknown[], where: string): readonly unknown[] {
  let nested = false;
  for (let i = 0; i < data.length; i++) {
    if (Array.isArray(data[i])) {
      nested = true;
      break;
    }
  }
  if (!nested) return data;
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 32) throw badInput(`${where}: 'data' is nested too deeply`);
    if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else out.push(v);
  };
  walk(data, 0);
  return out;
}
