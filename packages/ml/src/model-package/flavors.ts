/**
 * Flavors: the `flavors` map of an MLmodel file says how each runtime can load the package.
 *
 * - `slipway`: Slipway's own flavor: `{ predictor: "<kind>", data: "<relative path>", version: <n> }`,
 *   the predictor kind that loads it, its data file or directory, and the version of that predictor's
 *   data format.
 * - `onnx`: written exactly as MLflow's `mlflow.onnx` writes it (`onnx_version`, `data: model.onnx`,
 *   `providers`, `onnx_session_options`, `code`), so an ONNX model logged by MLflow's Python client is a
 *   Slipway model too, and one written here is an MLflow model.
 * - `python_function`: the block MLflow adds next to `onnx` (`loader_module: mlflow.onnx`,
 *   `python_version`, `data`, `env`); Slipway does not load it, but keeps and writes it for MLflow.
 *
 * Any other flavor is kept as it is (a mapping) so that packages round-trip unchanged.
 */
import { MLmodelError, checkRelativePath, isPlainObject, kindOf, show } from "./errors.js";

export const SLIPWAY_FLAVOR = "slipway";
export const ONNX_FLAVOR = "onnx";
export const PYTHON_FUNCTION_FLAVOR = "python_function";

/** The flavors Slipway itself can load (the model server may support fewer, or more). */
export const SLIPWAY_LOADABLE_FLAVORS: readonly string[] = [SLIPWAY_FLAVOR, ONNX_FLAVOR];

/** MLflow's default execution providers for ONNX models (GPU first, then CPU). */
export const ONNX_DEFAULT_PROVIDERS: readonly string[] = ["CUDAExecutionProvider", "CPUExecutionProvider"];

export interface SlipwayFlavor {
  /** The predictor kind that loads the package, e.g. `linear`, `text-classifier`. */
  predictor: string;
  /** The predictor's data file or directory, relative to the package root. */
  data: string;
  /** The version of the predictor's data format (a positive integer). */
  version: number;
  [extra: string]: unknown;
}

export interface OnnxFlavor {
  onnx_version: string;
  /** `model.onnx` when MLflow writes it. */
  data: string;
  providers?: string[];
  onnx_session_options?: Record<string, unknown> | null;
  /** A directory of code packaged with the model, or null. */
  code?: string | null;
  [extra: string]: unknown;
}

export interface PythonFunctionFlavor {
  loader_module: string;
  python_version?: string;
  data?: string;
  /** MLflow ≥ 2.0: `{conda: conda.yaml, virtualenv: python_env.yaml}`; older versions: a path. */
  env?: string | { conda?: string; virtualenv?: string };
  code?: string | null;
  [extra: string]: unknown;
}

/** A flavor's configuration: the known ones typed, any other kept as a plain mapping. */
export type FlavorConfig = Record<string, unknown>;

const PREDICTOR_KIND = /^[a-z][a-z0-9]*([._-][a-z0-9]+)*$/;

function optionalString(config: Record<string, unknown>, key: string, field: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new MLmodelError(`${field}.${key}`, `must be a string, got ${kindOf(value)}`);
  return value;
}

/** Validates `flavors.slipway`. */
export function parseSlipwayFlavor(config: unknown, field = `flavors.${SLIPWAY_FLAVOR}`): SlipwayFlavor {
  if (!isPlainObject(config)) throw new MLmodelError(field, `must be a mapping, got ${kindOf(config)}`);
  const { predictor, data, version } = config;
  if (typeof predictor !== "string" || !PREDICTOR_KIND.test(predictor)) {
    throw new MLmodelError(
      `${field}.predictor`,
      predictor === undefined
        ? "is missing; name the predictor kind that loads this package"
        : `${show(predictor)} is not a predictor kind (lower-case letters and digits, joined by '-', '_' or '.')`,
    );
  }
  if (data === undefined) throw new MLmodelError(`${field}.data`, "is missing; give the predictor's data path");
  const path = checkRelativePath(`${field}.data`, data);
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new MLmodelError(
      `${field}.version`,
      version === undefined
        ? "is missing; give the version of the predictor's data format (1, 2, ...)"
        : `must be a positive integer, got ${show(version)}`,
    );
  }
  return { ...config, predictor, data: path, version };
}

