/**
 * The model server's configuration, parsed once at boot from flags and the environment the platforms
 * set, failing fast with the name of the bad setting.
 *
 * Where the server listens: `--port` / `--host` when given; else Vertex AI's `AIP_HTTP_PORT` (on
 * 0.0.0.0) when set; else in SageMaker mode (`--sagemaker`) `SAGEMAKER_BIND_TO_PORT` or 8080 on 0.0.0.0;
 * else 127.0.0.1:8080. In SageMaker mode the model defaults to `/opt/ml/model`.
 *
 * The inference log is on when a tracking server is configured (`--tracking-uri`, else
 * `SLIPWAY_TRACKING_URI` or `MLFLOW_TRACKING_URI`), logging every request unless `--log-sample-rate`
 * says otherwise (0 turns it off); without a tracking server it is off.
 */
import type { BatcherOptions } from "./batching/batcher.js";
import { DEFAULT_BODY_LIMIT } from "./http/app.js";
import { DEFAULT_LOG_MAX_BUFFER, INFERENCE_LOG_PATH } from "./serving/inference-logger.js";
import { integerSetting } from "./config-values.js";
import { sagemakerSettings } from "./protocols/sagemaker.js";
import { loadDataPlaneAuthConfig, type DataPlaneAuthConfig, type DataPlaneAuthFlags } from "./auth/auth-config.js";

/** Flags as the CLI parses them (text; validated here). */
export interface ServeFlags extends DataPlaneAuthFlags {
  port?: string;
  host?: string;
  name?: string[];
  maxBatchSize?: string;
  maxBatchWaitUs?: string;
  queueCapacity?: string;
  predictThreads?: string;
  bodyLimit?: string;
  sagemaker?: boolean;
  /** The tracking server; also where inference logs go. */
  trackingUri?: string;
  /** Fraction of requests logged to the inference log, 0 to 1. */
  logSampleRate?: string;
  /** Most inference log records waiting to be sent. */
  logBuffer?: string;
}

export interface InferenceLogConfig {
  /** The control plane's inference log endpoint (`{trackingUri}/api/2.0/slipway/inference-log`). */
  endpoint: string;
  /** Fraction of requests logged, above 0 and at most 1. */
  sampleRate: number;
  /** Most records waiting to be sent. */
  maxBuffer: number;
}

export interface ServeConfig {
  uris: string[];
  names: string[];
  host: string;
  port: number;
  batching: Required<Pick<BatcherOptions, "maxBatchSize" | "maxWaitMicros" | "queueCapacity">>;
  /** Prediction threads for plain-JavaScript models (0: all on the event loop). */
  predictThreads: number;
  bodyLimit: number;
  sagemaker: boolean;
  /** Present when the inference log is on. */
  inferenceLog?: InferenceLogConfig;
  /** Present when callers are authenticated (`--auth control-plane`, `--api-keys FILE`). */
  auth?: DataPlaneAuthConfig;
}

export class ServeConfigError extends Error {
  override readonly name = "ServeConfigError";
}

export const DEFAULT_SERVE_PORT = 8080;
export const DEFAULT_MAX_BATCH_SIZE = 64;
export const DEFAULT_QUEUE_CAPACITY = 1024;
/** Prediction threads (threaded-predictor.ts): one keeps the event loop reading while big batches compute. */
export const DEFAULT_PREDICT_THREADS = 1;

function integer(setting: string, text: string | undefined, min: number, max: number): number | undefined {
  return integerSetting({ name: setting, text, min, max }, (message) => new ServeConfigError(message));
}

export function loadServeConfig(
  uris: readonly string[],
  flags: ServeFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ServeConfig {
  const sagemaker = flags.sagemaker === true;
  let sm;
  try {
    sm = sagemaker ? sagemakerSettings(env) : undefined;
  } catch (error) {
    throw new ServeConfigError((error as Error).message);
  }
  const aipPort = integer("AIP_HTTP_PORT", env.AIP_HTTP_PORT, 1, 65535);
  const port = integer("--port", flags.port, 0, 65535) ?? aipPort ?? sm?.port ?? DEFAULT_SERVE_PORT;
  const host = flags.host ?? (aipPort !== undefined ? "0.0.0.0" : sm?.host) ?? "127.0.0.1";
  const list = uris.length > 0 ? [...uris] : sm ? [sm.modelDir] : [];
  if (list.length === 0) {
    throw new ServeConfigError(
      "give at least one model URI (models:/NAME@ALIAS, models:/NAME/VERSION, runs:/..., a path)",
    );
  }
  const auth = loadDataPlaneAuthConfig(
    flags,
    flags.trackingUri?.trim() || env.SLIPWAY_TRACKING_URI?.trim() || env.MLFLOW_TRACKING_URI?.trim(),
    (message) => new ServeConfigError(message),
  );
  return {
    uris: list,
    names: flags.name ?? [],
    host,
    port,
    batching: {
      maxBatchSize: integer("--max-batch-size", flags.maxBatchSize, 1, 1_000_000) ?? DEFAULT_MAX_BATCH_SIZE,
      maxWaitMicros: integer("--max-batch-wait-us", flags.maxBatchWaitUs, 0, 60_000_000) ?? 0,
      queueCapacity: integer("--queue-capacity", flags.queueCapacity, 0, 10_000_000) ?? DEFAULT_QUEUE_CAPACITY,
    },
    predictThreads: integer("--predict-threads", flags.predictThreads, 0, 64) ?? DEFAULT_PREDICT_THREADS,
    bodyLimit: integer("--body-limit", flags.bodyLimit, 1024, 1024 * 1024 * 1024) ?? DEFAULT_BODY_LIMIT,
    sagemaker,
    ...inferenceLogConfig(flags, env),
    ...(auth === undefined ? {} : { auth }),
  };
}

function inferenceLogConfig(
  flags: ServeFlags,
  env: Readonly<Record<string, string | undefined>>,
): { inferenceLog?: InferenceLogConfig } {
  const text = flags.logSampleRate;
  let rate: number | undefined;
  if (text !== undefined && text !== "") {
    rate = Number(text);
    if (!/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(text) || !(rate >= 0 && rate <= 1)) {
      throw new ServeConfigError(
        `--log-sample-rate: '${text}' is not a number from 0 to 1 (the fraction of requests logged; 0 turns logging off)`,
      );
    }
  }
  const maxBuffer = integer("--log-buffer", flags.logBuffer, 1, 10_000_000) ?? DEFAULT_LOG_MAX_BUFFER;
  const trackingUri = flags.trackingUri?.trim() || env.SLIPWAY_TRACKING_URI?.trim() || env.MLFLOW_TRACKING_URI?.trim();
  if (!trackingUri) {
    if (rate !== undefined && rate > 0) {
      throw new ServeConfigError(
        "--log-sample-rate: inference logs go to the tracking server; give --tracking-uri or set SLIPWAY_TRACKING_URI",
      );
    }
    return {};
  }
  if (rate === 0) return {};
  let endpoint: URL;
  try {
    endpoint = new URL(trackingUri);
  } catch {
    throw new ServeConfigError(`--tracking-uri: '${trackingUri}' is not a URL`);
  }
  if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") {
    throw new ServeConfigError(`--tracking-uri: '${trackingUri}' is not an http(s) URL of a tracking server`);
  }
  endpoint.pathname = endpoint.pathname.replace(/\/+$/, "") + INFERENCE_LOG_PATH;
  return { inferenceLog: { endpoint: endpoint.toString(), sampleRate: rate ?? 1, maxBuffer } };
}
