/**
 * `slipway llm log-model`: one tracked run per GGUF file — the header's facts as params, the file as a
 * `gguf` model package under the run's `model` artifact path — optionally registered as a new version
 * of a registered model and pointed at by an alias. The file is streamed (hash, package, upload), never
 * read into memory.
 */
import { basename } from "node:path";
import { Slipway, logGgufModel, setAlias, type GgufModelInfo, type TrackingClient } from "@slipway/sdk";
import { readGgufModelInfo } from "./gguf-info.js";

export interface LogGgufModelRunOptions {
  client: TrackingClient;
  /** The GGUF file. */
  path: string;
  /** The run's name. */
  runName: string;
  /** Experiment name (created if missing; default: the Default experiment). */
  experiment?: string;
  /** Register the package as a new version of this model. */
  registeredModelName?: string;
  /** Point this alias of the registered model at the new version (needs `registeredModelName`). */
  alias?: string;
  onProgress?: (line: string) => void;
}

export interface LoggedGgufModel {
  runId: string;
  /** `runs:/<run>/model`. */
  modelUri: string;
  info: GgufModelInfo;
  version?: string;
}

/** The params a GGUF run records (MLflow params are text). */
export function ggufParams(info: GgufModelInfo, file: string): Record<string, string> {
  return {
    file,
    architecture: info.architecture,
    ...(info.modelName === undefined ? {} : { model_name: info.modelName }),
    ...(info.contextLength === undefined ? {} : { context_length: String(info.contextLength) }),
    parameter_count: String(info.parameterCount),
    quantization: info.quantization,
    chat_template: String(info.hasChatTemplate),
    size_bytes: String(info.sizeBytes),
  };
}

export async function logGgufModelRun(options: LogGgufModelRunOptions): Promise<LoggedGgufModel> {
  if (options.alias !== undefined && options.registeredModelName === undefined) {
    throw new Error("an alias needs a registered model: give --register MODEL with --alias");
  }
  // the header first: a file that is not GGUF fails before any run exists
  const info = await readGgufModelInfo(options.path);
  const slipway = new Slipway({ client: options.client, handleProcessExit: false });
  return slipway.withRun(
    {
      runName: options.runName,
      ...(options.experiment === undefined ? {} : { experiment: options.experiment }),
      params: ggufParams(info, basename(options.path)),
      captureEnvironment: false,
      logGitDiff: false,
    },
    async (run) => {
      options.onProgress?.(
        `run ${run.id}: uploading ${basename(options.path)} (${info.architecture}, ${info.quantization}, ` +
          `${(info.sizeBytes / 1e6).toFixed(1)} MB)`,
      );
      const logged = await logGgufModel(run, options.path, info, {
        ...(options.registeredModelName === undefined ? {} : { registeredModelName: options.registeredModelName }),
      });
      const version = logged.modelVersion?.version;
      if (options.alias !== undefined && version !== undefined) {
        await setAlias(options.client, options.registeredModelName!, options.alias, version);
      }
      return { runId: run.id, modelUri: logged.modelUri, info, ...(version === undefined ? {} : { version }) };
    },
  );
}
