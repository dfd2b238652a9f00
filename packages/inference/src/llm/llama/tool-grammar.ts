/**
 * The grammar that makes the model call a tool: its output must be one JSON object
 * `{"name": <a tool's name>, "arguments": <that tool's parameters>}`, names first so the edge can stream
 * the call's header before its arguments (`openai/tool-calls.ts`). `tool_choice: required` allows
 * any of the tools (one alternative per tool, so each name carries its own arguments schema); a named
 * function allows only that one. Tools' `$defs` are hoisted to the root under `<tool>-<name>`, since
 * references resolve against the whole grammar's root.
 */
import type { ToolChoice, ToolDefinition } from "../engine/llm-provider.js";
import { toGrammarSchema, type GrammarSchema } from "./json-schema.js";

/** The schema of a forced tool call, or `undefined` when `choice` forces none (`none`, `auto`). */
export function toolCallSchema(tools: readonly ToolDefinition[], choice: ToolChoice): GrammarSchema | undefined {
  let allowed: readonly ToolDefinition[];
  if (choice.type === "required") allowed = tools;
  else if (choice.type === "function") allowed = tools.filter((t) => t.name === choice.name);
  else return undefined;
  const defs: Record<string, GrammarSchema> = {};
  const alternatives = allowed.map((tool): GrammarSchema => {
    const { $defs, ...parameters } = toGrammarSchema(tool.parameters) as { $defs?: Record<string, GrammarSchema> };
    const rename = (name: string) => `${tool.name}-${name}`;
    for (const [name, def] of Object.entries($defs ?? {}))
      defs[rename(name)] = renameRefs(def, rename) as GrammarSchema;
    return {
      type: "object",
      properties: { name: { const: tool.name }, arguments: renameRefs(parameters, rename) },
      required: ["name", "arguments"],
      additionalProperties: false,
    };
  });
  const root: GrammarSchema = alternatives.length === 1 ? alternatives[0]! : { oneOf: alternatives };
  return Object.keys(defs).length === 0 ? root : { ...root, $defs: defs };
}

/** Rewrites `#/$defs/NAME` references (as `toGrammarSchema` writes them) with `rename`. */
function renameRefs(value: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameRefs(v, rename));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key === "$ref" && typeof v === "string" && v.startsWith("#/$defs/")
        ? `#/$defs/${rename(v.slice("#/$defs/".length))}`
        : renameRefs(v, rename);
  }
  return out;
}
