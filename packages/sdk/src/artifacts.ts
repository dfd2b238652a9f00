/**
 * Run artifacts by artifact URI. The backend is chosen by the URI's scheme:
 * `mlflow-artifacts:` goes through the tracking server's proxy; `file:` URIs and plain paths are
 * read and written directly on the local filesystem. Recursive upload and download, text and
 * bytes are built here once on the small `ArtifactRepository` interface.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { basename, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MlflowError, type FileInfo } from "@slipway/protocol";
import { joinArtifactPath, normalizeArtifactPath, type ArtifactRepository } from "./artifact-repository.js";
import type { HttpTransport } from "./http-transport.js";
import { LocalArtifactRepository } from "./local-artifact-repository.js";
import { ProxyArtifactRepository } from "./proxy-artifact-repository.js";

export interface ArtifactClientOptions {
  /** The tracking server transport (headers, retries) used for `mlflow-artifacts:` URIs. */
  transport: HttpTransport;
  /** Per upload/download request. Default 30 minutes. 0 = none. */
  timeoutMs?: number;
  /** Files transferred at once by the recursive operations. Default 4. */
  concurrency?: number;
}

export type ParsedArtifactUri =
  { kind: "proxy"; authority?: string; root: string } | { kind: "local"; directory: string };

/** Classifies an artifact URI: proxied (`mlflow-artifacts:`) or local (`file:` / a plain path). */
export function parseArtifactUri(uri: string): ParsedArtifactUri {
  if (uri.startsWith("mlflow-artifacts:")) {
    const url = new URL(uri);
    const root = url.pathname
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s))
      .join("/");
    return url.host === "" ? { kind: "proxy", root } : { kind: "proxy", authority: url.host, root };
  }
  if (uri.startsWith("file:")) return { kind: "local", directory: fileURLToPath(uri) };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  // A one-letter "scheme" is a Windows drive (C:\...), which is a plain path.
  if (scheme && scheme[1]!.length > 1 && !isAbsolute(uri)) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `Artifact URI scheme '${scheme[1]}:' is not supported by the SDK: use a tracking server that ` +
        "proxies artifacts (mlflow-artifacts:) or a local path",
    );
  }
  return { kind: "local", directory: uri };
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;
}

export class ArtifactClient {
  private readonly transport: HttpTransport;
  private readonly timeoutMs: number | undefined;
  private readonly concurrency: number;

  constructor(options: ArtifactClientOptions) {
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** The backend for an artifact URI. */
  repository(artifactUri: string): ArtifactRepository {
    const parsed = parseArtifactUri(artifactUri);
    if (parsed.kind === "local") return new LocalArtifactRepository(parsed.directory);
    let transport = this.transport;
    if (parsed.authority !== undefined) {
      const base = new URL(transport.baseUrl);
      transport = transport.withBaseUrl(`${base.protocol}//${parsed.authority}`);
    }
    return new ProxyArtifactRepository({
      transport,
      root: parsed.root,
      ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
    });
  }

  /** Uploads one file as `<artifactPath>/<file name>`; returns that artifact path. */
  async logArtifact(artifactUri: string, localFile: string, artifactPath?: string): Promise<string> {
    const target = joinArtifactPath(artifactPath, basename(localFile));
    await this.repository(artifactUri).putFile(target, localFile);
    return target;
  }

  /**
   * Uploads the contents of a local directory, recursively, under `artifactPath` (the directory
   * itself is not a level, as in MLflow). Symlinked files are followed, symlinked directories are not.
   * Returns the artifact paths written.
   */
  async logArtifacts(artifactUri: string, localDir: string, artifactPath?: string): Promise<string[]> {
    if (!(await stat(localDir)).isDirectory()) {
      throw new MlflowError("INVALID_PARAMETER_VALUE", `'${localDir}' is not a directory`);
    }
    const files: { local: string; target: string }[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true });
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        const local = join(dir, entry.name);
        const target = joinArtifactPath(prefix, entry.name);
        if (entry.isDirectory()) await walk(local, target);
        else if (entry.isFile()) files.push({ local, target });
        else if (entry.isSymbolicLink() && (await stat(local).catch(() => undefined))?.isFile()) {
          files.push({ local, target });
        }
      }
    };
    await walk(localDir, normalizeArtifactPath(artifactPath));
    const repo = this.repository(artifactUri);
    await mapLimit(files, this.concurrency, (f) => repo.putFile(f.target, f.local));
    return files.map((f) => f.target);
  }

  /** Writes `text` (UTF-8) as the artifact at `artifactPath` (a file path, e.g. `notes/summary.md`). */
  async logText(artifactUri: string, text: string, artifactPath: string): Promise<void> {
    await this.logBytes(artifactUri, new TextEncoder().encode(text), artifactPath);
  }

  async logBytes(artifactUri: string, data: Uint8Array, artifactPath: string): Promise<void> {
    const target = normalizeArtifactPath(artifactPath);
    if (target === "") throw new MlflowError("INVALID_PARAMETER_VALUE", "An artifact file path is required");
    await this.repository(artifactUri).putBytes(target, data);
  }

  /** Entries directly under `path` (default: the root), with paths relative to the artifact root. */
  listArtifacts(artifactUri: string, path?: string): Promise<FileInfo[]> {
    return this.repository(artifactUri).list(normalizeArtifactPath(path));
  }

  /**
   * Downloads the artifact file or directory `path` ("" = everything) into `localDir`, keeping
   * its relative path (`a/b.txt` → `<localDir>/a/b.txt`). Returns the local path of `path`.
   */
  async downloadArtifacts(artifactUri: string, path: string, localDir: string): Promise<string> {
    const repo = this.repository(artifactUri);
    const root = normalizeArtifactPath(path);
    const localOf = (p: string) => (p === "" ? localDir : join(localDir, ...p.split("/")));
    const files: string[] = [];
    const dirs: string[] = [];
    const walk = async (dir: string, entries: FileInfo[]): Promise<void> => {
      dirs.push(dir);
      for (const entry of entries) {
        if (entry.is_dir) await walk(entry.path, await repo.list(entry.path));
        else files.push(entry.path);
      }
    };
    const top = await repo.list(root);
    if (root !== "" && top.length === 0) {
      // An empty listing: a single file (or nothing, which the download then reports).
      await repo.getFile(root, localOf(root));
      return localOf(root);
    }
    await walk(root, top);
    for (const dir of dirs) await mkdir(localOf(dir), { recursive: true });
    await mapLimit(files, this.concurrency, (p) => repo.getFile(p, localOf(p)));
    return localOf(root);
  }

  /** Deletes an artifact file or directory. */
  async deleteArtifacts(artifactUri: string, path: string): Promise<void> {
    const target = normalizeArtifactPath(path);
    if (target === "") throw new MlflowError("INVALID_PARAMETER_VALUE", "Refusing to delete the whole artifact root");
    await this.repository(artifactUri).delete(target);
  }
}
