/**
 * A choice's generated text → OpenAI's tool calls. A provider that does tool calling marks its stream
 * (`GenerationStream.toolCalls`) and the model writes a call as one JSON object,
 * `{"name": "get_weather", "arguments": {…}}`:
 *
 * - `forced` (`tool_choice: required` or a named function): a grammar guarantees that shape, names first.
 *   As soon as the name is complete the call's header goes out (`id`, `type`, `function.name`), then the
 *   arguments' text as it is generated — the same deltas OpenAI streams. The outer closing brace is held
 *   back until more text shows it was not the last.
 * - `auto`: the model answers freely. Text whose first non-blank character is `{` is held until the
 *   choice ends; if it is then exactly a call of one of the request's tools (`name` a tool's name,
 *   `arguments` an object) it becomes a tool call, otherwise it goes out as text. Any other answer
 *   streams as text at once.
 *
 * Streamed and whole responses go through this same decoder, so their calls are identical. A finished
 * call has `finish_reason: "tool_calls"`; a call cut short by `max_tokens` keeps `length` and the
 * arguments written so far.
 */
import type { FinishReason } from "../engine/llm-provider.js";
import type { WireFinishReason } from "./wire-types.js";
import { randomId } from "../engine/random-ids.js";

export type ToolCallMode = "forced" | "auto";

export type ToolDelta =
  | { readonly kind: "content"; readonly text: string }
  | { readonly kind: "call"; readonly id: string; readonly name: string }
  | { readonly kind: "arguments"; readonly text: string };

const HEADER = /^\s*\{\s*"name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"arguments"\s*:\s*/;
/** What may close the call object: blanks, the outer `}`, blanks. */
const CLOSING = /\s*(?:\}\s*)?$/;

/** `call_` and 24 random characters, as OpenAI's ids look. */
export function newToolCallId(): string {
  return `call_${randomId(12, "hex")}`;
}

/** One choice's text on its way out. */
export class ToolCallDecoder {
  private buffer = "";
  private state: "undecided" | "text" | "header" | "arguments" = "undecided";
  private called = false;

  constructor(
    private readonly mode: ToolCallMode,
    private readonly toolNames: ReadonlySet<string>,
  ) {
    if (mode === "forced") this.state = "header";
  }

  push(text: string): ToolDelta[] {
    if (this.state === "text") return text === "" ? [] : [{ kind: "content", text }];
    this.buffer += text;
    if (this.state === "undecided") {
      const start = this.buffer.trimStart();
      if (start === "") return [];
      if (!start.startsWith("{")) return this.becomeText();
      // auto: held until the end, where the whole text decides
      return [];
    }
    const out: ToolDelta[] = [];
    if (this.state === "header") {
      const m = HEADER.exec(this.buffer);
      if (!m) return out;
      out.push({ kind: "call", id: newToolCallId(), name: JSON.parse(`"${m[1]!}"`) as string });
      this.called = true;
      this.buffer = this.buffer.slice(m[0].length);
      this.state = "arguments";
    }
    const hold = CLOSING.exec(this.buffer)!.index;
    if (hold > 0) {
      out.push({ kind: "arguments", text: this.buffer.slice(0, hold) });
      this.buffer = this.buffer.slice(hold);
    }
    return out;
  }

  /** The last deltas and the choice's finish reason. */
  finish(reason: FinishReason): { deltas: ToolDelta[]; reason: WireFinishReason } {
    switch (this.state) {
      case "text":
        return { deltas: [], reason };
      case "undecided":
        return { deltas: this.decideWhole(), reason: this.called ? "tool_calls" : reason };
      case "header":
        // the name never completed (cut short): what there is goes out as text
        return { deltas: this.buffer === "" ? [] : [{ kind: "content", text: this.buffer }], reason };
      case "arguments": {
        const complete = reason === "stop" && /^\s*\}\s*$/.test(this.buffer);
        const rest = complete || this.buffer === "" ? [] : [{ kind: "arguments" as const, text: this.buffer }];
        return { deltas: rest, reason: complete ? "tool_calls" : reason };
      }
    }
  }

  private becomeText(): ToolDelta[] {
    this.state = "text";
    const text = this.buffer;
    this.buffer = "";
    return [{ kind: "content", text }];
  }

  /** `auto`: the held text is a call if it is exactly one of a known tool, else text. */
  private decideWhole(): ToolDelta[] {
    const text = this.buffer;
    if (text.trim() === "") return text === "" ? [] : [{ kind: "content", text }];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return [{ kind: "content", text }];
    }
    const isCall =
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length === 2 &&
      typeof (value as { name?: unknown }).name === "string" &&
      this.toolNames.has((value as { name: string }).name) &&
      isPlainObject((value as { arguments?: unknown }).arguments);
    const m = isCall ? HEADER.exec(text) : null;
    if (!m) return [{ kind: "content", text }];
    const call = value as { name: string };
    this.called = true;
    const args = text.slice(m[0].length);
    return [
      { kind: "call", id: newToolCallId(), name: call.name },
      { kind: "arguments", text: args.slice(0, CLOSING.exec(args)!.index) },
    ];
  }
}

function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface DecodedChoice {
  /** Null when the choice is a tool call. */
  content: string | null;
  toolCalls: { id: string; type: "function"; function: { name: string; arguments: string } }[];
  finish: WireFinishReason;
}

/** A whole choice's text, decoded at once (non-streaming responses). */
export function decodeToolChoice(
  mode: ToolCallMode,
  toolNames: ReadonlySet<string>,
  text: string,
  reason: FinishReason,
): DecodedChoice {
  const decoder = new ToolCallDecoder(mode, toolNames);
  const deltas = decoder.push(text);
  const end = decoder.finish(reason);
  deltas.push(...end.deltas);
  let content = "";
  const toolCalls: DecodedChoice["toolCalls"] = [];
  for (const d of deltas) {
    if (d.kind === "content") content += d.text;
    else if (d.kind === "call")
      toolCalls.push({ id: d.id, type: "function", function: { name: d.name, arguments: "" } });
    else toolCalls[toolCalls.length - 1]!.function.arguments += d.text;
  }
  return { content: toolCalls.length > 0 ? null : content, toolCalls, finish: end.reason };
}
