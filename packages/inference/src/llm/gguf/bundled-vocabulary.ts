/**
 * Real tokenizers without a download: the node-llama-cpp package ships the llama.cpp source it was built
 * from as a git bundle (`llama/gitRelease.bundle`), and llama.cpp keeps tokenizer-only GGUF files in
 * `models/ggml-vocab-<name>.gguf` (vocabulary, merges, special tokens, chat template; no weights).
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GitPack, parseGitBundle } from "./git-pack.js";
import { readGgufHeader, type GgufHeader } from "./gguf-reader.js";

/** Where node-llama-cpp is installed (its package directory). */
export function nodeLlamaCppDirectory(): string {
  // the package's entry point is dist/index.js
  return dirname(dirname(fileURLToPath(import.meta.resolve("node-llama-cpp"))));
}

/** The raw bytes of `models/ggml-vocab-<name>.gguf` from node-llama-cpp's llama.cpp bundle. */
export async function readBundledVocabularyFile(
  name: string,
  packageDirectory = nodeLlamaCppDirectory(),
): Promise<Buffer> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new RangeError(`bad vocabulary name '${name}'`);
  const bundle = parseGitBundle(await readFile(join(packageDirectory, "llama", "gitRelease.bundle")));
  const head = bundle.refs.get("HEAD") ?? [...bundle.refs.values()][0];
  if (head === undefined) throw new Error("node-llama-cpp's llama.cpp bundle names no commit");
  return new GitPack(bundle.pack).readFile(head, `models/ggml-vocab-${name}.gguf`);
}

/** The header and metadata (the tokenizer) of a bundled vocabulary file. */
export async function readBundledVocabulary(name: string): Promise<GgufHeader> {
  return readGgufHeader(await readBundledVocabularyFile(name));
}
