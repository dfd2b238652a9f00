/**
 * `--model NAME=SOURCE` → a GGUF file on disk. SOURCE is a `.gguf` file, a local model package
 * directory, or a model URI (`models:/qwen@prod`, `models:/qwen/3`, `runs:/<run>/model`, an artifact
 * URI): URIs are resolved through the registry and downloaded into the SDK's verified,
 * content-addressed model cache — the same machinery as the model server (`serving/load-models.ts`).
 * The package must have the `gguf` flavor; on a fresh download the file's sha-256 is checked against
 * the one recorded in the flavor (cache hits were verified against the cache's manifest).
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  GGUF_FLAVOR,
  getGgufFlavor,
  loadModelPackage,
  readPackageMLmodel,
  sha256OfFile,
  type TrackingClient,
} from "@slipway/sdk";
import { MLMODEL_FILE_NAME } from "@slipway/ml";
import { MlflowError } from "@slipway/protocol";

export interface ResolvedGguf {
  /** The GGUF file to load. */
  path: string;
  /** The registry version, for `models:/` URIs. */
  version?: string;
  /** How it was found, for progress lines (`models:/qwen@prod → version 3, from the cache`). */
  description: string;
}

export interface ResolveGgufOptions {
  /** Needed for model URIs; absent: only local files and packages. */
  client?: TrackingClient;
  /** The model cache (default: the SDK's). */
  cacheDir?: string;
}

/** A model URI rather than a local path: `models:/`, `runs:/`, or an artifact URI with a scheme. */
export function isModelUri(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\//i.test(source) && !/^file:\/\//i.test(source);
}

export async function resolveGguf(source: string, options: ResolveGgufOptions = {}): Promise<ResolvedGguf> {
  if (!isModelUri(source)) {
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `no such file or directory '${source}'`);
    if (info.isFile()) return { path: source, description: source };
    const where = `'${source}'`;
    let text: string;
    try {
      text = await readFile(join(source, MLMODEL_FILE_NAME), "utf8");
    } catch {
      throw new MlflowError(
        "INVALID_PARAMETER_VALUE",
        `${where} is a directory without an ${MLMODEL_FILE_NAME} file: give a .gguf file or a model package`,
      );
    }
    const mlmodel = readPackageMLmodel(text, where, { supportedFlavors: [GGUF_FLAVOR] });
    const flavor = getGgufFlavor(mlmodel, where);
    const path = join(source, flavor.data);
    await checkPresent(path, where, flavor.data);
    return { path, description: `package ${source}` };
  }
  if (!options.client) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `'${source}' is a model URI: give the tracking server with --tracking-uri (or SLIPWAY_TRACKING_URI)`,
    );
  }
  const where = `'${source}'`;
  const pkg = await loadModelPackage(options.client, source, {
    supportedFlavors: [GGUF_FLAVOR],
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
  });
  const flavor = getGgufFlavor(pkg.mlmodel, where);
  const path = join(pkg.dir, flavor.data);
  await checkPresent(path, where, flavor.data);
  if (!pkg.cacheHit && flavor.sha256 !== undefined) {
    const actual = await sha256OfFile(path);
    if (actual !== flavor.sha256) {
      throw new MlflowError(
        "INVALID_PARAMETER_VALUE",
        `${where}: ${flavor.data} has sha-256 ${actual}, but its package records ${flavor.sha256}`,
      );
    }
  }
  const version = pkg.modelVersion?.version;
  return {
    path,
    ...(version === undefined ? {} : { version }),
    description:
      `${source}${version === undefined ? "" : ` (version ${version})`}` + (pkg.cacheHit ? ", from the cache" : ""),
  };
}

async function checkPresent(path: string, where: string, data: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `${where}: flavors.${GGUF_FLAVOR}.data names '${data}', which is not a file in the package`,
    );
  }
}
