/**
 * OpenAI `response_format: json_schema` schemas → the JSON-schema subset node-llama-cpp compiles to a
 * grammar. node-llama-cpp quietly degrades what it does not know (an unknown `type` becomes `null`, a
 * missing `$ref` becomes "any value"), which would hand clients output that breaks their schema; so every
 * keyword is checked here and anything that cannot be enforced is refused with a 400 that names it and
 * where it is (`#/properties/age/minimum`). Accepted schemas are guaranteed: output that completes is
 * valid against them.
 *
 * Supported: `type` (one or a list), `enum`, `const`, `oneOf` / `anyOf`, `properties`, `required`,
 * `additionalProperties`, `minProperties` / `maxProperties`, `items`, `prefixItems`, `minItems` /
 * `maxItems`, `minLength` / `maxLength`, `format` (`date-time`, `date`, `time`), `$ref` to `#/$defs/…`
 * or `#/definitions/…`; annotations (`title`, `description`, `default`, `examples`...) are ignored.
 */
import { invalidRequest, type LlmError } from "../errors.js";
import type { JsonObject } from "../engine/llm-provider.js";

/** A schema in node-llama-cpp's subset, as plain JSON (cast to its `GbnfJsonSchema` where compiled). */
export type GrammarSchema = { readonly [key: string]: unknown };

const PARAM = "response_format.json_schema.schema";
const MAX_DEPTH = 32;
const MAX_SCHEMA_BYTES = 64 * 1024;

const ANNOTATIONS = new Set([
  "title",
  "description",
  "$schema",
  "$id",
  "$comment",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
]);
const STRUCTURE = new Set([
  "type",
  "enum",
  "const",
  "oneOf",
  "anyOf",
  "properties",
  "required",
  "additionalProperties",
  "minProperties",
  "maxProperties",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "format",
  "$ref",
  "$defs",
  "definitions",
]);
const SCALAR_TYPES = new Set(["string", "number", "integer", "boolean", "null"]);
const ALL_TYPES = new Set([...SCALAR_TYPES, "object", "array"]);
const FORMATS = new Set(["date-time", "date", "time"]);

function refuse(path: string, message: string): LlmError {
  return invalidRequest(
    `Invalid JSON schema at '${path}': ${message} Supported: type, enum, const, oneOf/anyOf, properties, required, ` +
      "additionalProperties, min/maxProperties, items, prefixItems, min/maxItems, min/maxLength, " +
      "format (date-time, date, time), $ref to #/$defs.",
    PARAM,
    "invalid_json_schema",
  );
}

/** Checks `schema` and returns it in node-llama-cpp's subset, or throws a 400 `LlmError`. */
export function toGrammarSchema(schema: JsonObject): GrammarSchema {
  if (JSON.stringify(schema).length > MAX_SCHEMA_BYTES) {
    throw refuse("#", `the schema is larger than ${MAX_SCHEMA_BYTES} bytes.`);
  }
  const defs = new Map<string, unknown>();
  for (const key of ["$defs", "definitions"] as const) {
    const value = schema[key];
    if (value === undefined) continue;
    if (!isObject(value)) throw refuse(`#/${key}`, "must be an object of schemas.");
    for (const [name, def] of Object.entries(value)) defs.set(name, def);
  }
  const converter = new Converter(new Set(defs.keys()));
  const root = converter.convert(schema, "#", 0);
  if (defs.size === 0) return root;
  const convertedDefs: Record<string, GrammarSchema> = {};
  for (const [name, def] of defs) convertedDefs[name] = converter.convert(def, `#/$defs/${name}`, 1);
  if (root.$ref !== undefined || root.type === "object" || root.type === "array" || root.oneOf !== undefined) {
    return { ...root, $defs: convertedDefs };
  }
  return { oneOf: [root], $defs: convertedDefs };
}

class Converter {
  constructor(private readonly defNames: ReadonlySet<string>) {}

