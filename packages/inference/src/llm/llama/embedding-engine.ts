/**
 * Embeddings from the served model: a separate llama.cpp embedding context, created on the first
 * request (a server that never embeds never pays its memory), used by one request at a time. Vectors are
 * scaled to unit length, as OpenAI's and llama.cpp's servers return them.
 */
import type { LlamaEmbeddingContext, LlamaModel, Token } from "node-llama-cpp";
import type { EmbeddingResult } from "../engine/llm-provider.js";

export interface EmbeddingEngineOptions {
  model: LlamaModel;
  contextSize: number;
  threads?: number;
}

export class EmbeddingEngine {
  private context: Promise<LlamaEmbeddingContext> | undefined;
  /** Requests run one after another: the tail of the chain. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: EmbeddingEngineOptions) {}

  embed(inputs: readonly Token[][], signal: AbortSignal): Promise<EmbeddingResult> {
    const run = this.tail.then(() => this.run(inputs, signal));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    if (this.context) await (await this.context.catch(() => undefined))?.dispose();
  }

  private async run(inputs: readonly Token[][], signal: AbortSignal): Promise<EmbeddingResult> {
    signal.throwIfAborted();
    if (this.closed) throw new Error("the embedding engine is closed");
    this.context ??= this.options.model.createEmbeddingContext({
      contextSize: this.options.contextSize,
      ...(this.options.threads === undefined ? {} : { threads: this.options.threads }),
    });
    const context = await this.context;
    const vectors: Float32Array[] = [];
    let promptTokens = 0;
    for (const tokens of inputs) {
      signal.throwIfAborted();
      const embedding = await context.getEmbeddingFor(tokens);
      vectors.push(normalize(embedding.vector));
      promptTokens += tokens.length;
    }
    return { vectors, promptTokens };
  }
}

function normalize(vector: readonly number[]): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! * scale;
  return out;
}
