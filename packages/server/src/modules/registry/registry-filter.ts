/**
 * The registry's search language: `filter` and `order_by` of search-registered-models and
 * search-model-versions (mlflow-rest-api.md section 5), read by a tokenizer and a recursive-descent
 * parser into validated clauses (`registry-search.ts` compiles them to SQL). Error texts follow
 * MLflow's `SearchModelUtils` / `SearchModelVersionUtils`.
 *
 * Grammar (filter):   filter     := ε | clause (AND clause)*
 *                     clause     := identifier comparator value
 *                     identifier := segment ["." rest]        segment := word | "dq" | `bq`
 *                     comparator := = | != | <> | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN
 *                     value      := 'sq' | "dq" | number | "(" string ("," string)* ")"
 * Grammar (order_by): term       := identifier [ASC | DESC]
 * Keywords are case-insensitive; entity types and attribute keys are case-sensitive, as in MLflow.
 */
import { invalidParameter, type MlflowError } from "@slipway/protocol";

// ---------------------------------------------------------------------------------------------
// Tokenizer

type Quote = "" | '"' | "`";

type Token =
  | { kind: "ident"; parts: { text: string; quote: Quote }[]; raw: string; start: number }
  | { kind: "string"; value: string; raw: string; start: number }
  | { kind: "number"; value: number; raw: string; start: number }
  | { kind: "op" | "lparen" | "rparen" | "comma" | "unknown"; raw: string; start: number };

type IdentToken = Extract<Token, { kind: "ident" }>;

class UnterminatedQuote extends Error {}

const WORD = /[\p{L}\p{N}_]/u;
const WORD_START = /[\p{L}_]/u;
const DIGIT = /[0-9]/;
const SPACE = /\s/u;
const OPERATORS = ["!=", "<>", ">=", "<=", "=", ">", "<"];

const isWord = (c: string | undefined): boolean => c !== undefined && WORD.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && DIGIT.test(c);

/** A quoted run starting at `i` (its opening quote): the text without quotes (doubled quotes unescaped). */
function quoted(src: string, i: number): { text: string; next: number } {
  const q = src[i]!;
  let text = "";
  let j = i + 1;
  while (j < src.length) {
    const c = src[j]!;
    if (c === q) {
      if (src[j + 1] === q) {
        text += q;
        j += 2;
        continue;
      }
      return { text, next: j + 1 };
    }
    if (c === "\\" && q !== "`" && (src[j + 1] === q || src[j + 1] === "\\")) {
      text += src[j + 1]!;
      j += 2;
      continue;
    }
    text += c;
    j++;
  }
  throw new UnterminatedQuote();
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const start = i;
    if (SPACE.test(c)) {
      i++;
    } else if (c === "'") {
      const q = quoted(src, i);
      i = q.next;
      tokens.push({ kind: "string", value: q.text, raw: src.slice(start, i), start });
    } else if (isDigit(c) || ((c === "-" || c === "+") && isDigit(src[i + 1]))) {
      let j = i + 1;
      while (isDigit(src[j])) j++;
      if (src[j] === "." && isDigit(src[j + 1])) {
        j++;
        while (isDigit(src[j])) j++;
      }
      if (isWord(src[j])) {
        while (isWord(src[j])) j++;
        tokens.push({ kind: "unknown", raw: src.slice(start, j), start });
      } else {
        tokens.push({ kind: "number", value: Number(src.slice(start, j)), raw: src.slice(start, j), start });
      }
      i = j;
    } else if (c === '"' || c === "`" || WORD_START.test(c)) {
      // an identifier: its first segment, then at most one "." and the rest of the key (MLflow splits once)
      const parts: { text: string; quote: Quote }[] = [];
      const segment = (): void => {
        const ch = src[i]!;
        if (ch === '"' || ch === "`") {
          const q = quoted(src, i);
          parts.push({ text: q.text, quote: ch });
          i = q.next;
        } else {
          let j = i;
          while (isWord(src[j])) j++;
          parts.push({ text: src.slice(i, j), quote: "" });
          i = j;
        }
      };
      segment();
      while (src[i] === "." && (src[i + 1] === '"' || src[i + 1] === "`" || isWord(src[i + 1]))) {
        i++;
        segment();
      }
      tokens.push({ kind: "ident", parts, raw: src.slice(start, i), start });
    } else if ("<>=!".includes(c)) {
      const op = OPERATORS.find((o) => src.startsWith(o, i));
      const raw = op ?? c;
      tokens.push({ kind: op ? "op" : "unknown", raw, start });
      i += raw.length;
    } else {
      const kind = c === "(" ? "lparen" : c === ")" ? "rparen" : c === "," ? "comma" : "unknown";
      tokens.push({ kind, raw: c, start });
      i++;
    }
  }
  return tokens;
}

function isKeyword(t: Token | undefined, word: string): boolean {
  return (
    t?.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === "" && t.parts[0]!.text.toUpperCase() === word
  );
}

// ---------------------------------------------------------------------------------------------
// Parser