/** Validates `flavors.onnx` (as MLflow writes it; an unquoted numeric `onnx_version` is read as text). */
export function parseOnnxFlavor(config: unknown, field = `flavors.${ONNX_FLAVOR}`): OnnxFlavor {
  if (!isPlainObject(config)) throw new MLmodelError(field, `must be a mapping, got ${kindOf(config)}`);
  let version = config.onnx_version;
  if (typeof version === "number") version = String(version);
  if (typeof version !== "string" || version === "") {
    throw new MLmodelError(
      `${field}.onnx_version`,
      version === undefined ? "is missing" : `must be a version string, got ${show(version)}`,
    );
  }
  if (config.data === undefined) throw new MLmodelError(`${field}.data`, "is missing; MLflow writes 'model.onnx'");
  const data = checkRelativePath(`${field}.data`, config.data);
  const out: OnnxFlavor = { ...config, onnx_version: version, data };
  if (config.providers !== undefined && config.providers !== null) {
    if (!Array.isArray(config.providers) || config.providers.some((p) => typeof p !== "string")) {
      throw new MLmodelError(
        `${field}.providers`,
        `must be a list of execution provider names, got ${show(config.providers)}`,
      );
    }
    out.providers = config.providers as string[];
  }
  const options = config.onnx_session_options;
  if (options !== undefined && options !== null && !isPlainObject(options)) {
    throw new MLmodelError(`${field}.onnx_session_options`, `must be a mapping or null, got ${kindOf(options)}`);
  }
  const code = optionalString(config, "code", field);
  if (code !== undefined) checkRelativePath(`${field}.code`, code);
  return out;
}

/** Validates `flavors.python_function` loosely: MLflow's loader needs `loader_module`. */
export function parsePythonFunctionFlavor(
  config: unknown,
  field = `flavors.${PYTHON_FUNCTION_FLAVOR}`,
): PythonFunctionFlavor {
  if (!isPlainObject(config)) throw new MLmodelError(field, `must be a mapping, got ${kindOf(config)}`);
  const loader = config.loader_module;
  if (typeof loader !== "string" || loader === "") {
    throw new MLmodelError(
      `${field}.loader_module`,
      loader === undefined ? "is missing" : `must be a module name, got ${show(loader)}`,
    );
  }
  optionalString(config, "python_version", field);
  const env = config.env;
  if (env !== undefined && env !== null && typeof env !== "string") {
    if (!isPlainObject(env)) throw new MLmodelError(`${field}.env`, `must be a mapping or a path, got ${kindOf(env)}`);
    for (const key of ["conda", "virtualenv"]) optionalString(env, key, `${field}.env`);
  }
  return { ...config, loader_module: loader };
}

/** Validates the configuration of a flavor Slipway knows; others only have to be mappings. */
export function parseFlavor(name: string, config: unknown, field = `flavors.${name}`): FlavorConfig {
  switch (name) {
    case SLIPWAY_FLAVOR:
      return parseSlipwayFlavor(config, field);
    case ONNX_FLAVOR:
      return parseOnnxFlavor(config, field);
    case PYTHON_FUNCTION_FLAVOR:
      return parsePythonFunctionFlavor(config, field);
    default:
      if (!isPlainObject(config)) throw new MLmodelError(field, `must be a mapping, got ${kindOf(config)}`);
      return config;
  }
}

// ---------------------------------------------------------------------------------------------
// Building

/** The `slipway` flavor entry. */
export function slipwayFlavor(options: {
  predictor: string;
  data: string;
  version?: number;
}): Record<string, SlipwayFlavor> {
  return {
    [SLIPWAY_FLAVOR]: parseSlipwayFlavor({
      predictor: options.predictor,
      data: options.data,
      version: options.version ?? 1,
    }),
  };
}

export interface OnnxFlavorOptions {
  /** The `onnx` package version the model was written with, e.g. `1.16.1`. */
  onnxVersion: string;
  /** Default `model.onnx`. */
  data?: string;
  /** Default MLflow's: CUDA, then CPU. */
  providers?: readonly string[];
  sessionOptions?: Record<string, unknown> | null;
  code?: string | null;
  /** Write MLflow's `python_function` block too (default true), so MLflow's pyfunc tools load the model. */
  pythonFunction?: boolean;
  /** `python_function.python_version` (MLflow writes the writer's Python version); omitted when absent. */
  pythonVersion?: string;
  /**
   * `python_function.env`; default MLflow's `{conda: conda.yaml, virtualenv: python_env.yaml}` (those files
   * must then be in the package for MLflow's conda / virtualenv environment managers); null omits it.
   */
  env?: { conda?: string; virtualenv?: string } | null;
}

