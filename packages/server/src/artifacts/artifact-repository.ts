/**
 * Backend-neutral artifact storage: the interface every store implements, the optional
 * multipart capability, path validation, and conveniences written once on top of the interface.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

import { MlflowError } from "@slipway/protocol";

/** One entry of a directory listing. */
export interface ArtifactFile {
  /** Basename within the listed directory (not the full path), as MLflow's proxy returns it. */
  path: string;
  isDir: boolean;
  /** Size in bytes; set for files, absent for directories. */
  size?: number;
}

export interface ArtifactPutOptions {
  /** Expected body length; a body of another length is rejected and nothing is written. */
  contentLength?: number;
}

/**
 * A tree of artifact files under one root URI. Paths are relative POSIX paths ("" = the root);
 * every method validates its path with {@link validateArtifactPath}.
 */
export interface ArtifactRepository {
  /** The root, e.g. `file:///abs/dir` or `s3://bucket/prefix`. */
  readonly uri: string;
  /** Stores a file. Atomic: readers see the previous version or the whole new one, never a part. */
  put(path: string, body: NodeJS.ReadableStream | Uint8Array, options?: ArtifactPutOptions): Promise<void>;
  /** Opens a file for reading. Throws RESOURCE_DOES_NOT_EXIST if there is no file at `path`. */
  get(path: string): Promise<{ body: NodeJS.ReadableStream; size: number }>;
  /** Direct children of a directory, sorted by name; null if the directory does not exist. */
  list(dir: string): Promise<ArtifactFile[] | null>;
  /** Deletes a file, or a directory recursively ("" = everything). Missing is not an error. */
  delete(path: string): Promise<void>;
}

/** A presigned request a client sends one part of a multipart upload to. */
export interface MultipartUploadCredential {
  url: string;
  part_number: number;
  headers: Record<string, string>;
}

export interface MultipartUploadPart {
  part_number: number;
  etag: string;
}

/** Optional capability: client-side multipart uploads through presigned part URLs. */
export interface MultipartUploads {
  createMultipartUpload(
    path: string,
    numParts: number,
  ): Promise<{ uploadId: string; credentials: MultipartUploadCredential[] }>;
  completeMultipartUpload(path: string, uploadId: string, parts: MultipartUploadPart[]): Promise<void>;
  abortMultipartUpload(path: string, uploadId: string): Promise<void>;
}

export function supportsMultipart(repo: ArtifactRepository): repo is ArtifactRepository & MultipartUploads {
  const r = repo as Partial<MultipartUploads>;
  return (
    typeof r.createMultipartUpload === "function" &&
    typeof r.completeMultipartUpload === "function" &&
    typeof r.abortMultipartUpload === "function"
  );
}

// ---------------------------------------------------------------------------------------------
// Path validation

function invalidPath(path: string, reason: string): MlflowError {
  const shown = path.length > 200 ? `${path.slice(0, 200)}...` : path;
  return new MlflowError("INVALID_PARAMETER_VALUE", `Invalid path ${JSON.stringify(shown)}: ${reason}`);
}

/** NUL and the other C0 control characters, and DEL. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const DRIVE_LETTER = /^[A-Za-z]:/;
const MAX_PERCENT_DECODE_ROUNDS = 8;

/** Decodes %XX escapes of ASCII characters only; malformed or non-ASCII escapes stay literal. */
function decodeAsciiEscapes(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (match: string, hex: string) => {
    const code = Number.parseInt(hex, 16);
    return code < 0x80 ? String.fromCharCode(code) : match;
  });
}

function escapesRoot(s: string): boolean {
  return (
    s.includes("\u0000") ||
    s.includes("\\") ||
    s.startsWith("/") ||
    DRIVE_LETTER.test(s) ||
    s.split("/").some((segment) => segment === "..")
  );
}

/**
 * Checks a client-supplied artifact path and returns it as a clean relative POSIX path
 * ("" for the root). Single "." segments and one trailing "/" are dropped; anything that could
 * leave the root is rejected with INVALID_PARAMETER_VALUE: "..", absolute paths, backslashes,
 * NUL and other control characters, drive letters, and empty segments ("a//b").
 *
 * The caller has already URL-decoded the path once. Percent signs are otherwise literal
 * ("50%.txt" is a fine name), but a path that would escape the root if decoded again
 * ("%2e%2e/x", "%252e%252e/x") is rejected, so a second decoder further down cannot be tricked.
 */
export function validateArtifactPath(path: string): string {
  if (typeof path !== "string") throw invalidPath(String(path), "not a string");
  if (path === "") return "";
  if (hasControlChar(path)) throw invalidPath(path, "contains a control character");
  if (path.includes("\\")) throw invalidPath(path, "contains a backslash");
  if (path.startsWith("/")) throw invalidPath(path, "absolute paths are not allowed");

  const trimmed = path.endsWith("/") ? path.slice(0, -1) : path;
  const segments = trimmed.split("/").filter((segment) => segment !== ".");
  for (const segment of segments) {
    if (segment === "") throw invalidPath(path, "empty path segment");
    if (segment === "..") throw invalidPath(path, "'..' is not allowed");
  }
  const clean = segments.join("/");
  // Checked on the clean path so that "./C:/x" cannot become "C:/x".
  if (DRIVE_LETTER.test(clean)) throw invalidPath(path, "drive letters are not allowed");

  let decoded = clean;
  for (let round = 0; decoded.includes("%"); round++) {
    const next = decodeAsciiEscapes(decoded);
    if (next === decoded) break;
    if (round === MAX_PERCENT_DECODE_ROUNDS) throw invalidPath(path, "nested percent-encoding");
    decoded = next;
    if (escapesRoot(decoded)) throw invalidPath(path, "encoded traversal is not allowed");
  }
  return clean;
}

