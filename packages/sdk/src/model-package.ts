/**
 * Model packages (a directory with an `MLmodel` file, see docs/model-package.md) through the tracking
 * server: `logModel` uploads one to a run, `registerModel` makes a registry version of one, `setAlias`
 * points an alias at a version, and `loadModelPackage` downloads one into a local content-addressed cache
 * and verifies it. Every package is validated with `@slipway/ml` before anything is uploaded or registered.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  MLMODEL_FILE_NAME,
  MLmodelError,
  SLIPWAY_LOADABLE_FLAVORS,
  checkPackageFiles,
  formatUtcTime,
  parseMLmodel,
  writeMLmodel,
  type MLmodel,
} from "@slipway/ml";
import { MlflowError, type ModelVersion } from "@slipway/protocol";
import { joinArtifactPath, normalizeArtifactPath } from "./artifact-repository.js";
import type { TrackingClient } from "./client.js";
import { listLocalFiles, listPackageFiles, loadIntoCache, type CacheOptions } from "./model-cache.js";
import { formatModelUri, parseModelUri, resolveModelUri, type ResolvedModelUri } from "./model-uri.js";
import type { ActiveRun } from "./run.js";

export { resolveModelCacheDir } from "./model-cache.js";

export interface PackageCheckOptions {
  /** The flavors the package must offer at least one of. Default Slipway's: `slipway`, `onnx`. */
  supportedFlavors?: Iterable<string>;
}

/** Reads and validates an MLmodel's text; errors become `INVALID_PARAMETER_VALUE` naming the package. */
export function readPackageMLmodel(text: string, where: string, options: PackageCheckOptions = {}): MLmodel {
  try {
    return parseMLmodel(text, { supportedFlavors: options.supportedFlavors ?? SLIPWAY_LOADABLE_FLAVORS });
  } catch (error) {
    throw packageError(where, error);
  }
}

function packageError(where: string, error: unknown): unknown {
  if (!(error instanceof MLmodelError)) return error;
  return new MlflowError("INVALID_PARAMETER_VALUE", `Invalid model package ${where}: ${error.message}`, {
    cause: error,
  });
}

function noMLmodel(where: string): MlflowError {
  return new MlflowError(
    "INVALID_PARAMETER_VALUE",
    `${where} is not a model package: it has no ${MLMODEL_FILE_NAME} file at its root`,
  );
}

// ---------------------------------------------------------------------------------------------
// logModel

export interface LogModelOptions extends PackageCheckOptions {
  /** Also register the logged package under this name (created if missing) and return the version. */
  registeredModelName?: string;
  /** Tags of the registered version (with `registeredModelName`). */
  tags?: Record<string, string>;
}

export interface LoggedModel {
  /** `runs:/<run_id>/<artifactPath>`. */
  modelUri: string;
  artifactPath: string;
  /** The MLmodel as uploaded: `run_id` and `artifact_path` set to where it was logged. */
  mlmodel: MLmodel;
  modelVersion?: ModelVersion;
}

/** Runs `fn` over `items`, `limit` at a time; after a failure no new item is started, and the first error is thrown. */
async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;
}

/**
 * Uploads the model package in `localDir` to the run under `artifactPath` and returns its `runs:/` URI.
 * The package is validated first (an `MLmodel` file, a flavor Slipway can load, every data file its
 * flavors name present); nothing is uploaded if it is invalid. The uploaded `MLmodel` records the run and
 * path (`run_id`, `artifact_path`, and `model_uuid` / `utc_time_created` when missing) and is written
 * last, so a package whose `MLmodel` is visible is complete. The model is recorded in the run's
 * `mlflow.log-model.history` tag, as MLflow does; with `registeredModelName` it is also registered.
 */
/** Checks that every file the package's flavors and input example name is present, as a package error. */
function checkFilesOf(mlmodel: MLmodel, files: readonly { path: string }[], where: string): void {
  try {
    checkPackageFiles(
      mlmodel,
      files.map((f) => f.path),
    );
  } catch (error) {
    throw packageError(where, error);
  }
}

