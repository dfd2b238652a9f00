/** The control plane's configuration: one schema, from flags, then SLIPWAY_* environment, then defaults. */
import { resolve } from "node:path";

export interface S3Settings {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
}

export interface ServerConfig {
  host: string;
  port: number;
  backendStoreUri: string;
  artifactsDestination: string;
  s3: S3Settings;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Run monitors on their schedules in this process (default true; off for replicas that only serve the API). */
  monitorScheduler: boolean;
  /** The web UI bundle to serve at `/` instead of the installed `@slipway/ui` (`--ui-dir`, SLIPWAY_UI_DIR). */
  uiDir?: string;
}

/** A bad setting: the message names it and what was wrong. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface ServerFlags {
  host?: string;
  port?: string | number;
  backendStoreUri?: string;
  artifactsDestination?: string;
  s3EndpointUrl?: string;
  logLevel?: string;
  /** false: `--no-monitor-scheduler`. */
  monitorScheduler?: boolean;
  uiDir?: string;
}

export const DEFAULT_DATA_DIR = "slipway-data";

export function defaultStoreUri(cwd = process.cwd()): string {
  return `sqlite:///${resolve(cwd, DEFAULT_DATA_DIR, "slipway.db")}`;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function loadServerConfig(
  flags: ServerFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ServerConfig {
  const host = flags.host ?? env.SLIPWAY_HOST ?? "127.0.0.1";
  if (host.trim() === "" || /\s/.test(host)) throw new ConfigError(`--host: '${host}' is not a host name or address`);

  const portText = String(flags.port ?? env.SLIPWAY_PORT ?? "5000");
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    throw new ConfigError(`--port: '${portText}' is not a port number (0-65535)`);
  }

  const backendStoreUri = flags.backendStoreUri ?? env.SLIPWAY_BACKEND_STORE_URI ?? defaultStoreUri(cwd);
  if (!/^(sqlite:\/\/\/|postgres(ql)?(\+psycopg2)?:\/\/)/.test(backendStoreUri)) {
    throw new ConfigError(
      `--backend-store-uri: '${backendStoreUri}' is not supported; use sqlite:///path/to/slipway.db or postgresql://user@host:5432/db`,
    );
  }

  const artifactsDestination =
    flags.artifactsDestination ?? env.SLIPWAY_ARTIFACTS_DESTINATION ?? resolve(cwd, DEFAULT_DATA_DIR, "artifacts");
  if (
    !/^(s3:\/\/[^/]+|file:\/\/|\/|\.|[A-Za-z0-9_])/.test(artifactsDestination) ||
    (/^[a-z][a-z0-9+.-]*:/i.test(artifactsDestination) && !/^(s3|file):/.test(artifactsDestination))
  ) {
    throw new ConfigError(
      `--artifacts-destination: '${artifactsDestination}' is not supported; use a local path, file:///path or s3://bucket/prefix`,
    );
  }

  const logLevel = (flags.logLevel ?? env.SLIPWAY_LOG_LEVEL ?? "warn") as ServerConfig["logLevel"];
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`--log-level: '${String(logLevel)}' is not one of ${LOG_LEVELS.join(", ")}`);

  const s3: S3Settings = {};
  const endpoint =
    flags.s3EndpointUrl ?? env.SLIPWAY_S3_ENDPOINT_URL ?? env.MLFLOW_S3_ENDPOINT_URL ?? env.AWS_ENDPOINT_URL;
  if (endpoint !== undefined) {
    if (!/^https?:\/\//.test(endpoint)) throw new ConfigError(`--s3-endpoint-url: '${endpoint}' is not an http(s) URL`);
    s3.endpoint = endpoint;
    s3.forcePathStyle = true;
  }
  if (env.AWS_REGION) s3.region = env.AWS_REGION;

  const schedulerText = env.SLIPWAY_MONITOR_SCHEDULER?.trim().toLowerCase();
  if (schedulerText !== undefined && !["true", "false", "1", "0", ""].includes(schedulerText)) {
    throw new ConfigError(`SLIPWAY_MONITOR_SCHEDULER: '${schedulerText}' is not true or false`);
  }
  const monitorScheduler = flags.monitorScheduler ?? !(schedulerText === "false" || schedulerText === "0");

  const uiDir = flags.uiDir ?? (env.SLIPWAY_UI_DIR?.trim() || undefined);
  if (uiDir !== undefined && uiDir.trim() === "") throw new ConfigError("--ui-dir: must not be empty");

  return {
    host,
    port: Number(portText),
    backendStoreUri,
    artifactsDestination,
    s3,
    logLevel,
    monitorScheduler,
    ...(uiDir === undefined ? {} : { uiDir: resolve(cwd, uiDir) }),
  };
}
