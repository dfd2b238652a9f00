/**
 * `POST /v1/embeddings` bodies → a typed `EmbeddingRequest` and the encoding to answer in: `float`
 * (lists of numbers) or `base64` (little-endian float32 bytes, what the `openai` client asks for by
 * default and decodes itself).
 */
import { invalidRequest } from "../errors.js";
import type { EmbeddingRequest } from "../engine/llm-provider.js";
import { bodyObject, ignoredKeys, optionalInteger, optionalString, requiredString } from "./fields.js";
import { parseInputs } from "./completion-request.js";

export interface ParsedEmbeddingRequest {
  request: EmbeddingRequest;
  encoding: "float" | "base64";
  ignored: string[];
}

const EMBEDDING_KEYS = new Set<string>(["model", "input", "encoding_format", "dimensions", "user"]);

export function parseEmbeddingRequest(input: unknown): ParsedEmbeddingRequest {
  const body = bodyObject(input);
  const model = requiredString(body, "model");
  const inputs = parseInputs(body.input, "input");
  const encoding = optionalString(body, "encoding_format") ?? "float";
  if (encoding !== "float" && encoding !== "base64") {
    throw invalidRequest(
      `Invalid 'encoding_format': expected 'float' or 'base64', but got '${encoding}' instead.`,
      "encoding_format",
      "invalid_value",
    );
  }
  const dimensions = optionalInteger(body, "dimensions", { min: 1 });
  return {
    request: { model, inputs, dimensions, raw: body },
    encoding,
    ignored: ignoredKeys(body, EMBEDDING_KEYS),
  };
}
