/**
 * Random-weight models for tests and benchmarks, written around a real tokenizer (the bundled qwen2
 * vocabulary: real tokens, merges, special tokens and ChatML chat template), so that llama.cpp loads,
 * tokenizes, templates and generates exactly as it would with a trained model of the same shape. The
 * text is gibberish; the compute per token is the real thing, so throughput measured on `qwen2-0.5b`
 * is what a trained Qwen2.5-0.5B at Q8_0 would give.
 *
 * Weights are uniform with standard deviation 0.02 (norms 1), which keeps activations finite; each
 * tensor draws from its own generator, seeded by the model seed and the tensor's name, so the same seed
 * writes the same file byte for byte. No `output` tensor: the embeddings are tied, as in Qwen2.5-0.5B.
 */
import { GgmlType, GgufValueType, Q8_0_BLOCK, gguf, type GgufValue } from "./gguf-format.js";
import type { GgufHeader } from "./gguf-reader.js";
import { writeGguf, type GgufTensorSource } from "./gguf-writer.js";
import { SeededRandom, hashString } from "./seeded-random.js";
import { readBundledVocabulary } from "./bundled-vocabulary.js";

export interface TestModelShape {
  /** `general.architecture`: `qwen2` adds biases to the q, k and v projections. */
  readonly architecture: "llama" | "qwen2";
  readonly layers: number;
  readonly embedding: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly feedForward: number;
  /** The context length the model declares it was trained on. */
  readonly contextLength: number;
  readonly ropeFreqBase: number;
  readonly rmsEpsilon: number;
  /** Type of the weight matrices (norms and biases are always F32). */
  readonly weightType: GgmlType;
  /** The bundled tokenizer (`models/ggml-vocab-<name>.gguf`). */
  readonly vocabulary: string;
}

export const TEST_MODEL_SHAPES = {
  /** 2 layers × 64 dims: about 16 MB, loads in well under a second; for tests. */
  tiny: {
    architecture: "llama",
    layers: 2,
    embedding: 64,
    heads: 4,
    kvHeads: 2,
    feedForward: 128,
    contextLength: 4096,
    ropeFreqBase: 10000,
    rmsEpsilon: 1e-5,
    weightType: GgmlType.Q8_0,
    vocabulary: "qwen2",
  },
  /** Qwen2.5-0.5B's shape (24 layers, 896 dims, 14 heads, 2 KV heads, FFN 4864) at Q8_0: about 530 MB. */
  "qwen2-0.5b": {
    architecture: "qwen2",
    layers: 24,
    embedding: 896,
    heads: 14,
    kvHeads: 2,
    feedForward: 4864,
    contextLength: 32768,
    ropeFreqBase: 1000000,
    rmsEpsilon: 1e-6,
    weightType: GgmlType.Q8_0,
    vocabulary: "qwen2",
  },
} as const satisfies Record<string, TestModelShape>;

export type TestModelShapeName = keyof typeof TEST_MODEL_SHAPES;

export function isTestModelShapeName(name: string): name is TestModelShapeName {
  return Object.hasOwn(TEST_MODEL_SHAPES, name);
}

export interface MakeTestModelOptions {
  /** Path of the GGUF file to write. */
  out: string;
  /** Default `tiny`. */
  shape?: TestModelShapeName;
  /** Default 0. */
  seed?: number;
  /** The tokenizer file's header, when the caller already read it (it is otherwise read from the bundle). */
  vocabulary?: GgufHeader;
}

export interface TestModelInfo {
  path: string;
  shape: TestModelShapeName;
  seed: number;
  bytes: number;
  parameters: number;
  vocabularySize: number;
}

const WEIGHT_STD = 0.02;
const CHUNK_VALUES = 1 << 16;

export async function makeTestModel(options: MakeTestModelOptions): Promise<TestModelInfo> {
  const shapeName = options.shape ?? "tiny";
  const shape: TestModelShape = TEST_MODEL_SHAPES[shapeName];
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  const vocabulary = options.vocabulary ?? (await readBundledVocabulary(shape.vocabulary));
  const tokens = vocabulary.metadata.get("tokenizer.ggml.tokens")?.value;
  if (typeof tokens !== "object" || tokens.itemType !== GgufValueType.STRING) {
    throw new Error("the vocabulary file has no tokenizer.ggml.tokens");
  }
  const vocabularySize = tokens.items.length;
  const tensors = modelTensors(shape, vocabularySize, seed);
  const written = await writeGguf({
    path: options.out,
    metadata: modelMetadata(shape, shapeName, seed, vocabulary),
    tensors,
  });
  return {
    path: options.out,
    shape: shapeName,
    seed,
    bytes: written.bytes,
    parameters: tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0),
    vocabularySize,
  };
}

