/**
 * A data plane's own API keys (`--api-keys FILE`), for callers that have no control-plane account:
 * applications calling the LLM server with an OpenAI client, or the model server behind a gateway.
 *
 * The file holds entries `{name, sha256, models?, rpm?, tpm?, admin?}` under `keys:` (YAML or JSON; a bare
 * list works too). `sha256` is the hex SHA-256 of the key: the key itself is never stored, only shown
 * once by `slipway llm keys create`. `models` restricts the key to those model names; `rpm` / `tpm` are
 * the LLM server's per-key limits (requests and tokens per minute); `admin` lets the key read every key's
 * usage. Keys look like `sk-slw-<43 base64url characters>` (256 random bits).
 *
 * Matching hashes the presented key and compares it with every entry's hash in constant time (no early
 * exit), so neither timing nor the number of keys tells a caller how close a guess was.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export const API_KEY_PREFIX = "sk-slw-";

export interface ApiKeyEntry {
  /** Names the key in metrics, usage and logs (never secret). */
  readonly name: string;
  /** Lower-case hex SHA-256 of the key. */
  readonly sha256: string;
  /** Model names the key may use; absent: all. */
  readonly models?: readonly string[];
  /** Requests per minute; absent: unlimited. */
  readonly rpm?: number;
  /** Tokens (prompt + completion) per minute; absent: unlimited. */
  readonly tpm?: number;
  /** May read every key's usage (`GET /v1/usage?key=…`). */
  readonly admin?: boolean;
}

export class ApiKeysError extends Error {
  override readonly name = "ApiKeysError";
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const FIELDS = new Set(["name", "sha256", "models", "rpm", "tpm", "admin"]);

/** A fresh key (shown once; store only `hashApiKey(key)`). */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString("base64url");
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

function limit(where: string, field: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new ApiKeysError(`${where}: '${field}' must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates one entry (`where` names it in messages). */
export function parseApiKeyEntry(value: unknown, where: string): ApiKeyEntry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiKeysError(`${where}: expected an object {name, sha256, models?, rpm?, tpm?, admin?}`);
  }
  const raw = value as Record<string, unknown>;
  for (const field of Object.keys(raw)) {
    if (!FIELDS.has(field)) {
      throw new ApiKeysError(`${where}: unknown field '${field}' (expected name, sha256, models, rpm, tpm, admin)`);
    }
  }
  if (typeof raw.name !== "string" || !NAME.test(raw.name)) {
    throw new ApiKeysError(
      `${where}: 'name' must be 1 to 64 characters (letters, digits, . _ @ : -), got ${JSON.stringify(raw.name)}`,
    );
  }
  if (typeof raw.sha256 !== "string" || !HEX_SHA256.test(raw.sha256.toLowerCase())) {
    throw new ApiKeysError(`${where} (${raw.name}): 'sha256' must be 64 hex digits (the SHA-256 of the key)`);
  }
  const entry: { -readonly [K in keyof ApiKeyEntry]: ApiKeyEntry[K] } = {
    name: raw.name,
    sha256: raw.sha256.toLowerCase(),
  };
  if (raw.models !== undefined && raw.models !== null) {
    if (!Array.isArray(raw.models) || raw.models.some((m) => typeof m !== "string" || m === "")) {
      throw new ApiKeysError(`${where} (${raw.name}): 'models' must be a list of model names`);
    }
    entry.models = [...(raw.models as string[])];
  }
  const rpm = limit(`${where} (${raw.name})`, "rpm", raw.rpm);
  const tpm = limit(`${where} (${raw.name})`, "tpm", raw.tpm);
  if (rpm !== undefined) entry.rpm = rpm;
  if (tpm !== undefined) entry.tpm = tpm;
  if (raw.admin !== undefined && raw.admin !== null) {
    if (typeof raw.admin !== "boolean") throw new ApiKeysError(`${where} (${raw.name}): 'admin' must be true or false`);
    if (raw.admin) entry.admin = true;
  }
  return entry;
}

/** The entries of a keys document (`{keys: [...]}` or a bare list; empty: none), checked for duplicates. */
export function parseApiKeys(document: unknown, source: string): ApiKeyEntry[] {
  if (document === undefined || document === null) return [];
  let list: unknown;
  if (Array.isArray(document)) list = document;
  else if (typeof document === "object") {
    const extra = Object.keys(document).filter((k) => k !== "keys");
    if (extra.length > 0) throw new ApiKeysError(`${source}: unknown field '${extra[0]}' (expected 'keys')`);
    list = (document as { keys?: unknown }).keys ?? [];
  }
  if (!Array.isArray(list)) throw new ApiKeysError(`${source}: expected 'keys:' with a list of keys`);
  const entries = list.map((item, i) => parseApiKeyEntry(item, `${source}: keys[${i}]`));
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const entry of entries) {
    if (names.has(entry.name)) throw new ApiKeysError(`${source}: the key name '${entry.name}' is used twice`);
    if (hashes.has(entry.sha256)) throw new ApiKeysError(`${source}: key '${entry.name}' repeats another key's sha256`);
    names.add(entry.name);
    hashes.add(entry.sha256);
  }
  return entries;
}

/** How a keys file is read and written: JSON by default; the CLI passes YAML's. */
export interface KeysFileFormat {
  parse(text: string): unknown;
  stringify(document: { keys: ApiKeyEntry[] }): string;
}

export const JSON_KEYS_FORMAT: KeysFileFormat = {
  parse: (text) => JSON.parse(text) as unknown,
  stringify: (document) => `${JSON.stringify(document, null, 2)}\n`,
};

/** The keys a server accepts, matched in constant time. */
export class ApiKeyring {
  private readonly hashes: { entry: ApiKeyEntry; digest: Buffer }[];

