/**
 * How clients prove who they are, the way MLflow's clients do: `MLFLOW_TRACKING_TOKEN` becomes a bearer token;
 * `MLFLOW_TRACKING_USERNAME` + `MLFLOW_TRACKING_PASSWORD` become HTTP basic; otherwise the token that
 * `slipway login` saved for the tracking URI in the credentials file (`~/.slipway/credentials`, or
 * `SLIPWAY_CREDENTIALS_FILE`). The file holds API tokens only, never passwords, and is written with mode 0600.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const CREDENTIALS_FILE_ENV = "SLIPWAY_CREDENTIALS_FILE";

export interface CredentialsEntry {
  /** An API token (`slw_…`). */
  token: string;
  /** Who it belongs to, for display. */
  username?: string;
  /** Epoch milliseconds when it was saved. */
  saved: number;
}

export interface CredentialsFileContent {
  version: 1;
  /** Keyed by normalised tracking URI. */
  servers: Record<string, CredentialsEntry>;
}

export function credentialsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[CREDENTIALS_FILE_ENV]?.trim();
  return override ? override : join(homedir(), ".slipway", "credentials");
}

/** The key of a tracking URI in the file: scheme, host and path, without credentials or a trailing slash. */
export function credentialsKey(trackingUri: string): string {
  try {
    const url = new URL(trackingUri);
    url.username = "";
    url.password = "";
    url.search = "";
    url.hash = "";
    return url.toString().replace(/\/+$/, "");
  } catch {
    return trackingUri.replace(/\/+$/, "");
  }
}

/** The Authorization header the MLflow environment variables ask for, if any (the token wins, as in MLflow). */
export function authorizationFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = env.MLFLOW_TRACKING_TOKEN?.trim();
  if (token) return `Bearer ${token}`;
  const username = env.MLFLOW_TRACKING_USERNAME;
  const password = env.MLFLOW_TRACKING_PASSWORD;
  if (username && password !== undefined) {
    return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
  }
  return undefined;
}

export async function readCredentialsFile(path: string): Promise<CredentialsFileContent> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, servers: {} };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON; delete it and run 'slipway login' again`);
  }
  const servers = (parsed as { servers?: unknown } | null)?.servers;
  if (typeof servers !== "object" || servers === null || Array.isArray(servers)) {
    throw new Error(`${path} is not a Slipway credentials file; delete it and run 'slipway login' again`);
  }
  return { version: 1, servers: servers as Record<string, CredentialsEntry> };
}

/** The saved token for a tracking URI, or undefined. */
export async function savedToken(
  trackingUri: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const content = await readCredentialsFile(credentialsFilePath(env));
  const token = content.servers[credentialsKey(trackingUri)]?.token;
  return typeof token === "string" && token !== "" ? token : undefined;
}

/**
 * Saves (or with `entry` undefined, removes) the entry for a tracking URI. The new file is written beside the old
 * one with mode 0600 and renamed over it, so a reader never sees half a file and the secret is never world-readable.
 */
export async function saveCredentials(
  trackingUri: string,
  entry: CredentialsEntry | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = credentialsFilePath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const content = await readCredentialsFile(path);
  const key = credentialsKey(trackingUri);
  if (entry) content.servers[key] = entry;
  else delete content.servers[key];
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return path;
}

/** What to tell someone whose request was refused for lack of (valid) credentials. */
export function authenticationHint(trackingUri: string): string {
  return (
    `set MLFLOW_TRACKING_TOKEN (an API token), or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, ` +
    `or run 'slipway login --tracking-uri ${trackingUri}'`
  );
}