type Value =
  | { kind: "string"; value: string; raw: string }
  | { kind: "number"; value: number; raw: string }
  | { kind: "list"; items: string[]; raw: string }
  | { kind: "other"; raw: string };

interface RawClause {
  ident: IdentToken;
  comparator: string;
  value: Value;
}

class Parser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private invalidClause(from: number): MlflowError {
    const first = this.tokens[from];
    let end = this.src.length;
    for (let k = from + 1; k < this.tokens.length; k++) {
      if (isKeyword(this.tokens[k], "AND")) {
        end = this.tokens[k]!.start;
        break;
      }
    }
    return invalidParameter(
      `Invalid clause(s) in filter string: ${first ? this.src.slice(first.start, end).trim() : ""}`,
    );
  }

  parse(): RawClause[] {
    const clauses: RawClause[] = [];
    if (this.tokens.length === 0) return clauses;
    for (;;) {
      clauses.push(this.clause());
      if (this.peek() === undefined) return clauses;
      if (!isKeyword(this.peek(), "AND")) throw this.invalidClause(this.pos);
      this.pos++;
      if (this.peek() === undefined) throw this.invalidClause(this.pos - 1);
    }
  }

  private clause(): RawClause {
    const start = this.pos;
    const ident = this.peek();
    if (ident?.kind !== "ident" || isKeyword(ident, "AND")) throw this.invalidClause(start);
    this.pos++;
    const comparator = this.comparator();
    if (comparator === undefined) throw this.invalidClause(start);
    const value = this.value();
    if (value === undefined) throw this.invalidClause(start);
    return { ident, comparator, value };
  }

  private comparator(): string | undefined {
    const t = this.peek();
    if (t?.kind === "op") {
      this.pos++;
      return t.raw === "<>" ? "!=" : t.raw;
    }
    for (const word of ["LIKE", "ILIKE", "IN"]) {
      if (isKeyword(t, word)) {
        this.pos++;
        return word;
      }
    }
    if (isKeyword(t, "NOT") && isKeyword(this.peek(1), "IN")) {
      this.pos += 2;
      return "NOT IN";
    }
    return undefined;
  }

  private value(): Value | undefined {
    const t = this.peek();
    if (t === undefined) return undefined;
    if (t.kind === "string" || t.kind === "number") {
      this.pos++;
      return t.kind === "string"
        ? { kind: "string", value: t.value, raw: t.raw }
        : { kind: "number", value: t.value, raw: t.raw };
    }
    if (t.kind === "ident") {
      if (isKeyword(t, "AND")) return undefined;
      this.pos++;
      const only = t.parts.length === 1 ? t.parts[0]! : undefined;
      return only?.quote === '"' ? { kind: "string", value: only.text, raw: t.raw } : { kind: "other", raw: t.raw };
    }
    if (t.kind === "lparen") return this.list();
    return undefined;
  }

  private list(): Value {
    const open = this.peek()!;
    this.pos++;
    const items: string[] = [];
    let expectItem = true;
    for (;;) {
      const t = this.peek();
      if (t === undefined) break;
      this.pos++;
      if (t.kind === "rparen" && !expectItem) {
        return { kind: "list", items, raw: this.src.slice(open.start, t.start + 1) };
      }
      if (t.kind === "rparen" && items.length === 0) {
        throw invalidParameter(
          "While parsing a list in the query, expected a non-empty list of string values, but got empty list",
        );
      }
      if (expectItem && t.kind === "string") items.push(t.value);
      else if (expectItem && t.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === '"')
        items.push(t.parts[0]!.text);
      else if (!expectItem && t.kind === "comma") {
        expectItem = true;
        continue;
      } else break;
      expectItem = false;
    }
    throw invalidParameter(
      "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.",
    );
  }
}

function parseFilter(filter: string): RawClause[] {
  let tokens: Token[];
  try {
    tokens = tokenize(filter);
  } catch (error) {
    if (error instanceof UnterminatedQuote) throw invalidParameter(`Invalid filter '${filter}'. Could not be parsed.`);
    throw error;
  }
  return new Parser(filter, tokens).parse();
}

/** One order_by entry: its identifier token and direction. */
export function parseOrderTerm(orderBy: string): { ident: IdentToken; ascending: boolean } {
  const unparsable = () => invalidParameter(`Invalid order_by clause '${orderBy}'. Could not be parsed.`);
  let tokens: Token[];
  try {
    tokens = tokenize(orderBy);
  } catch (error) {
    if (error instanceof UnterminatedQuote) throw unparsable();
    throw error;
  }
  const [first, second, ...rest] = tokens;
  if (first?.kind !== "ident" || rest.length > 0) throw unparsable();
  if (second === undefined || isKeyword(second, "ASC")) return { ident: first, ascending: true };
  if (isKeyword(second, "DESC")) return { ident: first, ascending: false };
  throw unparsable();
}

// ---------------------------------------------------------------------------------------------
// Identifiers and clause validation shared by both searches

