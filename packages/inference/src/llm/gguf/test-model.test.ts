/**
 * The test-model writer against the real thing: the file is deterministic for a seed, carries the
 * bundled tokenizer, and node-llama-cpp loads it, tokenizes with it and generates tokens.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GgmlType, GgufValueType } from "./gguf-format.js";
import { readBundledVocabulary } from "./bundled-vocabulary.js";
import { readGgufHeader, type GgufHeader } from "./gguf-reader.js";
import { TEST_MODEL_SHAPES, makeTestModel } from "./test-model.js";
import { loadNodeLlamaCpp } from "../llama/node-llama-cpp.js";

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

describe("makeTestModel", () => {
  let dir: string;
  let vocabulary: GgufHeader;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-test-model-"));
    vocabulary = await readBundledVocabulary("qwen2");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("finds the real qwen2 tokenizer in node-llama-cpp's llama.cpp bundle", () => {
    assert.equal(vocabulary.tensors.length, 0);
    const tokens = vocabulary.metadata.get("tokenizer.ggml.tokens")!.value;
    assert.ok(typeof tokens === "object" && tokens.items.length > 150_000);
    assert.equal(vocabulary.metadata.get("tokenizer.ggml.model")?.value, "gpt2");
    const template = vocabulary.metadata.get("tokenizer.chat_template")?.value;
    assert.ok(typeof template === "string" && template.includes("<|im_start|>"));
  });

  it("writes the same bytes for the same seed, other bytes for another", async () => {
    const a = join(dir, "a.gguf");
    const b = join(dir, "b.gguf");
    const c = join(dir, "c.gguf");
    await makeTestModel({ out: a, seed: 7, vocabulary });
    await makeTestModel({ out: b, seed: 7, vocabulary });
    await makeTestModel({ out: c, seed: 8, vocabulary });
    assert.equal(await sha256(a), await sha256(b));
    assert.notEqual(await sha256(a), await sha256(c));
  });

  it("lays out a llama model: metadata, tied embeddings, Q8_0 weights, F32 norms", async () => {
    const path = join(dir, "tiny.gguf");
    const info = await makeTestModel({ out: path, shape: "tiny", seed: 1, vocabulary });
    const header = readGgufHeader(await readFile(path));
    const shape = TEST_MODEL_SHAPES.tiny;
    assert.equal(header.metadata.get("general.architecture")?.value, "llama");
    assert.equal(header.metadata.get("llama.block_count")?.value, shape.layers);
    assert.equal(header.metadata.get("llama.embedding_length")?.value, shape.embedding);
    for (const [key, value] of vocabulary.metadata)
      if (key.startsWith("tokenizer.")) assert.deepEqual(header.metadata.get(key), value);
    const names = header.tensors.map((t) => t.name);
    assert.equal(names[0], "token_embd.weight");
    assert.equal(names.at(-1), "output_norm.weight");
    assert.ok(!names.includes("output.weight"));
    assert.equal(names.length, 2 + shape.layers * 9);
    const embd = header.tensors[0]!;
    assert.deepEqual(embd.dims, [shape.embedding, info.vocabularySize]);
    assert.equal(embd.type, GgmlType.Q8_0);
    assert.equal(header.tensors.find((t) => t.name === "blk.0.attn_norm.weight")?.type, GgmlType.F32);
    assert.deepEqual(header.tensors.find((t) => t.name === "blk.1.ffn_down.weight")?.dims, [
      shape.feedForward,
      shape.embedding,
    ]);
    assert.equal(info.bytes, (await readFile(path)).length);
    assert.equal(header.metadata.get("slipway.test_model.seed")?.type, GgufValueType.UINT64);
  });

  it("loads in llama.cpp and generates tokens", async () => {
    const path = join(dir, "tiny.gguf");
    const { getLlama, LlamaLogLevel } = await loadNodeLlamaCpp();
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: path });
    try {
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      const sequence = context.getSequence();
      const prompt = model.tokenize("Hello, world");
      assert.deepEqual(model.detokenize(prompt), "Hello, world");
      const generated: number[] = [];
      for await (const token of sequence.evaluate(prompt, { temperature: 0.8, seed: 1, yieldEogToken: true })) {
        generated.push(token);
        if (generated.length === 32) break;
      }
      assert.equal(generated.length, 32);
      await context.dispose();
    } finally {
      await model.dispose();
      await llama.dispose();
    }
  });
});
