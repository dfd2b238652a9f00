/**
 * Chat messages → prompt tokens, through the chat template node-llama-cpp resolves from the GGUF file
 * (ChatML for Qwen, Llama 3's, Mistral's... or the file's own Jinja template). The template also says
 * where an answer ends: its stop triggers become stop tokens (special tokens such as `<|im_end|>`) and
 * stop texts (the same marker written as plain text).
 */
import type { ChatHistoryItem, ChatWrapper, LlamaModel, LlamaText, Token } from "node-llama-cpp";
import type { ChatMessage } from "../engine/llm-provider.js";

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
): RenderedPrompt {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    switch (m.role) {
      case "system":
        return { type: "system", text: m.content };
      case "user":
        return { type: "user", text: m.content };
      case "assistant":
        return { type: "model", response: [m.content] };
    }
  });
  // the answer to generate: an empty model turn, which the template leaves open
  history.push({ type: "model", response: [] });
  const state = wrapper.generateContextState({ chatHistory: history });
  const stopTokens = new Set<Token>();
  const stopTexts: string[] = [];
  for (const trigger of state.stopGenerationTriggers) addTrigger(model, trigger, stopTokens, stopTexts);
  return { tokens: state.contextText.tokenize(model.tokenizer), stopTokens, stopTexts };
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
