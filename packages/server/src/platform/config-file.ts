/**
 * The `server:` section of a project file (slipway.yaml): the same settings as `slipway server`'s flags, as a
 * layer below the environment — flags, then SLIPWAY_* variables, then the file, then defaults. Each key maps to
 * its environment variable, so one set of rules (config.ts) reads them all; the file's own mistakes (unknown keys,
 * wrong types, bad choices) are refused here, naming the file and the key.
 *
 *     server:
 *       host: 0.0.0.0
 *       port: 5000
 *       backend_store_uri: postgresql://slipway@db:5432/slipway
 *       artifacts_destination: s3://ml-artifacts/slipway/
 *       auth: true
 *       default_permission: READ
 *       oidc:
 *         issuer: https://login.example.com/realms/ml
 *         client_id: slipway
 *         admin_groups: [ml-admins]
 *
 * Secrets (the OIDC client secret, the bootstrap admin's password) are not read from the file: they belong in the
 * environment (SLIPWAY_OIDC_CLIENT_SECRET, SLIPWAY_ADMIN_PASSWORD) or a secret store.
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
import { ConfigError } from "./config.js";
import { SERVER_SETTINGS, type SettingKind } from "./server-settings.js";

type Kind = SettingKind;

/** The file's keys, their variables and types, from the one table of server settings (server-settings.ts). */
const SERVER_KEYS = fileKeys((key) => (key.includes(".") ? undefined : key));
const OIDC_KEYS = fileKeys((key) => (key.startsWith("oidc.") ? key.slice("oidc.".length) : undefined));
const SECRETS: Readonly<Record<string, string>> = Object.fromEntries(
  SERVER_SETTINGS.filter((setting) => setting.secret).map((setting) => [setting.key, setting.env]),
);

function fileKeys(
  name: (key: string) => string | undefined,
): Readonly<Record<string, readonly [env: string, kind: Kind]>> {
  const keys: Record<string, readonly [string, Kind]> = {};
  for (const setting of SERVER_SETTINGS) {
    const key = name(setting.key);
    if (key !== undefined && !setting.secret) keys[key] = [setting.env, setting.kind];
  }
  return keys;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The file's `server:` settings as SLIPWAY_* variables (none when the file has no `server:` section). Throws a
 * ConfigError naming the file and key for anything it cannot take.
 */
export function serverSettingsFromFile(source: string, file: string): Record<string, string> {
  let document: unknown;
  try {
    document = parseYaml(source);
  } catch (error) {
    if (error instanceof YAMLParseError) throw new ConfigError(`${file}: ${error.message.split("\n")[0]}`);
    throw error;
  }
  if (document === null || document === undefined) return {};
  if (!isObject(document)) throw new ConfigError(`${file}: expected a mapping at the top level`);
  const server = document.server;
  if (server === undefined || server === null) return {};
  if (!isObject(server)) throw new ConfigError(`${file}: server: expected a mapping of settings`);
  const env: Record<string, string> = {};
  read(server, SERVER_KEYS, `${file}: server`, env, ["oidc"]);
  if (server.oidc !== undefined && server.oidc !== null) {
    if (!isObject(server.oidc)) throw new ConfigError(`${file}: server.oidc: expected a mapping of settings`);
    read(server.oidc, OIDC_KEYS, `${file}: server.oidc`, env, []);
  }
  return env;
}

function read(
  section: Record<string, unknown>,
  keys: Readonly<Record<string, readonly [string, Kind]>>,
  where: string,
  env: Record<string, string>,
  nested: readonly string[],
): void {
  for (const [key, value] of Object.entries(section)) {
    if (nested.includes(key)) continue;
    const path = `${where.replace(/^.*: /, "")}.${key}`;
    const secret = SECRETS[path.replace(/^server\./, "")];
    if (secret !== undefined) {
      throw new ConfigError(`${where}.${key}: secrets do not go in the project file; set ${secret} in the environment`);
    }
    const spec = keys[key];
    if (spec === undefined) {
      throw new ConfigError(
        `${where}.${key}: unknown setting (known: ${[...Object.keys(keys), ...nested].join(", ")})`,
      );
    }
    if (value === null || value === undefined) continue;
    env[spec[0]] = text(value, spec[1], `${where}.${key}`);
  }
}

function text(value: unknown, kind: Kind, where: string): string {
  if (Array.isArray(kind)) {
    if (typeof value !== "string" || !kind.includes(value))
      throw new ConfigError(`${where}: expected one of ${kind.join(", ")}`);
    return value;
  }
  switch (kind) {
    case "boolean":
      if (typeof value !== "boolean") throw new ConfigError(`${where}: expected true or false`);
      return String(value);
    case "port":
      if (!(typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 65535)) {
        throw new ConfigError(`${where}: expected a port number (0-65535)`);
      }
      return String(value);
    case "list": {
      const items = typeof value === "string" ? [value] : value;
      if (!Array.isArray(items) || items.some((item) => typeof item !== "string" || item.includes(","))) {
        throw new ConfigError(`${where}: expected a list of names (without commas)`);
      }
      return items.join(",");
    }
    default:
      if (typeof value !== "string" || value.trim() === "")
        throw new ConfigError(`${where}: expected a non-empty string`);
      return value;
  }
}