/** Python's repr of a set of strings, as MLflow prints it in messages. */
function pySet(items: Iterable<string>): string {
  return `{${[...items].map((s) => `'${s}'`).join(", ")}}`;
}

interface Identifier {
  type: "attribute" | "tag";
  key: string;
}

/** `key` or `<type>.<key>` with type attribute / tag / tags; attribute keys must be in `valid`. */
export function identifier(ident: IdentToken, valid: readonly string[]): Identifier {
  const [first, ...rest] = ident.parts;
  let type: Identifier["type"] = "attribute";
  let key = first!.text;
  if (rest.length > 0) {
    if (first!.text !== "attribute" && first!.text !== "tag" && first!.text !== "tags") {
      throw invalidParameter(
        `Invalid entity type '${first!.text}'. Valid entity types are ('attribute', 'tag', 'tags')`,
      );
    }
    type = first!.text === "attribute" ? "attribute" : "tag";
    key = rest.map((p) => p.text).join(".");
  }
  if (type === "attribute" && !valid.includes(key)) {
    throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(valid)}'`);
  }
  return { type, key };
}

export interface Clause {
  type: "attribute" | "tag";
  key: string;
  /** `= != > >= < <= LIKE ILIKE IN` */
  comparator: string;
  value: string | number | string[];
}

const STRING_COMPARATORS = ["=", "!=", "LIKE", "ILIKE"];
const NUMERIC_COMPARATORS = ["=", "!=", ">", ">=", "<", "<="];

function tagClause(key: string, comparator: string, value: Value): Clause {
  if (value.kind !== "string") {
    throw invalidParameter(`Expected a quoted string value for tag (e.g. 'my-value'). Got value ${value.raw}`);
  }
  if (!STRING_COMPARATORS.includes(comparator)) throw invalidParameter(`Invalid comparator for tag: ${comparator}`);
  return { type: "tag", key, comparator, value: value.value };
}

function stringValue(key: string, value: Value, listKey: string | undefined): string | string[] {
  if (value.kind === "string") return value.value;
  if (value.kind === "list") {
    if (key !== listKey)
      throw invalidParameter("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
    return value.items;
  }
  throw invalidParameter(
    `Expected a quoted string value or a list of quoted string values for attributes. Got value ${value.raw}`,
  );
}

// ---------------------------------------------------------------------------------------------
// search-registered-models: `name` and tags

const MODEL_FILTER_KEYS = ["name"];

export function parseModelFilter(filter: string | undefined): Clause[] {
  if (!filter) return [];
  return parseFilter(filter).map((raw) => {
    const { type, key } = identifier(raw.ident, MODEL_FILTER_KEYS);
    if (type === "tag") return tagClause(key, raw.comparator, raw.value);
    const value = stringValue(key, raw.value, undefined);
    if (!STRING_COMPARATORS.includes(raw.comparator))
      throw invalidParameter(`Invalid comparator for attribute: ${raw.comparator}`);
    return { type, key, comparator: raw.comparator, value };
  });
}

// ---------------------------------------------------------------------------------------------
// search-model-versions: `name`, `version_number`, `run_id` (also IN), `source_path` and tags

const VERSION_FILTER_KEYS = ["name", "version_number", "run_id", "source_path"];

export function parseVersionFilter(filter: string | undefined): Clause[] {
  if (!filter) return [];
  return parseFilter(filter).map((raw) => {
    const { type, key } = identifier(raw.ident, VERSION_FILTER_KEYS);
    const { comparator, value } = raw;
    if (type === "tag") return tagClause(key, comparator, value);
    if (key === "version_number") {
      let n: number | undefined;
      if (value.kind === "number") n = value.value;
      else if (value.kind === "string" && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(value.value)) n = Number(value.value);
      if (n === undefined) {
        if (value.kind === "list") {
          throw invalidParameter(
            "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
          );
        }
        throw invalidParameter(`Expected a numeric value for attribute version_number. Got value ${value.raw}`);
      }
      if (!NUMERIC_COMPARATORS.includes(comparator))
        throw invalidParameter(`Invalid comparator for attribute ${key}: ${comparator}`);
      return { type, key, comparator, value: n };
    }
    if (value.kind === "number") {
      throw invalidParameter(
        `Only the '${pySet(["version_number", "creation_timestamp", "last_updated_timestamp"])}' attributes support comparison with numeric values.`,
      );
    }
    const v = stringValue(key, value, "run_id");
    const allowed = key === "run_id" ? [...STRING_COMPARATORS, "IN"] : STRING_COMPARATORS;
    if (!allowed.includes(comparator)) throw invalidParameter(`Invalid comparator for attribute: ${comparator}`);
    if (comparator === "IN" && !Array.isArray(v)) {
      throw invalidParameter(`Expected a list of quoted string values for comparator 'IN'. Got value ${value.raw}`);
    }
    if (comparator !== "IN" && Array.isArray(v)) {
      throw invalidParameter(
        `Comparator '${comparator}' does not accept a list of values; use IN. Got value ${value.raw}`,
      );
    }
    return { type, key, comparator, value: v };
  });
}
