/**
 * `POST /v1/chat/completions` bodies → a typed `ChatRequest`. Messages are checked one by one (role,
 * content as a string or text parts), and every problem is a 400 naming the field (`messages[2].role`).
 * Tools (`tools`, `tool_choice`, assistant `tool_calls`, `tool` messages) are parsed in
 * `tool-request.ts`; the deprecated `function` role and non-text content are refused explicitly rather
 * than dropped; other parameters that the server does not act on are accepted and listed in `ignored`.
 */
import { invalidRequest } from "../errors.js";
import type { ChatMessage, ChatRequest, JsonObject } from "../engine/llm-provider.js";
import {
  bodyObject,
  ignoredKeys,
  invalidType,
  missing,
  optionalBoolean,
  optionalObject,
  requiredString,
} from "./fields.js";
import { SAMPLING_KEYS, parseChoiceCount, parseSampling } from "./sampling-params.js";
import { TOOL_KEYS, parseMessageToolCalls, parseToolCallId, parseToolSettings } from "./tool-request.js";

export interface StreamSettings {
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk with `usage` and no choices. */
  includeUsage: boolean;
}

export interface ParsedChatRequest extends StreamSettings {
  request: ChatRequest;
  /** Body keys the server does not act on. */
  ignored: string[];
}

const CHAT_KEYS = new Set<string>([
  ...SAMPLING_KEYS,
  ...TOOL_KEYS,
  "model",
  "messages",
  "max_completion_tokens",
  "stream",
  "stream_options",
  "user",
]);

const ROLES = ["system", "developer", "user", "assistant", "tool", "function"];

export function parseChatRequest(input: unknown): ParsedChatRequest {
  const body = bodyObject(input);
  const model = requiredString(body, "model");
  const messages = parseMessages(body.messages);
  const tools = parseToolSettings(body);
  const maxParam =
    body.max_completion_tokens !== undefined && body.max_completion_tokens !== null
      ? "max_completion_tokens"
      : "max_tokens";
  const request: ChatRequest = {
    model,
    messages,
    n: parseChoiceCount(body),
    sampling: parseSampling(body, maxParam),
    raw: body,
    ...(tools === undefined ? {} : { tools }),
  };
  return { request, ...parseStreamSettings(body), ignored: ignoredKeys(body, CHAT_KEYS) };
}

export function parseStreamSettings(body: JsonObject): StreamSettings {
  const stream = optionalBoolean(body, "stream") ?? false;
  const options = optionalObject(body, "stream_options");
  if (options && !stream) {
    throw invalidRequest(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      "stream_options",
      "invalid_value",
    );
  }
  const includeUsage = options ? (optionalBoolean(options, "include_usage") ?? false) : false;
  return { stream, includeUsage };
}

function parseMessages(value: unknown): ChatMessage[] {
  if (value === undefined || value === null) throw missing("messages");
  if (!Array.isArray(value)) throw invalidType("messages", "an array", value);
  if (value.length === 0) {
    throw invalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      "messages",
      "empty_array",
    );
  }
  const messages = value.map((item: unknown, i) => parseMessage(item, `messages[${i}]`));
  // a tool result answers a call made earlier in the conversation, as OpenAI requires
  const calls = new Set<string>();
  for (const [i, m] of messages.entries()) {
    for (const call of m.toolCalls ?? []) calls.add(call.id);
    if (m.role === "tool" && !calls.has(m.toolCallId!)) {
      throw invalidRequest(
        `Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls' (no call has the id '${m.toolCallId}').`,
        `messages[${i}].tool_call_id`,
        "invalid_value",
      );
    }
  }
  return messages;
}

function parseMessage(value: unknown, param: string): ChatMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidType(param, "an object", value);
  }
  const message = value as JsonObject;
  const role = message.role;
  if (role === undefined || role === null) throw missing(`${param}.role`);
  if (typeof role !== "string" || !ROLES.includes(role)) {
    throw invalidRequest(
      `Invalid value: ${JSON.stringify(role)}. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
      `${param}.role`,
      "invalid_value",
    );
  }
  if (role === "function") {
    throw invalidRequest(
      "Messages with role 'function' (deprecated) are not supported; use 'tool' messages with 'tool_call_id'.",
      `${param}.role`,
      "unsupported_value",
    );
  }
  if (role === "tool") {
    const toolCallId = parseToolCallId(message.tool_call_id, `${param}.tool_call_id`);
    return { role, content: parseContent(message.content, `${param}.content`, false), toolCallId };
  }
  const hasCalls = role === "assistant" && message.tool_calls !== undefined && message.tool_calls !== null;
  const content = parseContent(message.content, `${param}.content`, role === "assistant");
  if (hasCalls) {
    const toolCalls = parseMessageToolCalls(message.tool_calls, `${param}.tool_calls`);
    return { role: "assistant", content, ...(toolCalls.length === 0 ? {} : { toolCalls }) };
  }
  return { role: role === "developer" ? "system" : (role as ChatMessage["role"]), content };
}

function parseContent(value: unknown, param: string, optional: boolean): string {
  if (value === undefined || value === null) {
    if (optional) return "";
    throw missing(param);
  }
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) throw invalidType(param, "a string or an array of content parts", value);
  const texts: string[] = [];
  for (const [j, part] of value.entries()) {
    const partParam = `${param}[${j}]`;
    if (typeof part !== "object" || part === null || Array.isArray(part))
      throw invalidType(partParam, "an object", part);
    const { type, text } = part as JsonObject;
    if (type !== "text") {
      throw invalidRequest(
        `Content parts of type '${String(type)}' are not supported by this model; only 'text' is.`,
        `${partParam}.type`,
        "unsupported_value",
      );
    }
    if (typeof text !== "string") throw invalidType(`${partParam}.text`, "a string", text);
    texts.push(text);
  }
  return texts.join("\n");
}
