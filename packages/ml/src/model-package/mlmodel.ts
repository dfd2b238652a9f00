/**
 * The `MLmodel` file: the YAML document at the root of a model package, laid out as MLflow lays it out
 * (`mlflow.models.Model.to_dict()`, written with PyYAML's `safe_dump`: keys sorted, block style), so
 * MLflow's tools read what Slipway writes and Slipway reads what MLflow writes.
 *
 * ```yaml
 * artifact_path: model
 * flavors:
 *   onnx: {...}
 * mlflow_version: 2.17.2
 * model_size_bytes: 1342
 * model_uuid: 6a2b8a1b1c2b4e6f9a0d3c4b5e6f7a8b
 * run_id: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
 * saved_input_example_info: {artifact_path: input_example.json, type: ndarray, format: tf-serving}
 * signature:
 *   inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
 *   outputs: '...'
 *   params: null
 * utc_time_created: '2024-06-20 09:12:33.123456'
 * ```
 *
 * YAML is read as YAML 1.1, as PyYAML reads it (`yes` is true), except that timestamps stay text.
 * Pure: these functions take and return strings and objects; reading and writing files is the caller's.
 */
import { YAMLError, parse as parseYaml, stringify as stringifyYaml, type Tags } from "yaml";
import { MLmodelError, checkRelativePath, isPlainObject, kindOf, show } from "./errors.js";
import { ONNX_FLAVOR, SLIPWAY_FLAVOR, parseFlavor, type FlavorConfig } from "./flavors.js";
import { parseSignature, signatureToBlock, type ModelSignature } from "./signature.js";

export const MLMODEL_FILE_NAME = "MLmodel";

/** Where and how the input example was saved (`mlflow.models.utils._save_example`). */
export interface SavedInputExampleInfo {
  /** The example file, relative to the package root (`input_example.json`). */
  artifact_path: string;
  /** `ndarray`, `dataframe`, `json_object`, `sparse_matrix_csc`, `sparse_matrix_csr`... */
  type: string;
  /** `tf-serving` for ndarrays. */
  format?: string;
  /** `split` for data frames. */
  pandas_orient?: string;
  /** MLflow ≥ 2.17: the example as a scoring-server request (`serving_input_example.json`). */
  serving_input_path?: string;
  [extra: string]: unknown;
}

export interface MLmodel {
  /** Run-relative path the model was logged under (absent for models saved outside a run). */
  artifact_path?: string;
  /** Flavor name → its configuration; at least one. */
  flavors: Record<string, FlavorConfig>;
  signature?: ModelSignature;
  saved_input_example_info?: SavedInputExampleInfo;
  model_uuid?: string;
  run_id?: string;
  /** UTC, `YYYY-MM-DD HH:MM:SS.ffffff` (Python's `str(datetime.utcnow())`). */
  utc_time_created?: string;
  mlflow_version?: string;
  model_size_bytes?: number;
  metadata?: Record<string, unknown>;
  /** Other top-level keys (MLflow 3's `model_id`, `resources`, ...), kept as they are. */
  extra?: Record<string, unknown>;
}

export interface MLmodelOptions {
  /**
   * The flavors the caller can load. When given, a package none of whose flavors is among them is
   * refused (`flavors: no flavor here can load ...`).
   */
  supportedFlavors?: Iterable<string>;
}

const KNOWN_KEYS = new Set([
  "artifact_path",
  "flavors",
  "signature",
  "saved_input_example_info",
  "model_uuid",
  "run_id",
  "utc_time_created",
  "mlflow_version",
  "model_size_bytes",
  "metadata",
]);

/** `YYYY-MM-DD HH:MM:SS` with an optional fraction: Python's `str(datetime)` omits a zero one. */
const UTC_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?$/;

/** Parses the text of an `MLmodel` file and validates it. Throws `MLmodelError` naming the bad field. */
export function parseMLmodel(yamlText: string, options: MLmodelOptions = {}): MLmodel {
  let raw: unknown;
  try {
    raw = parseYaml(yamlText, {
      version: "1.1",
      // PyYAML turns unquoted timestamps into datetimes; MLflow then reads them back as text
      customTags: (tags: Tags) =>
        tags.filter((t) => (typeof t === "string" ? t : t.tag) !== "tag:yaml.org,2002:timestamp"),
      uniqueKeys: true,
      prettyErrors: true,
    });
  } catch (error) {
    if (error instanceof YAMLError) {
      // the first line says what and where (line, column); the rest is a source excerpt
      const first = (error.message.split("\n", 1)[0] ?? error.message).replace(/:$/, "");
      throw new MLmodelError(MLMODEL_FILE_NAME, `is not valid YAML: ${first}`, { cause: error });
    }
    throw error;
  }
  return mlmodelFromObject(raw, options);
}

