/**
 * A file written under a temporary name beside its destination and renamed into place only when
 * complete (after an fsync of the file and then of the directory), so the destination holds either the
 * old content or the whole new one, never a part. `abort` removes the temporary file.
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { BatchError } from "./batch-error.js";

export class AtomicFile {
  private done = false;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the temporary file (the destination's directory must exist). */
  static async create(path: string): Promise<AtomicFile> {
    const tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, "wx");
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const why = code === "ENOENT" ? `the directory ${dirname(path)} does not exist` : (error as Error).message;
      throw new BatchError(`cannot write ${path}: ${why}`, { cause: error });
    }
    return new AtomicFile(path, tempPath, handle);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const { bytesWritten } = await this.handle.write(bytes, offset, bytes.byteLength - offset);
      offset += bytesWritten;
    }
  }

  /** Makes the content durable and renames the file into place. */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tempPath, this.path);
    await syncDirectory(dirname(this.path));
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }
}

/** fsync of a directory, so a rename in it survives a crash (a no-op where the platform refuses). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // not supported here (e.g. Windows): the rename is still atomic
  } finally {
    await handle?.close();
  }
}