/**
 * Whether a directory entry's name can be addressed through this API: exactly one valid path
 * segment. Listings skip other names (a file named `a\b`, an S3 key `x//y` or `x/../y` written
 * by another tool) rather than hand out paths every later call would reject.
 */
export function isArtifactName(name: string): boolean {
  if (name === "" || name === "." || name.includes("/")) return false;
  try {
    return validateArtifactPath(name) === name;
  } catch {
    return false;
  }
}

/** Joins two validated relative paths. */
export function joinArtifactPath(dir: string, name: string): string {
  if (dir === "") return name;
  if (name === "") return dir;
  return `${dir}/${name}`;
}

/** Orders names by their UTF-8 bytes, the order S3 lists keys in. */
export function compareArtifactNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Rejects a bad `contentLength` option; returns it (or undefined). */
export function checkContentLength(path: string, contentLength: number | undefined): number | undefined {
  if (contentLength === undefined) return undefined;
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid content length ${String(contentLength)} for artifact '${path}'`,
    );
  }
  return contentLength;
}

export function contentLengthMismatch(path: string, actual: number, expected: number): MlflowError {
  return new MlflowError(
    "INVALID_PARAMETER_VALUE",
    `Artifact '${path}' body has ${actual} bytes but ${expected} were declared; nothing was stored`,
  );
}

/**
 * Closes a body stream that will not be read to the end (no-op for byte arrays). It is destroyed
 * without an error argument: that would emit 'error', which crashes the process if the caller
 * (say, an HTTP layer handing over its request) has no listener. The caller learns of the failure
 * from the rejected promise instead.
 */
export function discardBody(body: NodeJS.ReadableStream | Uint8Array): void {
  if (body instanceof Uint8Array) return;
  const destroyable = body as NodeJS.ReadableStream & { destroy?: () => void };
  if (typeof destroyable.destroy === "function") destroyable.destroy();
  else body.resume();
}

// ---------------------------------------------------------------------------------------------
// Shared conveniences, written once on top of list() and get()

export interface ArtifactFileEntry {
  /** Path relative to the repository root. */
  path: string;
  size: number;
}

const LIST_CONCURRENCY = 8;
const DOWNLOAD_CONCURRENCY = 4;

/** Runs `fn` over `items`, at most `limit` at a time; stops starting new work after a failure. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** All files under `dir`, or null when `dir` is not a directory. */
async function walkFiles(repo: ArtifactRepository, dir: string): Promise<ArtifactFileEntry[] | null> {
  const top = await repo.list(dir);
  if (top === null) return null;
  const files: ArtifactFileEntry[] = [];
  let level: { dir: string; entries: ArtifactFile[] }[] = [{ dir, entries: top }];
  while (level.length > 0) {
    const subdirs: string[] = [];
    for (const { dir: parent, entries } of level) {
      for (const entry of entries) {
        const child = joinArtifactPath(parent, entry.path);
        if (entry.isDir) subdirs.push(child);
        else files.push({ path: child, size: entry.size ?? 0 });
      }
    }
    const nextLevel: { dir: string; entries: ArtifactFile[] }[] = [];
    await forEachLimited(subdirs, LIST_CONCURRENCY, async (sub) => {
      const entries = await repo.list(sub);
      // A directory that vanished between the two listings has no files left to report.
      if (entries !== null) nextLevel.push({ dir: sub, entries });
    });
    level = nextLevel;
  }
  files.sort((a, b) => compareArtifactNames(a.path, b.path));
  return files;
}

/**
 * Every file below `dir`, with paths relative to the repository root, sorted by path.
 * A missing directory yields an empty list.
 */
export async function listRecursive(repo: ArtifactRepository, dir: string): Promise<ArtifactFileEntry[]> {
  return (await walkFiles(repo, validateArtifactPath(dir))) ?? [];
}

export interface DownloadedFile extends ArtifactFileEntry {
  /** Absolute local path the file was written to. */
  localPath: string;
}

/**
 * Copies every file below `dir` into `localDir`, keeping the layout relative to `dir`
 * (`dir/a/b.txt` lands in `localDir/a/b.txt`). Throws RESOURCE_DOES_NOT_EXIST if `dir` is not a
 * directory, and DATA_LOSS if a file's bytes do not match its announced size.
 */
export async function downloadTree(repo: ArtifactRepository, dir: string, localDir: string): Promise<DownloadedFile[]> {
  const base = validateArtifactPath(dir);
  const files = await walkFiles(repo, base);
  if (files === null) {
    throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `No artifact directory at '${base}'`);
  }
  const localRoot = resolve(localDir);
  await mkdir(localRoot, { recursive: true });

  const downloaded: DownloadedFile[] = files.map((file) => {
    const relative = validateArtifactPath(base === "" ? file.path : file.path.slice(base.length + 1));
    const localPath = join(localRoot, ...relative.split("/"));
    if (!localPath.startsWith(localRoot.endsWith(sep) ? localRoot : localRoot + sep)) {
      throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid artifact path '${file.path}'`);
    }
    return { ...file, localPath };
  });

  await forEachLimited(downloaded, DOWNLOAD_CONCURRENCY, async (file) => {
    await mkdir(dirname(file.localPath), { recursive: true });
    const { body, size } = await repo.get(file.path);
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(file.localPath));
      if (received !== size) {
        throw new MlflowError(
          "DATA_LOSS",
          `Artifact '${file.path}' was announced as ${size} bytes but ${received} arrived`,
        );
      }
    } catch (error) {
      await rm(file.localPath, { force: true });
      if (error instanceof MlflowError) throw error;
      throw new MlflowError("INTERNAL_ERROR", `Failed to download artifact '${file.path}'`, {
        cause: error,
      });
    }
  });
  return downloaded;
}