function modelMetadata(
  shape: TestModelShape,
  shapeName: string,
  seed: number,
  vocabulary: GgufHeader,
): (readonly [string, GgufValue])[] {
  const arch = shape.architecture;
  const entries: (readonly [string, GgufValue])[] = [
    ["general.architecture", gguf.string(arch)],
    ["general.name", gguf.string(`slipway-test-${shapeName}`)],
    ["general.description", gguf.string(`Random weights (seed ${seed}); written by slipway llm make-test-model`)],
    // 7 = LLAMA_FTYPE_MOSTLY_Q8_0, 0 = ALL_F32
    ["general.file_type", gguf.u32(shape.weightType === GgmlType.Q8_0 ? 7 : 0)],
    ["general.quantization_version", gguf.u32(2)],
    ["general.alignment", gguf.u32(32)],
    [`${arch}.context_length`, gguf.u32(shape.contextLength)],
    [`${arch}.embedding_length`, gguf.u32(shape.embedding)],
    [`${arch}.block_count`, gguf.u32(shape.layers)],
    [`${arch}.feed_forward_length`, gguf.u32(shape.feedForward)],
    [`${arch}.attention.head_count`, gguf.u32(shape.heads)],
    [`${arch}.attention.head_count_kv`, gguf.u32(shape.kvHeads)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gguf.f32(shape.rmsEpsilon)],
    [`${arch}.rope.freq_base`, gguf.f32(shape.ropeFreqBase)],
    ["slipway.test_model.shape", gguf.string(shapeName)],
    ["slipway.test_model.seed", gguf.u64(BigInt(seed))],
  ];
  for (const [key, value] of vocabulary.metadata) if (key.startsWith("tokenizer.")) entries.push([key, value]);
  return entries;
}

function modelTensors(shape: TestModelShape, vocabularySize: number, seed: number): GgufTensorSource[] {
  const headDim = shape.embedding / shape.heads;
  const q = shape.heads * headDim;
  const kv = shape.kvHeads * headDim;
  const weight = (name: string, dims: number[]): GgufTensorSource => randomTensor(name, dims, shape.weightType, seed);
  const norm = (name: string): GgufTensorSource => constantTensor(name, [shape.embedding], 1);
  const tensors: GgufTensorSource[] = [weight("token_embd.weight", [shape.embedding, vocabularySize])];
  for (let i = 0; i < shape.layers; i++) {
    const blk = `blk.${i}`;
    tensors.push(
      norm(`${blk}.attn_norm.weight`),
      weight(`${blk}.attn_q.weight`, [shape.embedding, q]),
      weight(`${blk}.attn_k.weight`, [shape.embedding, kv]),
      weight(`${blk}.attn_v.weight`, [shape.embedding, kv]),
    );
    if (shape.architecture === "qwen2") {
      tensors.push(
        randomTensor(`${blk}.attn_q.bias`, [q], GgmlType.F32, seed),
        randomTensor(`${blk}.attn_k.bias`, [kv], GgmlType.F32, seed),
        randomTensor(`${blk}.attn_v.bias`, [kv], GgmlType.F32, seed),
      );
    }
    tensors.push(
      weight(`${blk}.attn_output.weight`, [q, shape.embedding]),
      norm(`${blk}.ffn_norm.weight`),
      weight(`${blk}.ffn_gate.weight`, [shape.embedding, shape.feedForward]),
      weight(`${blk}.ffn_up.weight`, [shape.embedding, shape.feedForward]),
      weight(`${blk}.ffn_down.weight`, [shape.feedForward, shape.embedding]),
    );
  }
  tensors.push(norm("output_norm.weight"));
  return tensors;
}

function chunkSizes(count: number): number[] {
  const sizes: number[] = [];
  for (let done = 0; done < count; done += CHUNK_VALUES) sizes.push(Math.min(CHUNK_VALUES, count - done));
  return sizes;
}

function randomTensor(name: string, dims: number[], type: GgmlType, seed: number): GgufTensorSource {
  const count = dims.reduce((a, b) => a * b, 1);
  if (type === GgmlType.Q8_0 && dims[0]! % Q8_0_BLOCK !== 0) {
    throw new RangeError(`tensor '${name}': Q8_0 rows must be a multiple of ${Q8_0_BLOCK} (got ${dims[0]})`);
  }
  const limit = WEIGHT_STD * Math.sqrt(3);
  return {
    name,
    dims,
    type,
    *values() {
      const random = new SeededRandom(seed, hashString(name));
      const buffer = new Float32Array(Math.min(CHUNK_VALUES, count));
      for (const size of chunkSizes(count)) {
        const chunk = size === buffer.length ? buffer : buffer.subarray(0, size);
        random.fillUniform(chunk, limit);
        yield chunk;
      }
    },
  };
}

function constantTensor(name: string, dims: number[], value: number): GgufTensorSource {
  const count = dims.reduce((a, b) => a * b, 1);
  return {
    name,
    dims,
    type: GgmlType.F32,
    *values() {
      for (const size of chunkSizes(count)) yield new Float32Array(size).fill(value);
    },
  };
}
