/**
 * Embedding vectors → OpenAI's `/v1/embeddings` body. `float` gives lists of numbers; `base64` gives the
 * little-endian float32 bytes in base64, which the `openai` client requests by default and decodes.
 */
import type { EmbeddingResult } from "../engine/llm-provider.js";
import type { WireEmbeddingList } from "./wire-types.js";

export function embeddingList(result: EmbeddingResult, model: string, encoding: "float" | "base64"): WireEmbeddingList {
  return {
    object: "list",
    data: result.vectors.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: encoding === "float" ? Array.from(vector) : float32Base64(vector),
    })),
    model,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

export function float32Base64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString("base64");
}
