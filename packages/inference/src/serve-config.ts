/**
 * The model server's configuration, parsed once at boot from flags and the environment the platforms
 * set, failing fast with the name of the bad setting.
 *
 * Where the server listens: `--port` / `--host` when given; else Vertex AI's `AIP_HTTP_PORT` (on
 * 0.0.0.0) when set; else in SageMaker mode (`--sagemaker`) `SAGEMAKER_BIND_TO_PORT` or 8080 on 0.0.0.0;
 * else 127.0.0.1:8080. In SageMaker mode the model defaults to `/opt/ml/model`.
 */
import type { BatcherOptions } from "./batching/batcher.js";
import { DEFAULT_BODY_LIMIT } from "./http/app.js";
import { integerSetting } from "./config-values.js";
import { sagemakerSettings } from "./protocols/sagemaker.js";

/** Flags as the CLI parses them (text; validated here). */
export interface ServeFlags {
  port?: string;
  host?: string;
  name?: string[];
  maxBatchSize?: string;
  maxBatchWaitUs?: string;
  queueCapacity?: string;
  bodyLimit?: string;
  sagemaker?: boolean;
}

export interface ServeConfig {
  uris: string[];
  names: string[];
  host: string;
  port: number;
  batching: Required<Pick<BatcherOptions, "maxBatchSize" | "maxWaitMicros" | "queueCapacity">>;
  bodyLimit: number;
  sagemaker: boolean;
}

export class ServeConfigError extends Error {
  override readonly name = "ServeConfigError";
}

export const DEFAULT_SERVE_PORT = 8080;
export const DEFAULT_MAX_BATCH_SIZE = 64;
export const DEFAULT_QUEUE_CAPACITY = 1024;

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
    bodyLimit: integer("--body-limit", flags.bodyLimit, 1024, 1024 * 1024 * 1024) ?? DEFAULT_BODY_LIMIT,
    sagemaker,
  };
}