  convert(value: unknown, path: string, depth: number): GrammarSchema {
    if (depth > MAX_DEPTH) throw refuse(path, `schemas nest deeper than ${MAX_DEPTH} levels.`);
    if (value === true || (isObject(value) && Object.keys(value).every((k) => ANNOTATIONS.has(k)))) return anyValue();
    if (!isObject(value)) throw refuse(path, "a schema must be an object (or true).");
    for (const key of Object.keys(value)) {
      if (!ANNOTATIONS.has(key) && !STRUCTURE.has(key)) throw refuse(`${path}/${key}`, `'${key}' cannot be enforced.`);
    }
    if (value.$ref !== undefined) return this.ref(value, path);
    if (value.const !== undefined) return { const: scalarLiteral(value.const, `${path}/const`) };
    if (value.enum !== undefined) {
      if (!Array.isArray(value.enum) || value.enum.length === 0)
        throw refuse(`${path}/enum`, "must be a non-empty list.");
      return { enum: value.enum.map((v: unknown, i) => scalarLiteral(v, `${path}/enum/${i}`)) };
    }
    const alternatives = value.oneOf ?? value.anyOf;
    if (alternatives !== undefined) {
      const key = value.oneOf !== undefined ? "oneOf" : "anyOf";
      if (value.oneOf !== undefined && value.anyOf !== undefined)
        throw refuse(path, "use either oneOf or anyOf, not both.");
      if (!Array.isArray(alternatives) || alternatives.length === 0) {
        throw refuse(`${path}/${key}`, "must be a non-empty list of schemas.");
      }
      if (value.type !== undefined)
        throw refuse(path, `'type' next to '${key}' cannot be enforced; move it into each alternative.`);
      return { oneOf: alternatives.map((alt: unknown, i) => this.convert(alt, `${path}/${key}/${i}`, depth + 1)) };
    }
    const types = this.types(value, path);
    if (types.length === 1) return this.typed(types[0]!, value, path, depth);
    if (types.every((t) => SCALAR_TYPES.has(t)) && !hasStringKeywords(value)) return { type: types };
    return { oneOf: types.map((t) => this.typed(t, value, path, depth)) };
  }