  constructor(entries: readonly ApiKeyEntry[]) {
    this.hashes = entries.map((entry) => ({ entry, digest: Buffer.from(entry.sha256, "hex") }));
  }

  get size(): number {
    return this.hashes.length;
  }

  entries(): ApiKeyEntry[] {
    return this.hashes.map((h) => h.entry);
  }

  /** The entry whose key this is, or undefined. Every entry is compared (no early exit). */
  match(key: string): ApiKeyEntry | undefined {
    const digest = createHash("sha256").update(key, "utf8").digest();
    let found: ApiKeyEntry | undefined;
    for (const h of this.hashes) {
      if (timingSafeEqual(digest, h.digest)) found = h.entry;
    }
    return found;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ApiKeysError(`cannot read the keys file '${path}': ${(error as Error).message}`);
  }
}

function parseText(text: string, path: string, format: KeysFileFormat): ApiKeyEntry[] {
  let document: unknown;
  try {
    document = text.trim() === "" ? undefined : format.parse(text);
  } catch (error) {
    throw new ApiKeysError(`${path}: not a valid keys file: ${(error as Error).message.split("\n")[0]}`);
  }
  return parseApiKeys(document, path);
}

/** Reads a keys file (it must exist). */
export async function readApiKeysFile(path: string, format: KeysFileFormat = JSON_KEYS_FORMAT): Promise<ApiKeyring> {
  const text = await readText(path);
  if (text === undefined) throw new ApiKeysError(`the keys file '${path}' does not exist (slipway llm keys create)`);
  return new ApiKeyring(parseText(text, path, format));
}

const LOCK_WAIT_MS = 5000;

/**
 * Adds an entry to a keys file (creating it), atomically: under an exclusive lock file, the new document
 * goes to a temporary file beside it (mode 0600), is flushed, and renamed over the old one, so a reader
 * sees either the old file or the new one, and two writers never lose each other's key.
 */
export async function appendApiKeyEntry(
  path: string,
  entry: ApiKeyEntry,
  format: KeysFileFormat = JSON_KEYS_FORMAT,
): Promise<void> {
  const checked = parseApiKeyEntry(entry, "the new key");
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, "wx", 0o600)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new ApiKeysError(`cannot lock '${path}': ${(error as Error).message}`);
      }
      if (Date.now() > deadline) {
        throw new ApiKeysError(`'${lock}' exists: another process is writing the keys file (or left it; remove it)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const text = await readText(path);
    const entries = text === undefined ? [] : parseText(text, path, format);
    if (entries.some((e) => e.name === checked.name)) {
      throw new ApiKeysError(`${path}: a key named '${checked.name}' exists already`);
    }
    entries.push(checked);
    parseApiKeys(entries, path);
    await writeFile(temp, format.stringify({ keys: entries }), { mode: 0o600, flush: true });
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
    await rm(lock, { force: true });
  }
}
