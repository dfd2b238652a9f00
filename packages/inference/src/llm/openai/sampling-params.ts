/**
 * The sampling parameters shared by `/v1/chat/completions` and `/v1/completions`: OpenAI's ranges and
 * defaults (temperature 1, top_p 1, no penalties), `stop` as a string or a list of up to 4, `logit_bias`
 * keyed by token id, `response_format`, and the extras other servers accept (`top_k`, `min_p`,
 * `repetition_penalty`, `ignore_eos`). Limits that depend on the model (context length, vocabulary) are
 * the provider's to check.
 */
import { invalidRequest } from "../errors.js";
import type { JsonObject, ResponseFormat, SamplingOptions } from "../engine/llm-provider.js";
import {
  invalidType,
  missing,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalObject,
  optionalString,
} from "./fields.js";

/** Most choices one request may ask for (`n`); OpenAI allows 128, a shared local engine less. */
export const MAX_CHOICES = 16;
export const MAX_STOP_SEQUENCES = 4;

/** The keys this module reads (for the ignored-parameters header). */
export const SAMPLING_KEYS = [
  "max_tokens",
  "temperature",
  "top_p",
  "n",
  "stop",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "response_format",
  "top_k",
  "min_p",
  "repetition_penalty",
  "ignore_eos",
] as const;

export function parseChoiceCount(body: JsonObject): number {
  return optionalInteger(body, "n", { min: 1, max: MAX_CHOICES }) ?? 1;
}

/** `maxTokensParam` is `max_completion_tokens` when the chat body has it, else `max_tokens`. */
export function parseSampling(body: JsonObject, maxTokensParam = "max_tokens"): SamplingOptions {
  const maxTokens = optionalInteger(body, maxTokensParam, { min: 1, max: 2 ** 31 - 1 });
  const topK = optionalInteger(body, "top_k", { min: -1 });
  return {
    maxTokens,
    temperature: optionalNumber(body, "temperature", { min: 0, max: 2 }) ?? 1,
    topP: optionalNumber(body, "top_p", { min: 0, max: 1 }) ?? 1,
    seed: optionalInteger(body, "seed"),
    stop: parseStop(body),
    presencePenalty: optionalNumber(body, "presence_penalty", { min: -2, max: 2 }) ?? 0,
    frequencyPenalty: optionalNumber(body, "frequency_penalty", { min: -2, max: 2 }) ?? 0,
    logitBias: parseLogitBias(body),
    responseFormat: parseResponseFormat(body),
    // vLLM's -1 and llama.cpp's 0 both mean "off"
    topK: topK === undefined ? undefined : Math.max(0, topK),
    minP: optionalNumber(body, "min_p", { min: 0, max: 1 }),
    repetitionPenalty: optionalNumber(body, "repetition_penalty", { min: 0, exclusiveMin: true, max: 10 }),
    ignoreEos: optionalBoolean(body, "ignore_eos") ?? false,
  };
}

function parseStop(body: JsonObject): string[] {
  const value = body.stop;
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value === "" ? [] : [value];
  if (!Array.isArray(value)) throw invalidType("stop", "a string or an array of strings", value);
  if (value.length > MAX_STOP_SEQUENCES) {
    throw invalidRequest(
      `Invalid 'stop': array too long. Expected an array with maximum length ${MAX_STOP_SEQUENCES}, but got an array with length ${value.length} instead.`,
      "stop",
      "array_above_max_length",
    );
  }
  return value.map((item: unknown, i) => {
    if (typeof item !== "string") throw invalidType(`stop[${i}]`, "a string", item);
    return item;
  });
}

function parseLogitBias(body: JsonObject): Map<number, number> {
  const bias = new Map<number, number>();
  const value = optionalObject(body, "logit_bias");
  if (!value) return bias;
  for (const [key, amount] of Object.entries(value)) {
    const param = `logit_bias.${key}`;
    if (!/^\d+$/.test(key) || !Number.isSafeInteger(Number(key))) {
      throw invalidRequest(`Invalid key in 'logit_bias': '${key}' is not a token id.`, "logit_bias", "invalid_value");
    }
    if (typeof amount !== "number" || !Number.isFinite(amount)) throw invalidType(param, "a number", amount);
    if (amount < -100 || amount > 100) {
      throw invalidRequest(
        `Invalid '${param}': bias must be between -100 and 100, but got ${amount} instead.`,
        "logit_bias",
        "invalid_value",
      );
    }
    bias.set(Number(key), amount);
  }
  return bias;
}

function parseResponseFormat(body: JsonObject): ResponseFormat {
  const format = optionalObject(body, "response_format");
  if (!format) return { type: "text" };
  const type = optionalString(format, "type");
  switch (type) {
    case undefined:
      throw missing("response_format.type");
    case "text":
    case "json_object":
      return { type };
    case "json_schema": {
      const spec = format.json_schema;
      if (spec === undefined || spec === null) throw missing("response_format.json_schema");
      if (typeof spec !== "object" || Array.isArray(spec)) {
        throw invalidType("response_format.json_schema", "an object", spec);
      }
      const fields = spec as JsonObject;
      const name = fields.name;
      if (typeof name !== "string") throw missing("response_format.json_schema.name");
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
        throw invalidRequest(
          `Invalid 'response_format.json_schema.name': '${name}' must be 1 to 64 letters, digits, '_' or '-'.`,
          "response_format.json_schema.name",
          "invalid_value",
        );
      }
      const schema = fields.schema ?? {};
      if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
        throw invalidType("response_format.json_schema.schema", "an object", schema);
      }
      const strict = fields.strict;
      if (strict !== undefined && strict !== null && typeof strict !== "boolean") {
        throw invalidType("response_format.json_schema.strict", "a boolean", strict);
      }
      return { type, name, schema: schema as JsonObject, strict: strict === true };
    }
    default:
      throw invalidRequest(
        `Invalid 'response_format.type': expected one of 'text', 'json_object' or 'json_schema', but got '${type}' instead.`,
        "response_format.type",
        "invalid_value",
      );
  }
}
