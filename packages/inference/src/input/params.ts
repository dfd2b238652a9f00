/**
 * Inference parameters (`params` in MLflow requests, `parameters` in KServe and Vertex requests), checked
 * against the signature's `params` as MLflow checks them: each declared parameter of its type (a scalar,
 * or a list for shape `[-1]`), missing ones take their defaults, undeclared ones are ignored (MLflow logs
 * a warning and drops them). A model without declared params ignores every parameter.
 */
import { checkValue, describeColumnType, isPlainObject, kindOf, type ParamSpec } from "@slipway/ml";
import { badInput } from "../errors.js";
import type { PredictParams } from "../predictors/predictor.js";

/** Checks the parameters of one request; undefined when there are none to pass. */
export type ParamsChecker = (given: unknown) => PredictParams | undefined;

export function compileParams(specs: readonly ParamSpec[] | undefined, field = "params"): ParamsChecker {
  if (!specs || specs.length === 0) {
    return (given) => {
      if (given !== undefined && given !== null && !isPlainObject(given)) notAnObject(field, given);
      return undefined;
    };
  }
  const described = specs.map((s) => ({
    spec: s,
    expected: s.shape === null ? describeColumnType(s.type) : `a list of ${describeColumnType(s.type)}`,
  }));
  return (given) => {
    if (given === undefined || given === null) return undefined;
    if (!isPlainObject(given)) notAnObject(field, given);
    const out: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const { spec, expected } of described) {
      const value = given[spec.name];
      if (value === undefined || value === null) {
        out[spec.name] = spec.default;
        continue;
      }
      const found = checkParam(value, spec);
      if (found === undefined) out[spec.name] = value;
      else problems.push(`parameter '${spec.name}' expects ${expected} but got ${found}`);
    }
    if (problems.length > 0) throw badInput(`Invalid ${field}: ${problems.join("; ")}`);
    return out;
  };
}

function notAnObject(field: string, given: unknown): never {
  throw badInput(`${field} must be a JSON object of parameter values, got ${kindOf(given)}`);
}

function checkParam(value: unknown, spec: ParamSpec): string | undefined {
  if (spec.shape === null) return checkValue(value, spec.type);
  if (!Array.isArray(value)) return kindOf(value);
  for (let i = 0; i < value.length; i++) {
    const found = checkValue(value[i], spec.type);
    if (found !== undefined) return `a list with ${found} at [${i}]`;
  }
  return undefined;
}
