/**
 * Model packages around one GGUF file (llama.cpp's format), served by `slipway llm serve`:
 *
 * ```yaml
 * flavors:
 *   gguf:
 *     data: model.gguf
 *     architecture: qwen2
 *     context_length: 32768
 *     parameter_count: 494032768
 *     quantization: Q8_0
 *     chat_template: true
 *     sha256: 9f86d0…
 *     size_bytes: 531066464
 * signature: chat messages in, a chat completion out (MLflow's chat shapes)
 * ```
 *
 * The header facts come from the caller (the GGUF reader lives with the engine, in
 * `@slipway/inference`); this module hashes, lays out and logs the file. GGUF files are large, so
 * nothing here reads one into memory: the hash streams, the package holds a hard link to the file (a
 * streamed copy across file systems), and the upload streams (`ArtifactRepository.putFile`).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, link, mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  MLMODEL_FILE_NAME,
  MLmodelError,
  checkRelativePath,
  parseSignature,
  writeMLmodel,
  type FlavorConfig,
  type MLmodel,
} from "@slipway/ml";
import { MlflowError } from "@slipway/protocol";
import { logModel, type LoggedModel } from "./model-package.js";
import type { ActiveRun } from "./run.js";

export const GGUF_FLAVOR = "gguf";
export const GGUF_DATA_FILE = "model.gguf";

/** What the GGUF header says (see `readGgufModelInfo` in `@slipway/inference`). */
export interface GgufModelInfo {
  /** `general.architecture`: `llama`, `qwen2`, … */
  architecture: string;
  /** `general.name`, when present. */
  modelName?: string;
  /** `<architecture>.context_length`: the training context, in tokens. */
  contextLength?: number;
  parameterCount: number;
  /** `Q8_0`, `Q4_K_M`, `F16`, … */
  quantization: string;
  /** Whether the tokenizer carries a chat template (`tokenizer.chat_template`). */
  hasChatTemplate: boolean;
  sizeBytes: number;
}

/** The `gguf` flavor as read back from an MLmodel. */
export interface GgufFlavor {
  data: string;
  sha256: string | undefined;
  sizeBytes: number | undefined;
}

/** Chat messages in, a chat completion out: the column shapes of MLflow's chat models. */
const CHAT_SIGNATURE = {
  inputs: JSON.stringify([
    {
      type: "array",
      name: "messages",
      items: {
        type: "object",
        properties: {
          role: { type: "string", required: true },
          content: { type: "string", required: false },
        },
      },
      required: true,
    },
  ]),
  outputs: JSON.stringify([
    { type: "string", name: "id", required: true },
    { type: "string", name: "model", required: true },
    {
      type: "array",
      name: "choices",
      items: {
        type: "object",
        properties: {
          index: { type: "long", required: true },
          message: {
            type: "object",
            properties: {
              role: { type: "string", required: true },
              content: { type: "string", required: false },
            },
            required: true,
          },
          finish_reason: { type: "string", required: true },
        },
      },
      required: true,
    },
  ]),
  params: JSON.stringify([
    { name: "temperature", type: "double", default: 1.0, shape: null },
    { name: "top_p", type: "double", default: 1.0, shape: null },
  ]),
};

/** sha-256 (hex) of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The MLmodel of a GGUF package. */
export function ggufMLmodel(info: GgufModelInfo, sha256: string): MLmodel {
  const flavor: FlavorConfig = {
    data: GGUF_DATA_FILE,
    architecture: info.architecture,
    ...(info.modelName === undefined ? {} : { model_name: info.modelName }),
    ...(info.contextLength === undefined ? {} : { context_length: info.contextLength }),
    parameter_count: info.parameterCount,
    quantization: info.quantization,
    chat_template: info.hasChatTemplate,
    sha256,
    size_bytes: info.sizeBytes,
  };
  return {
    flavors: { [GGUF_FLAVOR]: flavor },
    signature: parseSignature(CHAT_SIGNATURE),
    model_size_bytes: info.sizeBytes,
  };
}

/**
 * Writes a GGUF package into `dir` (empty or absent): the file as `model.gguf` (hard-linked when it can
 * be) and the MLmodel, written last into a sibling directory that is renamed into place.
 */
export async function saveGgufModelPackage(dir: string, ggufPath: string, info: GgufModelInfo): Promise<MLmodel> {
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length > 0) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `'${dir}' is not empty: save a model package into a new directory`,
    );
  }
  const mlmodel = ggufMLmodel(info, await sha256OfFile(ggufPath));
  await mkdir(dirname(dir), { recursive: true });
  const partial = await mkdtemp(`${dir}.partial-`);
  try {
    const target = join(partial, GGUF_DATA_FILE);
    await link(ggufPath, target).catch(async (error: NodeJS.ErrnoException) => {
      // another file system, or links not allowed: a copy (streamed by the kernel)
      if (error.code !== "EXDEV" && error.code !== "EPERM" && error.code !== "ENOTSUP") throw error;
      await copyFile(ggufPath, target);
    });
    await writeFile(join(partial, MLMODEL_FILE_NAME), writeMLmodel(mlmodel));
    if (existing) await rmdir(dir);
    await rename(partial, dir);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  return mlmodel;
}

export interface LogGgufModelOptions {
  /** Where in the run's artifacts (default `model`). */
  artifactPath?: string;
  /** Also register the package under this name. */
  registeredModelName?: string;
  tags?: Record<string, string>;
}

/** Packages the GGUF file and logs it to `run` (and registers it with `registeredModelName`). */
export async function logGgufModel(
  run: ActiveRun,
  ggufPath: string,
  info: GgufModelInfo,
  options: LogGgufModelOptions = {},
): Promise<LoggedModel> {
  const scratch = await mkdtemp(join(tmpdir(), "slipway-gguf-"));
  try {
    const dir = join(scratch, "model");
    await saveGgufModelPackage(dir, ggufPath, info);
    return await logModel(run, dir, options.artifactPath ?? "model", {
      supportedFlavors: [GGUF_FLAVOR],
      ...(options.registeredModelName === undefined ? {} : { registeredModelName: options.registeredModelName }),
      ...(options.tags === undefined ? {} : { tags: options.tags }),
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The `gguf` flavor of a package, or an `INVALID_PARAMETER_VALUE` naming what is wrong. */
export function getGgufFlavor(mlmodel: MLmodel, where: string): GgufFlavor {
  const config = mlmodel.flavors[GGUF_FLAVOR];
  if (!config) {
    const flavors = Object.keys(mlmodel.flavors).join(", ");
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `${where} is not a GGUF model package: its flavors are ${flavors}; 'slipway llm serve' needs the '${GGUF_FLAVOR}' flavor (log one with 'slipway llm log-model')`,
    );
  }
  const { data, sha256, size_bytes: size } = config;
  if (typeof data !== "string" || data === "") {
    throw new MlflowError("INVALID_PARAMETER_VALUE", `${where}: flavors.${GGUF_FLAVOR}.data must name the GGUF file`);
  }
  try {
    checkRelativePath(`flavors.${GGUF_FLAVOR}.data`, data);
  } catch (error) {
    if (error instanceof MLmodelError) throw new MlflowError("INVALID_PARAMETER_VALUE", `${where}: ${error.message}`);
    throw error;
  }
  if (sha256 !== undefined && (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256))) {
    throw new MlflowError("INVALID_PARAMETER_VALUE", `${where}: flavors.${GGUF_FLAVOR}.sha256 must be 64 hex digits`);
  }
  return {
    data,
    sha256,
    sizeBytes: typeof size === "number" ? size : undefined,
  };
}
