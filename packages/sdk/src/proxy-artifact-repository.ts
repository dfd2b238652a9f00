/**
 * Artifacts through the tracking server's proxy (`mlflow-artifacts:` URIs):
 * `PUT|GET|DELETE /api/2.0/mlflow-artifacts/artifacts/<path>` and
 * `GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>` → `{files: [{path: basename, is_dir, file_size}]}`.
 * Uploads and downloads are streamed; every path segment is percent-encoded.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, extname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { MlflowError, parseJson, type FileInfo } from "@slipway/protocol";
import {
  isSafeEntryName,
  joinArtifactPath,
  normalizeArtifactPath,
  type ArtifactRepository,
} from "./artifact-repository.js";
import type { HttpTransport } from "./http-transport.js";
import { encodeQuery } from "./query-string.js";

const PROXY = "/api/2.0/mlflow-artifacts/artifacts";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".json": "application/json",
  ".txt": "text/plain",
  ".log": "text/plain",
  ".md": "text/markdown",
  ".yaml": "application/x-yaml",
  ".yml": "application/x-yaml",
  ".csv": "text/csv",
  ".html": "text/html",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".patch": "text/x-diff",
  ".diff": "text/x-diff",
};

function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/** `a/b c/d%` → `a/b%20c/d%25`: each segment percent-encoded, slashes kept. */
export function encodeArtifactPath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export interface ProxyArtifactRepositoryOptions {
  transport: HttpTransport;
  /** The URI's path below the proxy root, e.g. `1/<run_id>/artifacts`. */
  root: string;
  /** Per request; uploads and downloads can be long. Default: 30 minutes. 0 = none. */
  timeoutMs?: number;
}

export class ProxyArtifactRepository implements ArtifactRepository {
  private readonly transport: HttpTransport;
  readonly root: string;
  private readonly timeoutMs: number;

  constructor(options: ProxyArtifactRepositoryOptions) {
    this.transport = options.transport;
    this.root = normalizeArtifactPath(options.root);
    this.timeoutMs = options.timeoutMs ?? 30 * 60_000;
  }

  private url(path: string): string {
    const full = joinArtifactPath(this.root, path);
    return full === "" ? PROXY : `${PROXY}/${encodeArtifactPath(full)}`;
  }

  async putFile(path: string, localFile: string): Promise<void> {
    const info = await stat(localFile);
    if (!info.isFile()) throw new MlflowError("INVALID_PARAMETER_VALUE", `'${localFile}' is not a file`);
    await this.transport.request({
      method: "PUT",
      path: this.url(path),
      headers: { "content-type": contentType(path), "content-length": String(info.size) },
      // A fresh stream per attempt, so a retry re-reads the file rather than a buffer.
      body: () => createReadStream(localFile),
      timeoutMs: this.timeoutMs,
      read: drain,
    });
  }

  async putBytes(path: string, data: Uint8Array): Promise<void> {
    await this.transport.request({
      method: "PUT",
      path: this.url(path),
      headers: { "content-type": contentType(path) },
      body: () => data,
      timeoutMs: this.timeoutMs,
      read: drain,
    });
  }

  async list(dir: string): Promise<FileInfo[]> {
    const normal = normalizeArtifactPath(dir);
    const answer = await this.transport.request({
      method: "GET",
      path: PROXY + encodeQuery({ path: joinArtifactPath(this.root, normal) }),
      headers: { accept: "application/json" },
      timeoutMs: this.timeoutMs,
      read: async (response) => {
        const text = await response.text();
        return (text.trim() === "" ? {} : parseJson(text)) as { files?: FileInfo[] };
      },
    });
    const out: FileInfo[] = [];
    for (const file of answer.files ?? []) {
      // The proxy answers with basenames; anything else would let a listing escape the directory.
      if (!isSafeEntryName(file.path)) {
        throw new MlflowError("INVALID_STATE", `The server listed an unsafe artifact name '${file.path}'`);
      }
      const path = joinArtifactPath(normal, file.path);
      out.push(file.is_dir ? { path, is_dir: true } : { path, is_dir: false, file_size: file.file_size ?? 0 });
    }
    return out;
  }

  async getFile(path: string, localFile: string): Promise<void> {
    await mkdir(dirname(localFile), { recursive: true });
    const partial = `${localFile}.partial-${process.pid}-${Date.now()}`;
    try {
      await this.transport.request({
        method: "GET",
        path: this.url(path),
        timeoutMs: this.timeoutMs,
        read: async (response) => {
          if (!response.body) throw new MlflowError("INTERNAL_ERROR", `No body for artifact '${path}'`);
          await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(partial));
        },
      });
      await rename(partial, localFile);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    await this.transport.request({
      method: "DELETE",
      path: this.url(path),
      timeoutMs: this.timeoutMs,
      read: drain,
    });
  }
}

async function drain(response: Response): Promise<void> {
  await response.arrayBuffer();
}