export async function logModel(
  run: ActiveRun,
  localDir: string,
  artifactPath: string,
  options: LogModelOptions = {},
): Promise<LoggedModel> {
  const path = normalizeArtifactPath(artifactPath);
  if (path === "") throw new MlflowError("INVALID_PARAMETER_VALUE", "logModel needs an artifact path (e.g. 'model')");
  if (run.ended) throw new MlflowError("INVALID_STATE", `Run ${run.id} has ended; log the model to an active run`);
  const where = `'${localDir}'`;
  let text: string;
  try {
    text = await readFile(join(localDir, MLMODEL_FILE_NAME), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw noMLmodel(where);
    throw error;
  }
  const parsed = readPackageMLmodel(text, where, options);
  const files = await listLocalFiles(localDir);
  checkFilesOf(parsed, files, where);
  const mlmodel: MLmodel = {
    ...parsed,
    run_id: run.id,
    artifact_path: path,
    model_uuid: parsed.model_uuid ?? randomUUID().replaceAll("-", ""),
    utc_time_created: parsed.utc_time_created ?? formatUtcTime(new Date()),
  };
  const repo = run.client.artifacts.repository(run.artifactUri);
  const others = files.filter((f) => f.path !== MLMODEL_FILE_NAME);
  await mapLimit(others, 4, (f) => repo.putFile(joinArtifactPath(path, f.path), f.local));
  await repo.putBytes(joinArtifactPath(path, MLMODEL_FILE_NAME), new TextEncoder().encode(writeMLmodel(mlmodel)));
  await run.client.logModel({ run_id: run.id, model_json: JSON.stringify(logModelHistoryEntry(mlmodel)) });
  const modelUri = formatModelUri({ form: "run", runId: run.id, path });
  const logged: LoggedModel = { modelUri, artifactPath: path, mlmodel };
  if (options.registeredModelName !== undefined) {
    logged.modelVersion = await registerModel(run.client, modelUri, options.registeredModelName, {
      ...(options.supportedFlavors ? { supportedFlavors: options.supportedFlavors } : {}),
      ...(options.tags ? { tags: options.tags } : {}),
    });
  }
  return logged;
}

/** What MLflow's `Model.get_tags_dict()` sends to `runs/log-model`: where, when, and the flavors (without `config`). */
function logModelHistoryEntry(model: MLmodel): Record<string, unknown> {
  return {
    run_id: model.run_id,
    artifact_path: model.artifact_path,
    utc_time_created: model.utc_time_created,
    model_uuid: model.model_uuid,
    flavors: Object.fromEntries(
      Object.entries(model.flavors).map(([name, config]) => {
        const { config: _config, ...rest } = config;
        return [name, rest];
      }),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Inspecting a remote package

interface InspectedPackage {
  resolved: ResolvedModelUri;
  mlmodel: MLmodel;
}

/** Resolves `uri`, lists its files and reads and validates its MLmodel, without downloading the rest. */
async function inspectPackage(
  client: TrackingClient,
  uri: string,
  options: PackageCheckOptions,
): Promise<InspectedPackage> {
  const resolved = await resolveModelUri(client, uri);
  const where = `'${uri}'`;
  const files = await listPackageFiles(client, resolved.artifactUri);
  if (!files.some((f) => f.path === MLMODEL_FILE_NAME)) throw noMLmodel(where);
  const scratch = await mkdtemp(join(tmpdir(), "slipway-mlmodel-"));
  let text: string;
  try {
    const local = join(scratch, MLMODEL_FILE_NAME);
    await client.artifacts.repository(resolved.artifactUri).getFile(MLMODEL_FILE_NAME, local);
    text = await readFile(local, "utf8");
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const mlmodel = readPackageMLmodel(text, where, options);
  checkFilesOf(mlmodel, files, where);
  return { resolved, mlmodel };
}

// ---------------------------------------------------------------------------------------------
// Registry

export interface RegisterModelOptions extends PackageCheckOptions {
  tags?: Record<string, string>;
  description?: string;
  /** How long to wait for a version in PENDING_REGISTRATION to become READY. Default 300 000 ms (MLflow's). */
  awaitReadyMs?: number;
}

function isNotFound(error: unknown): boolean {
  return error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST";
}

/**
 * Registers the package at `uri` (any model URI) as a new version of the registered model `name`,
 * creating the model when it does not exist. The package is checked first (an `MLmodel` with a loadable
 * flavor and its data files); a `runs:/` URI is registered as it is (the server records the run and its
 * storage location), any other by its resolved artifact location. Nothing half-made is left behind: if
 * creating the version fails, a model created by this call is deleted again.
 */
export async function registerModel(
  client: TrackingClient,
  uri: string,
  name: string,
  options: RegisterModelOptions = {},
): Promise<ModelVersion> {
  const { resolved } = await inspectPackage(client, uri, options);
  const parsed = parseModelUri(uri);
  const source = parsed.form === "run" ? formatModelUri(parsed) : resolved.artifactUri;
  const runId = resolved.runId;

  let created = false;
  try {
    await client.getRegisteredModel({ name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await client.createRegisteredModel({ name });
      created = true;
    } catch (createError) {
      // another client created it meanwhile: use it
      if (!(createError instanceof MlflowError) || createError.code !== "RESOURCE_ALREADY_EXISTS") throw createError;
    }
  }

  let version: ModelVersion;
  try {
    version = (
      await client.createModelVersion({
        name,
        source,
        ...(runId === undefined ? {} : { run_id: runId }),
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(options.tags ? { tags: Object.entries(options.tags).map(([key, value]) => ({ key, value })) } : {}),
      })
    ).model_version;
  } catch (error) {
    if (created) {
      try {
        await client.deleteRegisteredModel({ name });
      } catch (cleanupError) {
        throw new AggregateError(
          [error, cleanupError],
          `Registering '${uri}' as '${name}' failed, and deleting the registered model created for it failed too`,
        );
      }
    }
    throw error;
  }
  return awaitReady(client, version, options.awaitReadyMs ?? 300_000);
}

async function awaitReady(client: TrackingClient, version: ModelVersion, timeoutMs: number): Promise<ModelVersion> {
  const deadline = Date.now() + timeoutMs;
  let current = version;
  while (current.status === "PENDING_REGISTRATION") {
    if (Date.now() >= deadline) {
      throw new MlflowError(
        "DEADLINE_EXCEEDED",
        `Version ${current.version} of '${current.name}' is still PENDING_REGISTRATION after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
    current = (await client.getModelVersion({ name: current.name, version: current.version })).model_version;
  }
  if (current.status === "FAILED_REGISTRATION") {
    throw new MlflowError(
      "INVALID_STATE",
      `Registration of version ${current.version} of '${current.name}' failed: ${current.status_message ?? "no reason given"}`,
    );
  }
  return current;
}

/** Points `alias` of the registered model `name` at `version` (the server checks MLflow's alias rules). */
export async function setAlias(
  client: TrackingClient,
  name: string,
  alias: string,
  version: string | number,
): Promise<void> {
  await client.setRegisteredModelAlias({ name, alias, version: String(version) });
}

// ---------------------------------------------------------------------------------------------
// Loading

export interface LoadModelPackageOptions extends PackageCheckOptions, CacheOptions {}

export interface LoadedModelPackage {
  /** The package's local directory (inside the cache: treat it as read-only). */
  dir: string;
  mlmodel: MLmodel;
  /** sha256 (hex) of the package's manifest: its identity in the cache. */
  digest: string;
  /** True when the package came from the cache (after its files were verified). */
  cacheHit: boolean;
  /** Where it was downloaded from. */
  artifactUri: string;
  modelVersion?: ModelVersion;
}

/**
 * Downloads the package at `uri` into the local content-addressed cache (`cacheDir`, else
 * `SLIPWAY_MODEL_CACHE`, else `~/.cache/slipway/models`) and returns its directory and MLmodel. Every
 * file's size and sha256 are checked after a download and again on every cache hit; a cache entry that
 * no longer matches its manifest is downloaded again. Downloads go to a temporary directory that is
 * renamed into place, so the cache never holds a partial package.
 */
export async function loadModelPackage(
  client: TrackingClient,
  uri: string,
  options: LoadModelPackageOptions = {},
): Promise<LoadedModelPackage> {
  const resolved = await resolveModelUri(client, uri);
  const where = `'${uri}'`;
  const files = await listPackageFiles(client, resolved.artifactUri);
  if (!files.some((f) => f.path === MLMODEL_FILE_NAME)) throw noMLmodel(where);
  const entry = await loadIntoCache(client, resolved.artifactUri, files, options, async (dir) => {
    const mlmodel = readPackageMLmodel(await readFile(join(dir, MLMODEL_FILE_NAME), "utf8"), where, options);
    checkFilesOf(mlmodel, files, where);
    return mlmodel;
  });
  return {
    dir: entry.dir,
    mlmodel: entry.value,
    digest: entry.digest,
    cacheHit: entry.cacheHit,
    artifactUri: resolved.artifactUri,
    ...(resolved.modelVersion ? { modelVersion: resolved.modelVersion } : {}),
  };
}
