/**
 * The control plane's configuration: one schema, from flags, then SLIPWAY_* environment, then defaults. The settings,
 * their variables and defaults are listed in server-settings.ts (the guide's configuration reference is rendered
 * from it); a test checks that the variables read here are the ones listed there.
 */
import { isIP } from "node:net";
import { resolve } from "node:path";
import { parseOidcSettings, type OidcFlags, type OidcSettings } from "../modules/auth/oidc-config.js";
import { LOG_LEVELS, PERMISSION_NAMES } from "./server-settings.js";

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
  /** Authenticate every request (`--auth`, SLIPWAY_AUTH=true); see docs/auth.md. */
  auth?: boolean;
  /** With auth: the permission users have where none is recorded (`--default-permission`; MLflow's default READ). */
  defaultPermission?: "READ" | "EDIT" | "MANAGE" | "NO_PERMISSIONS";
  /** `--insecure-no-auth`: bind a non-loopback address without authentication, knowingly. */
  insecureNoAuth?: boolean;
  /** Created at startup unless a user of that name exists (SLIPWAY_ADMIN_USERNAME + SLIPWAY_ADMIN_PASSWORD). */
  bootstrapAdmin?: { username: string; password: string };
  /** Single sign-on for the UI (`--oidc-*`; needs `auth`); see docs/auth.md. */
  oidc?: OidcSettings;
}

/** A bad setting: the message names it and what was wrong. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface ServerFlags extends OidcFlags {
  host?: string;
  port?: string | number;
  backendStoreUri?: string;
  artifactsDestination?: string;
  s3EndpointUrl?: string;
  logLevel?: string;
  /** false: `--no-monitor-scheduler`. */
  monitorScheduler?: boolean;
  uiDir?: string;
  /** `--auth`. */
  auth?: boolean;
  /** `--default-permission`. */
  defaultPermission?: string;
  /** `--insecure-no-auth`. */
  insecureNoAuth?: boolean;
}

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped or bracketed address) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h.startsWith("::ffff:") && isIP(h.slice(7)) === 4) h = h.slice(7);
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(h) || h === "::1";
  return false;
}

function envFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined || text === "") return undefined;
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw new ConfigError(`${name}: '${text}' is not true or false`);
}

export const DEFAULT_DATA_DIR = "slipway-data";

export function defaultStoreUri(cwd = process.cwd()): string {
  return `sqlite:///${resolve(cwd, DEFAULT_DATA_DIR, "slipway.db")}`;
}

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

  // a flag on the command line wins over the environment (the image sets SLIPWAY_AUTH=true)
  const auth = flags.auth ?? (flags.insecureNoAuth ? false : (envFlag(env, "SLIPWAY_AUTH") ?? false));
  const insecureNoAuth =
    flags.insecureNoAuth ?? (flags.auth ? false : (envFlag(env, "SLIPWAY_INSECURE_NO_AUTH") ?? false));
  if (auth && insecureNoAuth) {
    throw new ConfigError("--auth and --insecure-no-auth contradict each other; give one of them");
  }
  if (!auth && !insecureNoAuth && !isLoopbackHost(host)) {
    throw new ConfigError(
      `Refusing to listen on ${host} without authentication: anyone who can reach it could read and change every ` +
        `experiment and model. Start with --auth (env SLIPWAY_AUTH=true; create the first admin with ` +
        `'slipway users create-admin' or SLIPWAY_ADMIN_USERNAME/SLIPWAY_ADMIN_PASSWORD), bind a loopback address ` +
        `(--host 127.0.0.1), or pass --insecure-no-auth if something in front of the server authenticates requests.`,
    );
  }
  const permissionText = (flags.defaultPermission ?? env.SLIPWAY_DEFAULT_PERMISSION ?? "READ").trim().toUpperCase();
  if (!(PERMISSION_NAMES as readonly string[]).includes(permissionText)) {
    throw new ConfigError(`--default-permission: '${permissionText}' is not one of ${PERMISSION_NAMES.join(", ")}`);
  }
  const oidc = parseOidcSettings(flags, env, (message) => new ConfigError(message));
  if (oidc && !auth) {
    throw new ConfigError("--oidc-issuer: single sign-on signs people in to authenticated servers; add --auth");
  }
  const adminUser = env.SLIPWAY_ADMIN_USERNAME?.trim();
  const adminPassword = env.SLIPWAY_ADMIN_PASSWORD;
  if ((adminUser ? 1 : 0) + (adminPassword ? 1 : 0) === 1) {
    throw new ConfigError("SLIPWAY_ADMIN_USERNAME and SLIPWAY_ADMIN_PASSWORD must be set together");
  }

  return {
    host,
    port: Number(portText),
    backendStoreUri,
    artifactsDestination,
    s3,
    logLevel,
    monitorScheduler,
    ...(uiDir === undefined ? {} : { uiDir: resolve(cwd, uiDir) }),
    auth,
    defaultPermission: permissionText as (typeof PERMISSION_NAMES)[number],
    insecureNoAuth,
    ...(adminUser && adminPassword ? { bootstrapAdmin: { username: adminUser, password: adminPassword } } : {}),
    ...(oidc === undefined ? {} : { oidc }),
  };
}
