/**
 * Artifact repository on a local directory (`file:` URIs and plain paths).
 *
 * Every path is validated, resolved under the root, and checked with realpath so that a symlink
 * inside the root cannot lead a read, write, listing or delete outside it. Writes go to a temp
 * file in the target directory, are fsynced, then renamed over the target (atomic on POSIX).
 * Multipart uploads are not offered: MLflow answers 501 NOT_IMPLEMENTED for local stores too.
 */
import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import type { Stats } from "node:fs";
import { lstat, mkdir, open, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { MlflowError } from "@slipway/protocol";

import {
  checkContentLength,
  compareArtifactNames,
  contentLengthMismatch,
  discardBody,
  isArtifactName,
  validateArtifactPath,
} from "./artifact-repository.js";
import type { ArtifactFile, ArtifactPutOptions, ArtifactRepository } from "./artifact-repository.js";

const TEMP_PREFIX = ".slipway-upload-";
const TEMP_NAME = /^\.slipway-upload-[0-9a-f-]{36}\.tmp$/;

/** Turns a `file:` URI or a plain (absolute or relative) path into an absolute path. */
export function localPathFromUri(uri: string): string {
  const lower = uri.slice(0, "file://".length).toLowerCase();
  if (lower === "file://") {
    try {
      return resolve(fileURLToPath(uri));
    } catch (error) {
      throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid file URI '${uri}'`, {
        cause: error,
      });
    }
  }
  const path = lower.startsWith("file:") ? uri.slice("file:".length) : uri;
  if (path === "") throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid file URI '${uri}'`);
  return isAbsolute(path) ? resolve(path) : resolve(process.cwd(), path);
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Maps a file-system error to an MlflowError; the message names the artifact, not the disk path. */
function fsError(error: unknown, action: string, path: string): MlflowError {
  if (error instanceof MlflowError) return error;
  const code = errnoCode(error);
  const message = `Failed to ${action} artifact '${path}'${code === undefined ? "" : ` (${code})`}`;
  switch (code) {
    case "ENOENT":
      return new MlflowError("RESOURCE_DOES_NOT_EXIST", message, { cause: error });
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new MlflowError("PERMISSION_DENIED", message, { cause: error });
    case "ENOTDIR":
    case "EISDIR":
    case "EEXIST":
    case "ENOTEMPTY":
    case "ENAMETOOLONG":
      return new MlflowError("INVALID_PARAMETER_VALUE", message, { cause: error });
    case "ENOSPC":
    case "EDQUOT":
      return new MlflowError("RESOURCE_EXHAUSTED", message, { cause: error });
    default:
      return new MlflowError("INTERNAL_ERROR", message, { cause: error });
  }
}

function escapes(path: string): MlflowError {
  return new MlflowError("INVALID_PARAMETER_VALUE", `Invalid path '${path}': it resolves outside the artifact root`);
}

function notFound(path: string): MlflowError {
  return new MlflowError("RESOURCE_DOES_NOT_EXIST", `No artifact file at '${path}'`);
}

export class LocalArtifactRepository implements ArtifactRepository {
  readonly uri: string;
  /** Absolute root directory (as configured; it may itself be a symlink). */
  readonly root: string;

  constructor(uriOrPath: string) {
    this.root = localPathFromUri(uriOrPath);
    this.uri = pathToFileURL(this.root).href;
  }

  /** Validates `path` and resolves it lexically under the root. */
  #resolve(path: string): { clean: string; abs: string } {
    const clean = validateArtifactPath(path);
    const abs = clean === "" ? this.root : resolve(this.root, ...clean.split("/"));
    if (!isInside(this.root, abs)) throw escapes(clean);
    return { clean, abs };
  }

  /** The root's real path, or null if the root does not exist yet. */
  async #realRoot(): Promise<string | null> {
    try {
      return await realpath(this.root);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /** Real path of an existing `abs`, checked to be inside the root; null if it does not exist. */
  async #realExisting(clean: string, abs: string): Promise<string | null> {
    const realRoot = await this.#realRoot();
    if (realRoot === null) return null;
    let real: string;
    try {
      real = await realpath(abs);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if (!isInside(realRoot, real)) throw escapes(clean);
    return real;
  }

  /**
   * Creates the directory `absDir` (under the root) and returns its real path. Resolves the
   * deepest existing ancestor first and checks it, so mkdir never follows a symlink outward.
   */
  async #ensureDir(clean: string, absDir: string): Promise<string> {
    await mkdir(this.root, { recursive: true });
    const realRoot = await realpath(this.root);
    const missing: string[] = [];
    let existing = absDir;
    let realExisting: string;
    for (;;) {
      try {
        realExisting = await realpath(existing);
        break;
      } catch (error) {
        if (!isMissing(error) || existing === this.root) throw error;
        missing.unshift(basename(existing));
        existing = dirname(existing);
      }
    }
    if (!isInside(realRoot, realExisting)) throw escapes(clean);
    if (missing.length === 0) {
      if (!(await stat(realExisting)).isDirectory()) {
        throw new MlflowError("INVALID_PARAMETER_VALUE", `Cannot store artifact '${clean}': a parent path is a file`);
      }
      return realExisting;
    }
    const target = join(realExisting, ...missing);
    await mkdir(target, { recursive: true });
    const realTarget = await realpath(target);
    if (!isInside(realRoot, realTarget)) throw escapes(clean);
    return realTarget;
  }

  async put(path: string, body: NodeJS.ReadableStream | Uint8Array, options?: ArtifactPutOptions): Promise<void> {
    let clean = path;
    let tempPath: string | undefined;
    let handle: FileHandle | undefined;
    try {
      const resolved = this.#resolve(path);
      clean = resolved.clean;
      if (clean === "") {
        throw new MlflowError("INVALID_PARAMETER_VALUE", "Cannot store an artifact at the root path");
      }
      const expected = checkContentLength(clean, options?.contentLength);
      const parent = await this.#ensureDir(clean, dirname(resolved.abs));
      const target = join(parent, basename(resolved.abs));
      tempPath = join(parent, `${TEMP_PREFIX}${randomUUID()}.tmp`);
      handle = await open(tempPath, "wx", 0o644);

      let written = 0;
      if (body instanceof Uint8Array) {
        if (expected !== undefined && body.byteLength !== expected) {
          throw contentLengthMismatch(clean, body.byteLength, expected);
        }
        await writeAll(handle, body);
        written = body.byteLength;
      } else {
        // for-await applies backpressure and destroys the stream if the loop exits early.
        for await (const chunk of body) {
          const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
          written += bytes.byteLength;
          if (expected !== undefined && written > expected) {
            throw contentLengthMismatch(clean, written, expected);
          }
          await writeAll(handle, bytes);
        }
        if (expected !== undefined && written !== expected) {
          throw contentLengthMismatch(clean, written, expected);
        }
      }
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(tempPath, target);
      tempPath = undefined;
      await syncDirectory(parent);
    } catch (error) {
      discardBody(body);
      await handle?.close().catch(() => undefined);
      if (tempPath !== undefined) await rm(tempPath, { force: true }).catch(() => undefined);
      throw fsError(error, "store", clean);
    }
  }

  async get(path: string): Promise<{ body: NodeJS.ReadableStream; size: number }> {
    const { clean, abs } = this.#resolve(path);
    let handle: FileHandle | undefined;
    try {
      const real = await this.#realExisting(clean, abs);
      if (real === null || clean === "") throw notFound(clean);
      // O_NONBLOCK: opening a FIFO planted in the root must not hang; it then fails isFile().
      handle = await open(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      const stats = await handle.stat();
      if (!stats.isFile()) throw notFound(clean);
      const body = handle.createReadStream({ autoClose: true });
      handle = undefined;
      return { body, size: stats.size };
    } catch (error) {
      await handle?.close().catch(() => undefined);
      throw fsError(error, "read", clean);
    }
  }

  async list(dir: string): Promise<ArtifactFile[] | null> {
    const { clean, abs } = this.#resolve(dir);
    try {
      const realRoot = await this.#realRoot();
      if (realRoot === null) return clean === "" ? [] : null;
      const real = await this.#realExisting(clean, abs);
      if (real === null) return null;
      let entries;
      try {
        entries = await readdir(real, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
      const files = await Promise.all(
        entries.map(async (entry): Promise<ArtifactFile | null> => {
          if (TEMP_NAME.test(entry.name) || !isArtifactName(entry.name)) return null;
          const full = join(real, entry.name);
          let stats: Stats;
          try {
            if (entry.isSymbolicLink()) {
              const target = await realpath(full);
              if (!isInside(realRoot, target)) return null;
              stats = await stat(target);
            } else {
              stats = await lstat(full);
            }
          } catch (error) {
            if (isMissing(error)) return null; // removed meanwhile, or a dangling symlink
            throw error;
          }
          if (stats.isDirectory()) return { path: entry.name, isDir: true };
          if (stats.isFile()) return { path: entry.name, isDir: false, size: stats.size };
          return null; // sockets, FIFOs, devices are not artifacts
        }),
      );
      return files
        .filter((file): file is ArtifactFile => file !== null)
        .sort((a, b) => compareArtifactNames(a.path, b.path));
    } catch (error) {
      throw fsError(error, "list", clean);
    }
  }

  async delete(path: string): Promise<void> {
    const { clean, abs } = this.#resolve(path);
    try {
      const realRoot = await this.#realRoot();
      if (realRoot === null) return;
      if (clean === "") {
        // Empty the root but keep it: the root is configuration, its contents are data.
        const entries = await readdir(realRoot);
        await Promise.all(entries.map((name) => rm(join(realRoot, name), { recursive: true, force: true })));
        return;
      }
      const realParent = await this.#realExisting(clean, dirname(abs));
      if (realParent === null) return;
      // rm does not follow a symlink in the last component: it removes the link itself.
      await rm(join(realParent, basename(abs)), { recursive: true, force: true });
    } catch (error) {
      if (isMissing(error)) return; // e.g. ENOTDIR: the "parent" is a file, so nothing is there
      throw fsError(error, "delete", clean);
    }
  }
}

/** Writes all of `bytes` at the handle's current position (write() may write only part). */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/** fsyncs a directory so a rename inside it survives a crash (best effort where unsupported). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = errnoCode(error);
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM" && code !== "EBADF") throw error;
  } finally {
    await handle?.close();
  }
}
