/**
 * From model URIs to warm, served models: each URI is resolved through the registry and downloaded into
 * the content-addressed cache by the SDK (`loadModelPackage`), loaded by the predictor its flavor names,
 * warmed up, and wrapped in a `ServedModel`. All or nothing: if one fails, those already loaded are
 * closed and the error names the URI.
 *
 * A model's name is the registered model's for `models:/` URIs, the artifact path's last part for
 * `runs:/` and artifact URIs, the directory's name for local paths — unless the caller names it.
 */
import { basename } from "node:path";
import { loadModelPackage, parseModelUri, type TrackingClient } from "@slipway/sdk";
import type { BatcherOptions } from "../batching/batcher.js";
import type { PredictorRegistry } from "../predictors/predictor-registry.js";
import { ThreadedPredictor } from "../predictors/threaded-predictor.js";
import { PredictorLoadError } from "../predictors/predictor.js";
import { ServedModel, type ModelHooks } from "./served-model.js";

export interface LoadModelsOptions {
  client: TrackingClient;
  uris: readonly string[];
  /** Names for the first URIs, in order (the rest take their derived names). */
  names?: readonly string[];
  predictors: PredictorRegistry;
  batching?: BatcherOptions;
  hooks?: ModelHooks;
  /** The model cache (default: the SDK's, `SLIPWAY_MODEL_CACHE` or `~/.cache/slipway/models`). */
  cacheDir?: string;
  /** Progress lines (`loading models:/spam@champion`). */
  onProgress?: (message: string) => void;
  /**
   * Prediction threads for plain-JavaScript models (their big batches run there, see
   * threaded-predictor.ts); 0 or absent: everything on the event loop.
   */
  predictThreads?: number;
}

/** The name a model is served under when none is given. */
export function modelNameFromUri(uri: string): string {
  const parsed = parseModelUri(uri);
  switch (parsed.form) {
    case "version":
    case "alias":
    case "stage":
    case "latest":
      return parsed.name;
    case "run":
      return parsed.path === "" ? parsed.runId : parsed.path.split("/").pop()!;
    case "local":
      return basename(parsed.path);
    case "artifact":
      return (
        parsed.artifactUri
          .split("/")
          .filter((s) => s !== "")
          .pop() ?? parsed.artifactUri
      );
  }
}

export async function loadServedModels(options: LoadModelsOptions): Promise<ServedModel[]> {
  const { uris, names = [] } = options;
  if (uris.length === 0) throw new Error("no model to serve: give at least one model URI");
  if (names.length > uris.length) {
    throw new Error(`${names.length} names for ${uris.length} model URI${uris.length === 1 ? "" : "s"}`);
  }
  const planned = uris.map((uri, i) => ({ uri, name: names[i] ?? modelNameFromUri(uri) }));
  const seen = new Map<string, string>();
  for (const { uri, name } of planned) {
    if (name === "" || /[/\s]/.test(name)) {
      throw new Error(`'${name}' (for ${uri}) is not a model name: no slashes or spaces; choose one with --name`);
    }
    const other = seen.get(name);
    if (other !== undefined) {
      throw new Error(`${other} and ${uri} would both be served as '${name}'; name one with --name`);
    }
    seen.set(name, uri);
  }
  const loaded: ServedModel[] = [];
  try {
    for (const { uri, name } of planned) loaded.push(await loadOne(options, uri, name));
  } catch (error) {
    await Promise.allSettled(loaded.map((m) => m.close()));
    throw error;
  }
  return loaded;
}

/**
 * Loads, warms and wraps one model. `source` (default `uri`) is what the model says it was loaded from:
 * a hot swap loads `models:/spam/3` for a model that follows `models:/spam@champion`.
 */
export async function loadServedModel(
  options: Omit<LoadModelsOptions, "uris" | "names">,
  model: { uri: string; name: string; source?: string },
): Promise<ServedModel> {
  return loadOne(options, model.uri, model.name, model.source);
}

async function loadOne(
  options: Omit<LoadModelsOptions, "uris" | "names">,
  uri: string,
  name: string,
  source = uri,
): Promise<ServedModel> {
  options.onProgress?.(`loading ${uri} as '${name}'`);
  const pkg = await loadModelPackage(options.client, uri, {
    supportedFlavors: options.predictors.supportedFlavors(),
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
  });
  let predictor;
  try {
    predictor = await options.predictors.load(pkg.dir, pkg.mlmodel);
    if (predictor.blocking === true && (options.predictThreads ?? 0) > 0) {
      const inline = predictor;
      predictor = await ThreadedPredictor.start(inline, pkg.dir, pkg.mlmodel, {
        threads: options.predictThreads!,
      }).catch(async (error: unknown) => {
        await inline.close();
        throw error;
      });
    }
  } catch (error) {
    if (error instanceof PredictorLoadError) {
      throw new PredictorLoadError(`Cannot load '${uri}': ${error.message}`, { cause: error });
    }
    throw error;
  }
  const version = pkg.modelVersion?.version;
  let model: ServedModel;
  try {
    model = new ServedModel({
      name,
      ...(version === undefined ? {} : { version }),
      source,
      predictor,
      ...(options.batching ? { batching: options.batching } : {}),
      ...(options.hooks ? { hooks: options.hooks } : {}),
    });
    await model.start();
  } catch (error) {
    await predictor.close();
    throw new PredictorLoadError(`Cannot serve '${uri}': ${(error as Error).message}`, { cause: error });
  }
  options.onProgress?.(
    `serving '${name}'${version === undefined ? "" : ` version ${version}`} (${predictor.kind}${pkg.cacheHit ? ", from the cache" : ""})`,
  );
  return model;
}