  private ref(value: JsonObject, path: string): GrammarSchema {
    const ref = value.$ref;
    const onlyAnnotations = Object.keys(value).every((k) => k === "$ref" || ANNOTATIONS.has(k));
    if (!onlyAnnotations) throw refuse(path, "'$ref' next to other keywords cannot be enforced.");
    const m = typeof ref === "string" ? /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref) : null;
    if (!m)
      throw refuse(`${path}/$ref`, "only references to '#/$defs/<name>' or '#/definitions/<name>' are supported.");
    const name = m[1]!;
    if (!this.defNames.has(name)) throw refuse(`${path}/$ref`, `'${String(ref)}' names no definition.`);
    return { $ref: `#/$defs/${name}` };
  }

  private types(value: JsonObject, path: string): string[] {
    const type = value.type;
    if (type === undefined) {
      if (value.properties !== undefined || value.additionalProperties !== undefined || value.required !== undefined) {
        return ["object"];
      }
      if (value.items !== undefined || value.prefixItems !== undefined) return ["array"];
      if (hasStringKeywords(value)) return ["string"];
      return ["string", "number", "boolean", "null", "object", "array"];
    }
    const list = Array.isArray(type) ? type : [type];
    if (list.length === 0) throw refuse(`${path}/type`, "must not be an empty list.");
    for (const t of list) {
      if (typeof t !== "string" || !ALL_TYPES.has(t)) {
        throw refuse(`${path}/type`, `unknown type '${String(t)}' (types: ${[...ALL_TYPES].join(", ")}).`);
      }
    }
    return [...new Set(list as string[])];
  }

  private typed(type: string, value: JsonObject, path: string, depth: number): GrammarSchema {
    switch (type) {
      case "string": {
        const minLength = count(value, "minLength", path);
        const maxLength = count(value, "maxLength", path);
        if (minLength !== undefined && maxLength !== undefined && minLength > maxLength) {
          throw refuse(path, "minLength is larger than maxLength.");
        }
        if (value.format !== undefined) {
          if (typeof value.format !== "string" || !FORMATS.has(value.format)) {
            throw refuse(`${path}/format`, `format ${JSON.stringify(value.format)} cannot be enforced.`);
          }
          if (minLength !== undefined || maxLength !== undefined) {
            throw refuse(path, "'format' together with minLength/maxLength cannot be enforced.");
          }
          return { type, format: value.format };
        }
        return {
          type,
          ...(minLength === undefined ? {} : { minLength }),
          ...(maxLength === undefined ? {} : { maxLength }),
        };
      }
      case "object":
        return this.object(value, path, depth);
      case "array":
        return this.array(value, path, depth);
      default:
        return { type };
    }
  }

  private object(value: JsonObject, path: string, depth: number): GrammarSchema {
    const out: Record<string, unknown> = { type: "object" };
    const properties: Record<string, GrammarSchema> = {};
    if (value.properties !== undefined) {
      if (!isObject(value.properties)) throw refuse(`${path}/properties`, "must be an object of schemas.");
      for (const [name, sub] of Object.entries(value.properties)) {
        properties[name] = this.convert(sub, `${path}/properties/${name}`, depth + 1);
      }
      out.properties = properties;
    }
    if (value.required !== undefined) {
      if (!Array.isArray(value.required) || !value.required.every((r) => typeof r === "string")) {
        throw refuse(`${path}/required`, "must be a list of property names.");
      }
      for (const name of value.required) {
        if (!Object.hasOwn(properties, name)) {
          throw refuse(`${path}/required`, `'${name}' is required but not among the properties.`);
        }
      }
      out.required = value.required;
    }
    const additional = value.additionalProperties;
    if (typeof additional === "boolean") out.additionalProperties = additional;
    else if (additional !== undefined) {
      out.additionalProperties = this.convert(additional, `${path}/additionalProperties`, depth + 1);
    }
    const minProperties = count(value, "minProperties", path);
    const maxProperties = count(value, "maxProperties", path);
    if (minProperties !== undefined) out.minProperties = minProperties;
    if (maxProperties !== undefined) out.maxProperties = maxProperties;
    return out;
  }

  private array(value: JsonObject, path: string, depth: number): GrammarSchema {
    const out: Record<string, unknown> = { type: "array" };
    if (value.items !== undefined && value.items !== true) {
      out.items = this.convert(value.items, `${path}/items`, depth + 1);
    }
    if (value.prefixItems !== undefined) {
      if (!Array.isArray(value.prefixItems)) throw refuse(`${path}/prefixItems`, "must be a list of schemas.");
      out.prefixItems = value.prefixItems.map((sub: unknown, i) =>
        this.convert(sub, `${path}/prefixItems/${i}`, depth + 1),
      );
    }
    const minItems = count(value, "minItems", path);
    const maxItems = count(value, "maxItems", path);
    if (minItems !== undefined && maxItems !== undefined && minItems > maxItems) {
      throw refuse(path, "minItems is larger than maxItems.");
    }
    if (minItems !== undefined) out.minItems = minItems;
    if (maxItems !== undefined) out.maxItems = maxItems;
    return out;
  }
}

function anyValue(): GrammarSchema {
  return {
    oneOf: [
      { type: ["string", "number", "boolean", "null"] },
      { type: "object", additionalProperties: true },
      { type: "array" },
    ],
  };
}

function hasStringKeywords(value: JsonObject): boolean {
  return value.minLength !== undefined || value.maxLength !== undefined || value.format !== undefined;
}

function count(value: JsonObject, key: string, path: string): number | undefined {
  const n = value[key];
  if (n === undefined) return undefined;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw refuse(`${path}/${key}`, `'${key}' must be a non-negative integer.`);
  }
  return n;
}

function scalarLiteral(value: unknown, path: string): string | number | boolean | null {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  throw refuse(path, "only strings, numbers, booleans and null can be enum or const values.");
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
