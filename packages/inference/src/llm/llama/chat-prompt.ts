/**
 * Chat messages → prompt tokens, through the chat template node-llama-cpp resolves from the GGUF file
 * (ChatML for Qwen, Llama 3's, Mistral's... or the file's own Jinja template). The template also says
 * where an answer ends: its stop triggers become stop tokens (special tokens such as `<|im_end|>`) and
 * stop texts (the same marker written as plain text).
 *
 * Tools are rendered the template's way too: the functions a request offers go into the system text
 * the template writes for them, an assistant's earlier `tool_calls` become function calls in its turn,
 * each with its result taken from the `tool` message that answers it (matched by `tool_call_id`).
 */
import type {
  ChatHistoryItem,
  ChatModelFunctionCall,
  ChatModelFunctions,
  ChatModelResponse,
  ChatWrapper,
  GbnfJsonSchema,
  LlamaModel,
  LlamaText,
  Token,
} from "node-llama-cpp";
import type { ChatMessage, ToolDefinition } from "../engine/llm-provider.js";

export interface RenderedPrompt {
  readonly tokens: Token[];
  /** Tokens that end the answer (beyond the model's end-of-generation tokens). */
  readonly stopTokens: ReadonlySet<Token>;
  /** Texts that end the answer, not included in it. */
  readonly stopTexts: readonly string[];
}

export function renderChatPrompt(
  model: LlamaModel,
  wrapper: ChatWrapper,
  messages: readonly ChatMessage[],
  tools: readonly ToolDefinition[] = [],
): RenderedPrompt {
  const results = new Map<string, string>();
  for (const m of messages) if (m.role === "tool") results.set(m.toolCallId!, m.content);
  const history: ChatHistoryItem[] = [];
  for (const m of messages) {
    switch (m.role) {
      case "system":
        history.push({ type: "system", text: m.content });
        break;
      case "user":
        history.push({ type: "user", text: m.content });
        break;
      case "assistant":
        history.push({ type: "model", response: modelResponse(m, results) });
        break;
      case "tool":
        // rendered with the call it answers
        break;
    }
  }
  // the answer to generate: an empty model turn, which the template leaves open
  history.push({ type: "model", response: [] });
  const state = wrapper.generateContextState({
    chatHistory: history,
    ...(tools.length === 0 ? {} : { availableFunctions: availableFunctions(tools), documentFunctionParams: true }),
  });
  const stopTokens = new Set<Token>();
  const stopTexts: string[] = [];
  for (const trigger of state.stopGenerationTriggers) addTrigger(model, trigger, stopTokens, stopTexts);
  return { tokens: state.contextText.tokenize(model.tokenizer), stopTokens, stopTexts };
}

function modelResponse(message: ChatMessage, results: ReadonlyMap<string, string>): ChatModelResponse["response"] {
  const response: ChatModelResponse["response"] = message.content === "" ? [] : [message.content];
  for (const call of message.toolCalls ?? []) {
    const item: ChatModelFunctionCall = {
      type: "functionCall",
      name: call.name,
      params: parseArguments(call.arguments),
      result: results.get(call.id) ?? "",
    };
    response.push(item);
  }
  return response;
}

/** Arguments as the template should show them: parsed JSON, or the text as sent when it is not JSON. */
function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function availableFunctions(tools: readonly ToolDefinition[]): ChatModelFunctions {
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      ...(tool.description === undefined ? {} : { description: tool.description }),
      params: tool.parameters as unknown as GbnfJsonSchema,
    };
  }
  return functions;
}

function addTrigger(model: LlamaModel, trigger: LlamaText, tokens: Set<Token>, texts: string[]): void {
  if (trigger.values.every((v) => typeof v === "string")) {
    const text = trigger.values.join("");
    if (text !== "" && !texts.includes(text)) texts.push(text);
    return;
  }
  const ids = trigger.tokenize(model.tokenizer);
  if (ids.length === 1) tokens.add(ids[0]!);
  else {
    // a multi-token special sequence: catch it as text, which is how it would read if generated
    const text = model.detokenize(ids, true);
    if (text !== "" && !texts.includes(text)) texts.push(text);
  }
}