/** Validates an MLmodel already parsed from YAML (a plain object) and types it. */
export function mlmodelFromObject(raw: unknown, options: MLmodelOptions = {}): MLmodel {
  if (raw === null || raw === undefined) throw new MLmodelError(MLMODEL_FILE_NAME, "is empty");
  if (!isPlainObject(raw)) throw new MLmodelError(MLMODEL_FILE_NAME, `must be a YAML mapping, got ${kindOf(raw)}`);

  const model: MLmodel = { flavors: parseFlavors(raw.flavors, options.supportedFlavors) };
  const text = (key: string): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === "number" && key === "mlflow_version") return String(value);
    if (typeof value !== "string")
      throw new MLmodelError(key, `must be a string, got ${kindOf(value)} (${show(value)})`);
    return value;
  };
  const artifactPath = text("artifact_path");
  if (artifactPath !== undefined) model.artifact_path = artifactPath;
  const runId = text("run_id");
  if (runId !== undefined) model.run_id = runId;
  const uuid = text("model_uuid");
  if (uuid !== undefined) model.model_uuid = uuid;
  const mlflowVersion = text("mlflow_version");
  if (mlflowVersion !== undefined) model.mlflow_version = mlflowVersion;

  const created = text("utc_time_created");
  if (created !== undefined) {
    if (!isUtcTime(created)) {
      throw new MLmodelError(
        "utc_time_created",
        `${show(created)} is not a UTC time as MLflow writes it (YYYY-MM-DD HH:MM:SS.ffffff)`,
      );
    }
    model.utc_time_created = created;
  }

  const size = raw.model_size_bytes;
  if (size !== undefined && size !== null) {
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw new MLmodelError("model_size_bytes", `must be a whole number of bytes (≥ 0), got ${show(size)}`);
    }
    model.model_size_bytes = size;
  }

  if (raw.signature !== undefined && raw.signature !== null) {
    const signature = parseSignature(raw.signature);
    if (signature.inputs || signature.outputs || signature.params) model.signature = signature;
  }

  const example = raw.saved_input_example_info;
  if (example !== undefined && example !== null) model.saved_input_example_info = parseExampleInfo(example);

  const metadata = raw.metadata;
  if (metadata !== undefined && metadata !== null) {
    if (!isPlainObject(metadata)) throw new MLmodelError("metadata", `must be a mapping, got ${kindOf(metadata)}`);
    model.metadata = metadata;
  }

  const extra = Object.fromEntries(Object.entries(raw).filter(([key]) => !KNOWN_KEYS.has(key)));
  if (Object.keys(extra).length > 0) model.extra = extra;
  return model;
}

function parseFlavors(flavors: unknown, supported: Iterable<string> | undefined): Record<string, FlavorConfig> {
  if (flavors === undefined || flavors === null) {
    throw new MLmodelError("flavors", "is missing; an MLmodel names at least one flavor that can load the model");
  }
  if (!isPlainObject(flavors))
    throw new MLmodelError("flavors", `must be a mapping of flavor names, got ${kindOf(flavors)}`);
  const names = Object.keys(flavors);
  if (names.length === 0) throw new MLmodelError("flavors", "is empty; an MLmodel names at least one flavor");
  const out: Record<string, FlavorConfig> = {};
  for (const name of names) out[name] = parseFlavor(name, flavors[name]);
  if (supported !== undefined) {
    const loadable = [...supported];
    if (!names.some((n) => loadable.includes(n))) {
      throw new MLmodelError(
        "flavors",
        `no flavor here can load this model: it has ${names.map((n) => `'${n}'`).join(", ")}, ` +
          `and the loaders here are for ${loadable.length === 0 ? "no flavor" : loadable.map((n) => `'${n}'`).join(", ")}`,
      );
    }
  }
  return out;
}

