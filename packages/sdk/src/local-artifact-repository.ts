/** Artifacts on the local filesystem: `file:///...` URIs and plain paths (non-proxied artifact roots). */
import { constants } from "node:fs";
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { MlflowError, type FileInfo } from "@slipway/protocol";
import {
  isSafeEntryName,
  joinArtifactPath,
  normalizeArtifactPath,
  type ArtifactRepository,
} from "./artifact-repository.js";

export class LocalArtifactRepository implements ArtifactRepository {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private resolve(path: string): string {
    const normal = normalizeArtifactPath(path);
    const full = normal === "" ? this.root : join(this.root, ...normal.split("/"));
    const rel = relative(this.root, full);
    if (rel.startsWith(`..${sep}`) || rel === "..") {
      throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid artifact path '${path}'`);
    }
    return full;
  }

  async putFile(path: string, localFile: string): Promise<void> {
    const target = this.resolve(path);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(localFile, target);
  }

  async putBytes(path: string, data: Uint8Array): Promise<void> {
    const target = this.resolve(path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  }

  async list(dir: string): Promise<FileInfo[]> {
    const normal = normalizeArtifactPath(dir);
    const full = this.resolve(normal);
    let entries;
    try {
      entries = await readdir(full, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return [];
      throw error;
    }
    const out: FileInfo[] = [];
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!isSafeEntryName(entry.name)) continue;
      const path = joinArtifactPath(normal, entry.name);
      const info = await stat(join(full, entry.name)).catch(() => undefined);
      if (!info) continue;
      out.push(info.isDirectory() ? { path, is_dir: true } : { path, is_dir: false, file_size: info.size });
    }
    return out;
  }

  async getFile(path: string, localFile: string): Promise<void> {
    const source = this.resolve(path);
    try {
      if ((await stat(source)).isDirectory()) {
        throw new MlflowError("INVALID_PARAMETER_VALUE", `Artifact '${path}' is a directory`);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `No artifact at '${path}' under ${this.root}`);
      }
      throw error;
    }
    await mkdir(dirname(localFile), { recursive: true });
    const partial = `${localFile}.partial-${process.pid}-${Date.now()}`;
    try {
      await copyFile(source, partial, constants.COPYFILE_FICLONE);
      await rename(partial, localFile);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    const target = this.resolve(path);
    if (target === this.root) {
      throw new MlflowError("INVALID_PARAMETER_VALUE", "Refusing to delete the artifact root");
    }
    await rm(target, { recursive: true, force: true });
  }
}
