/**
 * The local content-addressed cache of model packages.
 *
 * ```
 * <cache>/packages/<digest>/manifest.json   every file's path, size and sha256
 * <cache>/packages/<digest>/model/...       the package's files
 * <cache>/refs/<sha256 of the artifact URI>.json   which digest that location held last time
 * <cache>/tmp/                              downloads in progress (renamed into packages/ when complete)
 * ```
 *
 * The digest is the sha256 (hex) of the manifest's canonical JSON: the files sorted by path, as
 * `[{"path":"MLmodel","size":412,"sha256":"..."},...]` with no whitespace. A load whose location's
 * listing (paths and sizes) matches the recorded manifest is a cache hit once every file's size and
 * sha256 have been verified; an entry that fails verification is removed and downloaded again.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { MlflowError } from "@slipway/protocol";
import type { TrackingClient } from "./client.js";

export interface CacheOptions {
  /** The cache directory. Default `resolveModelCacheDir()`. */
  cacheDir?: string;
}

/** `SLIPWAY_MODEL_CACHE` if set, else `~/.cache/slipway/models`. An explicit `cacheDir` option wins. */
export function resolveModelCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const fromEnv = env.SLIPWAY_MODEL_CACHE?.trim();
  return resolve(fromEnv ? fromEnv : join(homedir(), ".cache", "slipway", "models"));
}

export interface PackageFile {
  /** Relative to the package root, `/`-separated. */
  path: string;
  size: number;
}

export interface ManifestEntry extends PackageFile {
  sha256: string;
}

interface Manifest {
  digest: string;
  artifactUri: string;
  files: ManifestEntry[];
}

function byPath<T extends { path: string }>(a: T, b: T): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** The digest of a package: sha256 of its manifest's canonical JSON (see the module comment). */
export function manifestDigest(files: readonly ManifestEntry[]): string {
  const canonical = JSON.stringify(
    [...files].sort(byPath).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
  );
  return createHash("sha256").update(canonical).digest("hex");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every file under a local directory (symlinked files followed, symlinked directories not), sorted by path. */
export async function listLocalFiles(dir: string): Promise<(PackageFile & { local: string })[]> {
  const out: (PackageFile & { local: string })[] = [];
  const walk = async (current: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const local = join(current, entry.name);
      const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) await walk(local, path);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const info = await stat(local).catch(() => undefined);
        if (info?.isFile()) out.push({ path, local, size: info.size });
      }
    }
  };
  await walk(dir, "");
  return out.sort(byPath);
}

/** Every file of the package at `artifactUri` with its size, from the artifact store's listings. */
export async function listPackageFiles(client: TrackingClient, artifactUri: string): Promise<PackageFile[]> {
  const out: PackageFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await client.artifacts.listArtifacts(artifactUri, dir)) {
      if (entry.is_dir) await walk(entry.path);
      else out.push({ path: entry.path, size: entry.file_size ?? 0 });
    }
  };
  await walk("");
  return out.sort(byPath);
}

function isManifest(files: unknown): files is ManifestEntry[] {
  return (
    Array.isArray(files) &&
    files.every(
      (f: unknown) =>
        typeof f === "object" &&
        f !== null &&
        typeof (f as ManifestEntry).path === "string" &&
        typeof (f as ManifestEntry).size === "number" &&
        typeof (f as ManifestEntry).sha256 === "string",
    )
  );
}