function parseExampleInfo(info: unknown): SavedInputExampleInfo {
  const field = "saved_input_example_info";
  if (!isPlainObject(info)) throw new MLmodelError(field, `must be a mapping, got ${kindOf(info)}`);
  if (info.artifact_path === undefined) throw new MLmodelError(`${field}.artifact_path`, "is missing");
  const artifactPath = checkRelativePath(`${field}.artifact_path`, info.artifact_path);
  if (typeof info.type !== "string" || info.type === "") {
    throw new MLmodelError(
      `${field}.type`,
      info.type === undefined ? "is missing" : `must be a string, got ${show(info.type)}`,
    );
  }
  for (const key of ["format", "pandas_orient", "serving_input_path"]) {
    const value = info[key];
    if (value !== undefined && value !== null && typeof value !== "string") {
      throw new MLmodelError(`${field}.${key}`, `must be a string, got ${kindOf(value)}`);
    }
  }
  if (typeof info.serving_input_path === "string")
    checkRelativePath(`${field}.serving_input_path`, info.serving_input_path);
  return { ...info, artifact_path: artifactPath, type: info.type };
}

export function isUtcTime(text: string): boolean {
  const m = UTC_TIME.exec(text);
  if (!m) return false;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59;
}

/** A time as MLflow writes `utc_time_created`: `2024-06-20 09:12:33.123000` (UTC, microseconds). */
export function formatUtcTime(date: Date): string {
  const iso = date.toISOString(); // 2024-06-20T09:12:33.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${iso.slice(20, 23)}000`;
}

/**
 * Checks that the files an MLmodel names are in the package: the data (and code) of the `slipway` and
 * `onnx` flavors and the saved input example. `paths` are the package's files, relative to its root and
 * `/`-separated; a named directory is present when some file lies inside it. Throws `MLmodelError`.
 */
export function checkPackageFiles(model: MLmodel, paths: Iterable<string>): void {
  const files = [...paths];
  const present = (path: string) => files.some((f) => f === path || f.startsWith(`${path}/`));
  const expect = (field: string, value: unknown) => {
    if (typeof value !== "string" || value === "") return;
    const path = checkRelativePath(field, value);
    if (!present(path)) throw new MLmodelError(field, `${show(path)} is not in the package`);
  };
  for (const flavor of [SLIPWAY_FLAVOR, ONNX_FLAVOR]) {
    const config = model.flavors[flavor];
    if (!config) continue;
    expect(`flavors.${flavor}.data`, config.data);
    expect(`flavors.${flavor}.code`, config.code);
  }
  const example = model.saved_input_example_info;
  if (example) {
    expect("saved_input_example_info.artifact_path", example.artifact_path);
    expect("saved_input_example_info.serving_input_path", example.serving_input_path);
  }
}

/** The plain object an MLmodel is written from (MLflow's `Model.to_dict()` shape). */
export function mlmodelToObject(model: MLmodel): Record<string, unknown> {
  const out: Record<string, unknown> = { ...model.extra };
  const put = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  put("artifact_path", model.artifact_path);
  put("flavors", model.flavors);
  put("mlflow_version", model.mlflow_version);
  put("model_size_bytes", model.model_size_bytes);
  put("model_uuid", model.model_uuid);
  put("run_id", model.run_id);
  put("saved_input_example_info", model.saved_input_example_info);
  if (model.signature && (model.signature.inputs || model.signature.outputs || model.signature.params)) {
    out.signature = signatureToBlock(model.signature);
  }
  put("utc_time_created", model.utc_time_created);
  put("metadata", model.metadata);
  return out;
}

/** Validates a typed MLmodel (as `parseMLmodel` would) and returns it normalised. */
export function validateMLmodel(model: MLmodel, options: MLmodelOptions = {}): MLmodel {
  return mlmodelFromObject(mlmodelToObject(model), options);
}

/**
 * The text of an `MLmodel` file, validated first (throws `MLmodelError`). Written as PyYAML's
 * `safe_dump` writes it: keys sorted, block style, list items not indented, strings quoted where
 * YAML 1.1 would read them as something else (timestamps, `yes`, numbers).
 */
export function writeMLmodel(model: MLmodel): string {
  const object = mlmodelToObject(validateMLmodel(model));
  return stringifyYaml(object, {
    version: "1.1",
    sortMapEntries: true,
    indentSeq: false,
    singleQuote: true,
    lineWidth: 0,
    nullStr: "null",
  });
}