/** The `onnx` flavor (and MLflow's `python_function` block) exactly as `mlflow.onnx.save_model` writes them. */
export function onnxFlavors(options: OnnxFlavorOptions): Record<string, FlavorConfig> {
  const data = options.data ?? "model.onnx";
  const code = options.code ?? null;
  const flavors: Record<string, FlavorConfig> = {
    [ONNX_FLAVOR]: parseOnnxFlavor({
      code,
      data,
      onnx_session_options: options.sessionOptions ?? null,
      onnx_version: options.onnxVersion,
      providers: [...(options.providers ?? ONNX_DEFAULT_PROVIDERS)],
    }),
  };
  if (options.pythonFunction !== false) {
    const env = options.env === undefined ? { conda: "conda.yaml", virtualenv: "python_env.yaml" } : options.env;
    flavors[PYTHON_FUNCTION_FLAVOR] = parsePythonFunctionFlavor({
      ...(code === null ? {} : { code }),
      data,
      ...(env === null ? {} : { env }),
      loader_module: "mlflow.onnx",
      ...(options.pythonVersion === undefined ? {} : { python_version: options.pythonVersion }),
    });
  }
  return flavors;
}

// ---------------------------------------------------------------------------------------------
// Describing

export interface FlavorDescription {
  flavor: string;
  /** Whether a loader for it was named among the supported flavors. */
  loadable: boolean;
  /** The data file or directory it names, when it names one. */
  data?: string;
  /** One line for people, e.g. `ONNX model model.onnx (onnx 1.16.1; providers: CUDA, CPU)`. */
  summary: string;
}

/**
 * One line per flavor, for `slipway models describe` and error messages. `supported` is the set of
 * flavors the caller can load (default: Slipway's own, `slipway` and `onnx`).
 */
export function describeFlavors(
  flavors: Readonly<Record<string, FlavorConfig>>,
  supported: Iterable<string> = SLIPWAY_LOADABLE_FLAVORS,
): FlavorDescription[] {
  const loadable = new Set(supported);
  return Object.entries(flavors).map(([flavor, config]) => {
    const data = typeof config.data === "string" ? config.data : undefined;
    let summary: string;
    switch (flavor) {
      case SLIPWAY_FLAVOR:
        summary = `Slipway ${String(config.predictor)} predictor, data ${String(config.data)} (format version ${String(config.version)})`;
        break;
      case ONNX_FLAVOR: {
        const providers = Array.isArray(config.providers)
          ? `; providers: ${config.providers.map((p) => String(p).replace(/ExecutionProvider$/, "")).join(", ")}`
          : "";
        summary = `ONNX model ${String(config.data)} (onnx ${String(config.onnx_version)}${providers})`;
        break;
      }
      case PYTHON_FUNCTION_FLAVOR:
        summary = `MLflow python_function via ${String(config.loader_module)}${
          typeof config.python_version === "string" ? ` (Python ${config.python_version})` : ""
        }`;
        break;
      default: {
        const version = Object.entries(config).find(([k, v]) => k.endsWith("_version") && typeof v === "string");
        summary = `${flavor} flavor${version ? ` (${version[0].replace(/_version$/, "")} ${String(version[1])})` : ""}`;
      }
    }
    return {
      flavor,
      loadable: loadable.has(flavor),
      ...(data === undefined ? {} : { data }),
      summary: loadable.has(flavor) ? summary : `${summary} — no loader here`,
    };
  });
}

/** The `slipway` flavor of a validated MLmodel's flavors, if it has one. */
export function getSlipwayFlavor(flavors: Readonly<Record<string, FlavorConfig>>): SlipwayFlavor | undefined {
  const config = flavors[SLIPWAY_FLAVOR];
  return config === undefined ? undefined : parseSlipwayFlavor(config);
}

/** The `onnx` flavor of a validated MLmodel's flavors, if it has one. */
export function getOnnxFlavor(flavors: Readonly<Record<string, FlavorConfig>>): OnnxFlavor | undefined {
  const config = flavors[ONNX_FLAVOR];
  return config === undefined ? undefined : parseOnnxFlavor(config);
}
