/**
 * The gate's models and rows: model packages resolved and downloaded (a baseline whose alias is unset
 * yet is no baseline; a URI that is malformed or names nothing is a usage error), loaded as the model
 * server loads them (`loadServedModel`), checked to read the same input, the candidate package's
 * reference data, and predictions for every row through `ServedModel.predict`.
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import { getSlipwayFlavor, type Table } from "@slipway/ml";
import { MlflowError } from "@slipway/protocol";
import {
  DataFileError,
  loadModelPackage,
  parseModelUri,
  readTable,
  type LoadedModelPackage,
  type TrackingClient,
} from "@slipway/sdk";
import { InferenceError } from "../errors.js";
import { builtinPredictors } from "../predictors/builtin.js";
import { PredictorError, type PredictionBatch } from "../predictors/predictor.js";
import type { PredictorRegistry } from "../predictors/predictor-registry.js";
import { loadServedModel } from "../serving/load-models.js";
import type { ServedModel } from "../serving/served-model.js";
import { describeSchema, inputColumns, rawRows, readPredictions, type RawPredictions } from "./gate-data.js";
import { GateUsageError } from "./gate-error.js";
import type { GateModelInfo } from "./gate-report.js";

/** What loading models takes. */
export interface ModelLoadOptions {
  readonly client: TrackingClient;
  /** Default: the model server's (`builtinPredictors()`). */
  readonly predictors?: PredictorRegistry;
  readonly cacheDir?: string;
  readonly onProgress?: (line: string) => void;
}

/** Rows per prediction call. */
const CHUNK_ROWS = 512;

function notFound(error: unknown): boolean {
  return error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST";
}

/** Usage errors a model URI can cause: malformed, or naming what does not exist. */
export function asUsage(error: unknown, role: string): never {
  if (
    error instanceof MlflowError &&
    (error.code === "INVALID_PARAMETER_VALUE" || error.code === "RESOURCE_DOES_NOT_EXIST")
  ) {
    throw new GateUsageError(`${role}: ${error.message}`, { cause: error });
  }
  throw error;
}

function pinnedUriOf(uri: string, pkg: LoadedModelPackage): string {
  const version = pkg.modelVersion;
  if (version) return `models:/${version.name}/${version.version}`;
  const parsed = parseModelUri(uri);
  return parsed.form === "local" ? parsed.path : uri;
}

export interface Loaded {
  readonly pkg: LoadedModelPackage;
  readonly model: ServedModel;
  readonly info: GateModelInfo;
}

export async function loadPackage(options: ModelLoadOptions, uri: string, role: string): Promise<LoadedModelPackage> {
  const predictors = options.predictors ?? builtinPredictors();
  try {
    return await loadModelPackage(options.client, uri, {
      supportedFlavors: predictors.supportedFlavors(),
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    });
  } catch (error) {
    return asUsage(error, role);
  }
}

/**
 * The baseline's package, or undefined when it does not exist yet: its alias is unset, or no version is
 * in its stage, on a registered model that exists. A model that does not exist at all is a usage error
 * (likely a typo).
 */
export async function loadBaselinePackage(
  options: ModelLoadOptions,
  uri: string,
): Promise<LoadedModelPackage | undefined> {
  let parsed;
  try {
    parsed = parseModelUri(uri);
  } catch (error) {
    return asUsage(error, "--baseline");
  }
  if (parsed.form === "alias" || parsed.form === "stage" || parsed.form === "latest") {
    let aliases: readonly { alias: string }[];
    try {
      aliases = (await options.client.getRegisteredModel({ name: parsed.name })).registered_model.aliases ?? [];
    } catch (error) {
      if (notFound(error)) {
        throw new GateUsageError(`--baseline ${uri}: there is no registered model '${parsed.name}'`, { cause: error });
      }
      throw error;
    }
    if (parsed.form === "alias" && !aliases.some((a) => a.alias === parsed.alias)) return undefined;
    try {
      return await loadPackage(options, uri, "--baseline");
    } catch (error) {
      if (error instanceof GateUsageError && notFound(error.cause)) return undefined;
      throw error;
    }
  }
  return loadPackage(options, uri, "--baseline");
}

export async function serve(
  options: ModelLoadOptions,
  pkg: LoadedModelPackage,
  uri: string,
  role: string,
): Promise<Loaded> {
  const pinnedUri = pinnedUriOf(uri, pkg);
  const model = await loadServedModel(
    {
      client: options.client,
      predictors: options.predictors ?? builtinPredictors(),
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
    { uri: pinnedUri, name: role, source: uri },
  );
  const version = pkg.modelVersion;
  return {
    pkg,
    model,
    info: {
      uri,
      pinnedUri,
      ...(version ? { name: version.name, version: version.version } : {}),
      predictor: model.predictor.kind,
    },
  };
}

/** The candidate package's reference data as the gate's rows. */
export async function referenceData(pkg: LoadedModelPackage, uri: string): Promise<{ table: Table; source: string }> {
  const declared = getSlipwayFlavor(pkg.mlmodel.flavors)?.reference_data;
  const file = typeof declared === "string" ? declared : "reference_data.jsonl";
  const path = join(pkg.dir, file);
  try {
    await access(path);
  } catch {
    throw new GateUsageError(
      `the candidate ${uri} has no reference data (${file}) to evaluate on: give the rows with --data FILE`,
    );
  }
  const source = `${file} of ${uri}`;
  try {
    return { table: await readTable(path, { format: "jsonl" }), source };
  } catch (error) {
    if (error instanceof DataFileError) throw new GateUsageError(`${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The models must read the same input, or they are not being compared on the same rows. */
export function checkSignatures(candidate: Loaded, baseline: Loaded): void {
  const a = describeSchema(candidate.model.signature.inputs);
  const b = describeSchema(baseline.model.signature.inputs);
  if (a !== b) {
    throw new GateUsageError(
      `the candidate and the baseline have different input signatures: ${candidate.info.uri} takes ${a}, ` +
        `${baseline.info.uri} takes ${b}; a gate compares models that answer the same requests`,
    );
  }
}

export async function predictAll(
  loaded: Loaded,
  table: Table,
  labelColumn: string,
  source: string,
): Promise<RawPredictions> {
  const columns = inputColumns(loaded.model.signature, table, labelColumn);
  const batches: PredictionBatch[] = [];
  for (let start = 0; start < table.rowCount; start += CHUNK_ROWS) {
    const end = Math.min(table.rowCount, start + CHUNK_ROWS);
    try {
      batches.push(await loaded.model.predict(rawRows(table, columns, start, end)));
    } catch (error) {
      if ((error instanceof InferenceError && error.status < 500) || error instanceof PredictorError) {
        throw new GateUsageError(
          `rows ${start}–${end - 1} of ${source} do not fit ${loaded.info.uri}: ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  return readPredictions(batches, loaded.model.predictor.labelOutput, `model ${loaded.info.uri}`);
}
