/**
 * OpenAI's tool-calling fields of a chat request → typed `ToolSettings`, and the tool-related parts of
 * messages (an assistant's `tool_calls`, a `tool` message's `tool_call_id`). Every problem is a 400 naming
 * the field (`tools[1].function.parameters`, `tool_choice`), as OpenAI answers it.
 *
 * A tool's `parameters` schema is checked here with the same rules as `response_format` schemas
 * (`llama/json-schema.ts`): the arguments the model writes are forced by a grammar compiled from it,
 * so a keyword the grammar cannot enforce is refused rather than silently dropped.
 */
import { invalidRequest, LlmError } from "../errors.js";
import type { JsonObject, ToolCall, ToolChoice, ToolDefinition, ToolSettings } from "../engine/llm-provider.js";
import { toGrammarSchema } from "../llama/json-schema.js";
import { invalidType, missing, optionalBoolean } from "./fields.js";

/** Request keys this module reads. */
export const TOOL_KEYS: readonly string[] = ["tools", "tool_choice", "parallel_tool_calls"];

/** OpenAI's rule for function names. */
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TOOLS = 128;

/** `undefined` when the request has no tools (and no `tool_choice`). */
export function parseToolSettings(body: JsonObject): ToolSettings | undefined {
  optionalBoolean(body, "parallel_tool_calls");
  const tools = parseTools(body.tools);
  const choiceValue = body.tool_choice;
  if (tools.length === 0) {
    if (choiceValue !== undefined && choiceValue !== null && choiceValue !== "none") {
      throw invalidRequest(
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
        "tool_choice",
        "invalid_value",
      );
    }
    return undefined;
  }
  return { tools, choice: parseToolChoice(choiceValue, tools) };
}

function parseTools(value: unknown): ToolDefinition[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidType("tools", "an array", value);
  if (value.length > MAX_TOOLS) {
    throw invalidRequest(
      `Invalid 'tools': array too long. Expected an array with maximum length ${MAX_TOOLS}, but got an array with length ${value.length} instead.`,
      "tools",
      "array_above_max_length",
    );
  }
  const seen = new Set<string>();
  return value.map((item: unknown, i): ToolDefinition => {
    const param = `tools[${i}]`;
    if (!isObject(item)) throw invalidType(param, "an object", item);
    if (item.type !== "function") {
      throw invalidRequest(
        `Invalid value: ${JSON.stringify(item.type ?? null)}. Supported values are: 'function'.`,
        `${param}.type`,
        "invalid_value",
      );
    }
    const fn = item.function;
    if (fn === undefined || fn === null) throw missing(`${param}.function`);
    if (!isObject(fn)) throw invalidType(`${param}.function`, "an object", fn);
    const name = fn.name;
    if (name === undefined || name === null) throw missing(`${param}.function.name`);
    if (typeof name !== "string" || !FUNCTION_NAME.test(name)) {
      throw invalidRequest(
        `Invalid '${param}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.`,
        `${param}.function.name`,
        "invalid_value",
      );
    }
    if (seen.has(name)) {
      throw invalidRequest(`Invalid 'tools': the function name '${name}' is given twice.`, `${param}.function.name`);
    }
    seen.add(name);
    const description = fn.description;
    if (description !== undefined && description !== null && typeof description !== "string") {
      throw invalidType(`${param}.function.description`, "a string", description);
    }
    return {
      name,
      description: typeof description === "string" ? description : undefined,
      parameters: parseParameters(fn.parameters, `${param}.function.parameters`),
    };
  });
}

/** A function without `parameters` takes an empty object, as OpenAI treats it. */
function parseParameters(value: unknown, param: string): JsonObject {
  if (value === undefined || value === null) return { type: "object", properties: {} };
  if (!isObject(value)) throw invalidType(param, "an object", value);
  if (value.type !== "object") {
    throw invalidRequest(
      `Invalid schema for function parameters: schema must be a JSON Schema of 'type: "object"', got 'type: ${JSON.stringify(value.type ?? null)}'.`,
      param,
      "invalid_function_parameters",
    );
  }
  try {
    toGrammarSchema(value);
  } catch (error) {
    if (error instanceof LlmError) throw invalidRequest(error.message, param, "invalid_function_parameters");
    throw error;
  }
  return value;
}

function parseToolChoice(value: unknown, tools: readonly ToolDefinition[]): ToolChoice {
  if (value === undefined || value === null || value === "auto") return { type: "auto" };
  if (value === "none" || value === "required") return { type: value };
  if (typeof value === "string") {
    throw invalidRequest(
      `Invalid value: '${value}'. Supported values are: 'none', 'auto', and 'required'.`,
      "tool_choice",
      "invalid_value",
    );
  }
  if (!isObject(value)) throw invalidType("tool_choice", "a string or an object", value);
  if (value.type !== "function") {
    throw invalidRequest(
      `Invalid value: ${JSON.stringify(value.type ?? null)}. Supported values are: 'function'.`,
      "tool_choice.type",
      "invalid_value",
    );
  }
  const fn = value.function;
  if (!isObject(fn))
    throw fn === undefined || fn === null
      ? missing("tool_choice.function")
      : invalidType("tool_choice.function", "an object", fn);
  const name = fn.name;
  if (name === undefined || name === null) throw missing("tool_choice.function.name");
  if (typeof name !== "string") throw invalidType("tool_choice.function.name", "a string", name);
  if (!tools.some((t) => t.name === name)) {
    throw invalidRequest(
      `Invalid value for 'tool_choice': no function named '${name}' was specified in the 'tools' parameter.`,
      "tool_choice",
      "invalid_value",
    );
  }
  return { type: "function", name };
}

/** An assistant message's `tool_calls`. */
export function parseMessageToolCalls(value: unknown, param: string): ToolCall[] {
  if (!Array.isArray(value)) throw invalidType(param, "an array", value);
  return value.map((item: unknown, i): ToolCall => {
    const at = `${param}[${i}]`;
    if (!isObject(item)) throw invalidType(at, "an object", item);
    if (typeof item.id !== "string")
      throw item.id === undefined ? missing(`${at}.id`) : invalidType(`${at}.id`, "a string", item.id);
    if (item.type !== "function") {
      throw invalidRequest(
        `Invalid value: ${JSON.stringify(item.type ?? null)}. Supported values are: 'function'.`,
        `${at}.type`,
        "invalid_value",
      );
    }
    const fn = item.function;
    if (!isObject(fn))
      throw fn === undefined ? missing(`${at}.function`) : invalidType(`${at}.function`, "an object", fn);
    if (typeof fn.name !== "string") {
      throw fn.name === undefined
        ? missing(`${at}.function.name`)
        : invalidType(`${at}.function.name`, "a string", fn.name);
    }
    if (typeof fn.arguments !== "string") {
      throw fn.arguments === undefined
        ? missing(`${at}.function.arguments`)
        : invalidType(`${at}.function.arguments`, "a string", fn.arguments);
    }
    return { id: item.id, name: fn.name, arguments: fn.arguments };
  });
}

/** A `tool` message's `tool_call_id`. */
export function parseToolCallId(value: unknown, param: string): string {
  if (value === undefined || value === null) throw missing(param);
  if (typeof value !== "string") throw invalidType(param, "a string", value);
  return value;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