function sameListing(a: readonly PackageFile[], b: readonly PackageFile[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort(byPath);
  const sb = [...b].sort(byPath);
  return sa.every((f, i) => f.path === sb[i]!.path && f.size === sb[i]!.size);
}

/** Why the files in `dir` do not match the manifest, or undefined when they all do. */
async function verify(dir: string, files: readonly ManifestEntry[]): Promise<string | undefined> {
  let local;
  try {
    local = await listLocalFiles(dir);
  } catch (error) {
    return `cannot list ${dir}: ${(error as Error).message}`;
  }
  const byName = new Map(local.map((f) => [f.path, f]));
  for (const file of files) {
    const found = byName.get(file.path);
    if (!found) return `'${file.path}' is missing`;
    if (found.size !== file.size) return `'${file.path}' has ${found.size} bytes, the manifest says ${file.size}`;
    const digest = await sha256File(found.local);
    if (digest !== file.sha256) return `'${file.path}' has sha256 ${digest}, the manifest says ${file.sha256}`;
    byName.delete(file.path);
  }
  const extra = [...byName.keys()][0];
  return extra === undefined ? undefined : `'${extra}' is not in the manifest`;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Writes a file by renaming a complete temporary one over it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const partial = `${path}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  await writeFile(partial, text);
  await rename(partial, path);
}

export interface CacheEntry<T> {
  dir: string;
  digest: string;
  cacheHit: boolean;
  value: T;
}

/**
 * The package at `artifactUri` (whose files are `files`) from the cache, verified, or downloaded into it.
 * `open(dir)` reads the package (and validates it) before a download is committed to the cache, so an
 * invalid package never enters it.
 */
export async function loadIntoCache<T>(
  client: TrackingClient,
  artifactUri: string,
  files: readonly PackageFile[],
  options: CacheOptions,
  open: (dir: string) => Promise<T>,
): Promise<CacheEntry<T>> {
  const root = resolve(options.cacheDir ?? resolveModelCacheDir());
  const packages = join(root, "packages");
  const refs = join(root, "refs");
  const temp = join(root, "tmp");
  await Promise.all([packages, refs, temp].map((d) => mkdir(d, { recursive: true })));
  const refFile = join(refs, `${createHash("sha256").update(artifactUri).digest("hex")}.json`);
  const discard = async (entry: string) => {
    const trash = join(temp, `discard-${randomBytes(6).toString("hex")}`);
    await rename(entry, trash).catch(() => undefined);
    await rm(trash, { recursive: true, force: true });
  };

  const ref = await readJson<{ digest?: unknown }>(refFile);
  const cached = typeof ref?.digest === "string" && /^[0-9a-f]{64}$/.test(ref.digest) ? ref.digest : undefined;
  if (cached !== undefined) {
    const entry = join(packages, cached);
    const manifest = await readJson<Partial<Manifest>>(join(entry, "manifest.json"));
    const entries = manifest && isManifest(manifest.files) ? manifest.files : undefined;
    if (entries === undefined) {
      // no entry, or one whose manifest is damaged
      await discard(entry);
    } else if (sameListing(entries, files) && manifestDigest(entries) === cached) {
      if ((await verify(join(entry, "model"), entries)) === undefined) {
        const dir = join(entry, "model");
        return { dir, digest: cached, cacheHit: true, value: await open(dir) };
      }
      // corrupted (or tampered with): remove it and download again
      await discard(entry);
    }
  }

  const download = await mkdtemp(join(temp, "download-"));
  try {
    const modelDir = join(download, "model");
    await mkdir(modelDir);
    await client.artifacts.downloadArtifacts(artifactUri, "", modelDir);
    const local = await listLocalFiles(modelDir);
    const listed = new Map(files.map((f) => [f.path, f.size]));
    for (const file of local) {
      const size = listed.get(file.path);
      if (size === undefined || size !== file.size) {
        throw new MlflowError(
          "DATA_LOSS",
          `Downloading ${artifactUri}: '${file.path}' has ${file.size} bytes, ` +
            (size === undefined ? "but was not listed" : `the store listed ${size}`) +
            " (did the package change during the download?)",
        );
      }
      listed.delete(file.path);
    }
    const missing = [...listed.keys()][0];
    if (missing !== undefined) {
      throw new MlflowError("DATA_LOSS", `Downloading ${artifactUri}: '${missing}' was listed but not downloaded`);
    }
    const entries: ManifestEntry[] = [];
    for (const file of local) entries.push({ path: file.path, size: file.size, sha256: await sha256File(file.local) });
    const digest = manifestDigest(entries);
    const value = await open(modelDir);
    const manifest: Manifest = { digest, artifactUri, files: entries };
    await writeFile(join(download, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const entry = join(packages, digest);
    try {
      await rename(download, entry);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      // the same content is already there (another load got it first): keep it if it is intact
      if ((await verify(join(entry, "model"), entries)) === undefined) {
        await rm(download, { recursive: true, force: true });
      } else {
        await discard(entry);
        await rename(download, entry);
      }
    }
    await writeAtomically(refFile, `${JSON.stringify({ artifactUri, digest })}\n`);
    return { dir: join(entry, "model"), digest, cacheHit: false, value };
  } catch (error) {
    await rm(download, { recursive: true, force: true });
    throw error;
  }
}
