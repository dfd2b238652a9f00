/**
 * `POST /v1/completions` bodies → a typed `CompletionRequest`. Prompts come the way OpenAI takes them
 * (also for embeddings): a string, a list of strings, a list of token ids, or a list of token-id lists.
 */
import { invalidRequest } from "../errors.js";
import type { CompletionRequest, PromptInput } from "../engine/llm-provider.js";
import { bodyObject, ignoredKeys, invalidType, missing, optionalBoolean, requiredString } from "./fields.js";
import { parseStreamSettings, type StreamSettings } from "./chat-request.js";
import { SAMPLING_KEYS, parseChoiceCount, parseSampling } from "./sampling-params.js";

/** Most prompts (or embedding inputs) in one request, as OpenAI limits embedding inputs. */
export const MAX_INPUTS = 2048;

export interface ParsedCompletionRequest extends StreamSettings {
  request: CompletionRequest;
  ignored: string[];
}

const COMPLETION_KEYS = new Set<string>([
  ...SAMPLING_KEYS,
  "model",
  "prompt",
  "echo",
  "stream",
  "stream_options",
  "user",
]);

export function parseCompletionRequest(input: unknown): ParsedCompletionRequest {
  const body = bodyObject(input);
  const model = requiredString(body, "model");
  const prompts = parseInputs(body.prompt, "prompt");
  const n = parseChoiceCount(body);
  if (prompts.length * n > MAX_INPUTS) {
    throw invalidRequest(
      `Too many completions requested: ${prompts.length} prompts × n=${n}; at most ${MAX_INPUTS}.`,
      "n",
      "invalid_value",
    );
  }
  const request: CompletionRequest = {
    model,
    prompts,
    n,
    echo: optionalBoolean(body, "echo") ?? false,
    sampling: parseSampling(body),
    raw: body,
  };
  return { request, ...parseStreamSettings(body), ignored: ignoredKeys(body, COMPLETION_KEYS) };
}

export function parseInputs(value: unknown, param: string): PromptInput[] {
  if (value === undefined || value === null) throw missing(param);
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) throw invalidType(param, "a string or an array", value);
  if (value.length === 0) {
    throw invalidRequest(
      `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
      param,
      "empty_array",
    );
  }
  if (value.length > MAX_INPUTS) {
    throw invalidRequest(
      `Invalid '${param}': array too long. Expected an array with maximum length ${MAX_INPUTS}, but got an array with length ${value.length} instead.`,
      param,
      "array_above_max_length",
    );
  }
  if (value.every((item) => typeof item === "number")) return [tokenList(value, param)];
  return value.map((item: unknown, i) => {
    if (typeof item === "string") return item;
    if (Array.isArray(item)) return tokenList(item, `${param}[${i}]`);
    throw invalidType(`${param}[${i}]`, "a string or an array of token ids", item);
  });
}

function tokenList(items: readonly unknown[], param: string): number[] {
  if (items.length === 0) {
    throw invalidRequest(`Invalid '${param}': a token list must not be empty.`, param, "empty_array");
  }
  return items.map((token, i) => {
    if (typeof token !== "number" || !Number.isSafeInteger(token) || token < 0) {
      throw invalidType(`${param}[${i}]`, "a token id (a non-negative integer)", token);
    }
    return token;
  });
}
