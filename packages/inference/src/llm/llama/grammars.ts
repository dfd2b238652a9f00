/**
 * `response_format` → a llama.cpp grammar that constrains sampling: `json_object` uses node-llama-cpp's
 * JSON grammar (any object), `json_schema` compiles the checked schema (see `json-schema.ts`). Compiled
 * grammars are cached by schema text, since clients send the same schema again and again.
 */
import type { Llama, LlamaGrammar } from "node-llama-cpp";
import { invalidRequest } from "../errors.js";
import type { ResponseFormat } from "../engine/llm-provider.js";
import { toGrammarSchema, type GrammarSchema } from "./json-schema.js";

export interface ResolvedGrammar {
  readonly grammar: LlamaGrammar;
  /** Texts that end the output (the grammar's own end marker), not included in it. */
  readonly stopTexts: readonly string[];
  readonly trimTrailingWhitespace: boolean;
}

const CACHE_SIZE = 32;

export class GrammarCache {
  private json: Promise<LlamaGrammar> | undefined;
  private readonly schemas = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly llama: Llama) {}

  async resolve(format: ResponseFormat): Promise<ResolvedGrammar | undefined> {
    if (format.type === "text") return undefined;
    let grammar: LlamaGrammar;
    if (format.type === "json_object") {
      this.json ??= this.llama.getGrammarFor("json");
      grammar = await this.json;
    } else {
      return this.resolveSchema(toGrammarSchema(format.schema), "response_format.json_schema.schema");
    }
    return resolved(grammar);
  }

  /** A grammar for a schema already in node-llama-cpp's subset (`param` names it in errors). */
  async resolveSchema(schema: GrammarSchema, param: string): Promise<ResolvedGrammar> {
    const key = JSON.stringify(schema);
    let pending = this.schemas.get(key);
    if (pending) {
      // most recently used last
      this.schemas.delete(key);
    } else {
      pending = this.compile(schema, param);
      // a schema that fails must not stay cached
      pending.catch(() => this.schemas.delete(key));
    }
    this.schemas.set(key, pending);
    if (this.schemas.size > CACHE_SIZE) this.schemas.delete(this.schemas.keys().next().value!);
    return resolved(await pending);
  }

  private async compile(schema: GrammarSchema, param: string): Promise<LlamaGrammar> {
    try {
      // the schema is checked at run time (json-schema.ts); node-llama-cpp's signature wants a literal type
      const compileSchema = this.llama.createGrammarForJsonSchema.bind(this.llama) as unknown as (
        schema: GrammarSchema,
      ) => Promise<LlamaGrammar>;
      return await compileSchema(schema);
    } catch (error) {
      throw invalidRequest(
        `The JSON schema could not be compiled to a grammar: ${error instanceof Error ? error.message : String(error)}`,
        param,
        "invalid_json_schema",
      );
    }
  }
}

function resolved(grammar: LlamaGrammar): ResolvedGrammar {
  return {
    grammar,
    stopTexts: grammar.stopGenerationTriggers.map(triggerText).filter((t) => t !== ""),
    trimTrailingWhitespace: grammar.trimWhitespaceSuffix,
  };
}

/** A grammar's stop trigger as text (token ids in a trigger are not expected from JSON grammars; skipped). */
function triggerText(trigger: LlamaGrammar["stopGenerationTriggers"][number]): string {
  if (typeof trigger === "string") return trigger;
  if (Array.isArray(trigger)) return trigger.every((t) => typeof t === "string") ? trigger.join("") : "";
  return trigger.toString();
}
