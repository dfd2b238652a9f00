/**
 * What a model package says about a GGUF file, read from the file's header only: the architecture,
 * training context length, parameter count (from the tensor shapes), quantization and whether the
 * tokenizer carries a chat template. The header is read from a growing prefix of the file (16 MiB,
 * doubled while it is cut short), never the whole file: a real model's tensors are hundreds of MB, its
 * header (the vocabulary included) a few MB.
 */
import { open } from "node:fs/promises";
import type { GgufModelInfo } from "@slipway/sdk";
import { GgufFormatError, readGgufHeader, type GgufHeader } from "../gguf/gguf-reader.js";

const FIRST_PREFIX = 16 * 1024 * 1024;

/** ggml's tensor type ids → names (ggml.h), for the quantization when `general.file_type` is absent. */
const GGML_TYPES: Readonly<Record<number, string>> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  6: "Q5_0",
  7: "Q5_1",
  8: "Q8_0",
  9: "Q8_1",
  10: "Q2_K",
  11: "Q3_K",
  12: "Q4_K",
  13: "Q5_K",
  14: "Q6_K",
  15: "Q8_K",
  16: "IQ2_XXS",
  17: "IQ2_XS",
  18: "IQ3_XXS",
  19: "IQ1_S",
  20: "IQ4_NL",
  21: "IQ3_S",
  22: "IQ2_S",
  23: "IQ4_XS",
  29: "IQ1_M",
  30: "BF16",
};

/** llama.cpp's `general.file_type` (llama_ftype) → the names its quantize tool uses. */
const FILE_TYPES: Readonly<Record<number, string>> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  7: "Q8_0",
  8: "Q5_0",
  9: "Q5_1",
  10: "Q2_K",
  11: "Q3_K_S",
  12: "Q3_K_M",
  13: "Q3_K_L",
  14: "Q4_K_S",
  15: "Q4_K_M",
  16: "Q5_K_S",
  17: "Q5_K_M",
  18: "Q6_K",
  19: "IQ2_XXS",
  20: "IQ2_XS",
  21: "Q2_K_S",
  22: "IQ3_XS",
  23: "IQ3_XXS",
  24: "IQ1_S",
  25: "IQ4_NL",
  26: "IQ3_S",
  27: "IQ3_M",
  28: "IQ2_S",
  29: "IQ2_M",
  30: "IQ4_XS",
  31: "IQ1_M",
  32: "BF16",
};

/** Reads the header of the GGUF file at `path` (a `GgufFormatError` when it is not one). */
export async function readGgufFileHeader(path: string): Promise<{ header: GgufHeader; sizeBytes: number }> {
  const file = await open(path, "r");
  try {
    const sizeBytes = (await file.stat()).size;
    let length = Math.min(FIRST_PREFIX, sizeBytes);
    for (;;) {
      const bytes = new Uint8Array(length);
      const { bytesRead } = await file.read(bytes, 0, length, 0);
      try {
        return { header: readGgufHeader(bytes.subarray(0, bytesRead)), sizeBytes };
      } catch (error) {
        // a prefix cut the header short (or made a length look implausible): read more, if there is more
        if (!(error instanceof GgufFormatError) || length >= sizeBytes) throw error;
        length = Math.min(length * 2, sizeBytes);
      }
    }
  } finally {
    await file.close();
  }
}

/** The package's description of the GGUF file at `path`. */
export async function readGgufModelInfo(path: string): Promise<GgufModelInfo> {
  const { header, sizeBytes } = await readGgufFileHeader(path);
  const text = (key: string): string | undefined => {
    const v = header.metadata.get(key)?.value;
    return typeof v === "string" ? v : undefined;
  };
  const int = (key: string): number | undefined => {
    const v = header.metadata.get(key)?.value;
    return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
  };
  const architecture = text("general.architecture");
  if (architecture === undefined) {
    throw new GgufFormatError("the GGUF file has no 'general.architecture': it is not a model llama.cpp can load");
  }
  let parameterCount = 0;
  const elementsByType = new Map<number, number>();
  for (const tensor of header.tensors) {
    const elements = tensor.dims.reduce((a, b) => a * b, 1);
    parameterCount += elements;
    elementsByType.set(tensor.type, (elementsByType.get(tensor.type) ?? 0) + elements);
  }
  const fileType = int("general.file_type");
  const dominant = [...elementsByType].sort((a, b) => b[1] - a[1])[0]?.[0];
  const quantization =
    (fileType === undefined ? undefined : FILE_TYPES[fileType]) ??
    (dominant === undefined ? "unknown" : (GGML_TYPES[dominant] ?? `ggml type ${dominant}`));
  const contextLength = int(`${architecture}.context_length`);
  const name = text("general.name");
  return {
    architecture,
    ...(name === undefined ? {} : { modelName: name }),
    ...(contextLength === undefined ? {} : { contextLength }),
    parameterCount,
    quantization,
    hasChatTemplate: text("tokenizer.chat_template") !== undefined,
    sizeBytes,
  };
}
