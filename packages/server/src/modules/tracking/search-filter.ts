/**
 * The MLflow search DSL (`filter` and `order_by` of search-runs and search-experiments): a tokenizer,
 * a recursive-descent parser producing raw clauses, and per-search validation that turns them into
 * `FilterClause`/`OrderTerm` values. Error texts follow MLflow's `search_utils.py` so clients that
 * match on them keep working.
 *
 * Grammar (filter):   filter  := ε | clause (AND clause)*
 *                     clause  := ident comparator value
 *                     ident   := segment ("." segment)*          segment := word | "dq" | `bq`
 *                     comparator := "=" | "!=" | ">" | ">=" | "<" | "<=" | LIKE | ILIKE | IN | NOT IN
 *                     value   := 'sq' | "dq" | number | "(" string ("," string)* ")"
 * Grammar (order_by): term    := ident [ASC | DESC]
 * Keywords are case-insensitive; entity types and attribute keys are case-sensitive, as in MLflow.
 */
import { MlflowError } from "@slipway/protocol";

export type RunEntity = "metric" | "param" | "tag" | "attribute" | "dataset";

export interface FilterClause {
  entity: RunEntity;
  key: string;
  /** One of `= != > >= < <= LIKE ILIKE IN NOT IN` (keywords upper-cased). */
  comparator: string;
  /** number for metrics and numeric attributes, string[] for IN / NOT IN, string otherwise. */
  value: string | number | string[];
}

export interface OrderTerm {
  entity: RunEntity;
  key: string;
  ascending: boolean;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

interface Segment {
  text: string;
  /** "" for a bare word, otherwise the quote character that enclosed it. */
  quote: "" | '"' | "`";
}

type Token =
  | { kind: "ident"; segments: Segment[]; raw: string; start: number; end: number }
  | { kind: "string"; value: string; raw: string; start: number; end: number }
  | { kind: "number"; value: number; raw: string; start: number; end: number }
  | { kind: "op"; raw: string; start: number; end: number }
  | { kind: "lparen" | "rparen" | "comma" | "unknown"; raw: string; start: number; end: number };

type IdentToken = Extract<Token, { kind: "ident" }>;

class TokenizeError extends Error {}

const WORD_CHAR = /[\p{L}\p{N}_]/u;
const WORD_START = /[\p{L}_]/u;
const DIGIT = /[0-9]/;
const OP_CHARS = "<>=!~";
const SPACE = /\s/u;

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && WORD_CHAR.test(c);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && DIGIT.test(c);
}

/** Reads a quoted run starting at `i` (the opening quote); returns the unescaped text and the index after it. */
function readQuoted(src: string, i: number, quote: string): { text: string; next: number } {
  let text = "";
  let j = i + 1;
  while (j < src.length) {
    const c = src[j]!;
    if (c === quote) {
      if (src[j + 1] === quote) {
        // SQL-style doubled quote
        text += quote;
        j += 2;
        continue;
      }
      return { text, next: j + 1 };
    }
    if (c === "\\" && quote !== "`" && j + 1 < src.length) {
      const n = src[j + 1]!;
      if (n === quote || n === "\\" || n === "'" || n === '"') {
        text += n;
        j += 2;
        continue;
      }
    }
    text += c;
    j++;
  }
  throw new TokenizeError(`unterminated ${quote} quote at ${i}`);
}

function readSegment(src: string, i: number): { segment: Segment; next: number } {
  const c = src[i];
  if (c === '"' || c === "`") {
    const q = readQuoted(src, i, c);
    return { segment: { text: q.text, quote: c }, next: q.next };
  }
  let j = i;
  while (isWordChar(src[j])) j++;
  return { segment: { text: src.slice(i, j), quote: "" }, next: j };
}

function isSegmentStart(c: string | undefined): boolean {
  return c === '"' || c === "`" || isWordChar(c);
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      const q = readQuoted(src, i, "'");
      i = q.next;
      tokens.push({ kind: "string", value: q.text, raw: src.slice(start, i), start, end: i });
      continue;
    }
    const numberStart =
      isDigit(c) ||
      ((c === "-" || c === ".") && (isDigit(src[i + 1]) || (c === "-" && src[i + 1] === "." && isDigit(src[i + 2]))));
    if (numberStart) {
      let j = i;
      if (src[j] === "-") j++;
      while (isDigit(src[j])) j++;
      if (src[j] === ".") {
        j++;
        while (isDigit(src[j])) j++;
      }
      if (
        (src[j] === "e" || src[j] === "E") &&
        (isDigit(src[j + 1]) || ((src[j + 1] === "+" || src[j + 1] === "-") && isDigit(src[j + 2])))
      ) {
        j += 2;
        while (isDigit(src[j])) j++;
      }
      if (isWordChar(src[j])) {
        // `1abc`: neither a number nor an identifier
        while (isWordChar(src[j])) j++;
        tokens.push({ kind: "unknown", raw: src.slice(start, j), start, end: j });
      } else {
        const raw = src.slice(start, j);
        tokens.push({ kind: "number", value: Number(raw), raw, start, end: j });
      }
      i = j;
      continue;
    }
    if (c === '"' || c === "`" || WORD_START.test(c)) {
      const segments: Segment[] = [];
      let r = readSegment(src, i);
      segments.push(r.segment);
      i = r.next;
      while (src[i] === "." && isSegmentStart(src[i + 1])) {
        r = readSegment(src, i + 1);
        segments.push(r.segment);
        i = r.next;
      }
      tokens.push({ kind: "ident", segments, raw: src.slice(start, i), start, end: i });
      continue;
    }
    if (OP_CHARS.includes(c)) {
      let j = i;
      while (j < src.length && OP_CHARS.includes(src[j]!)) j++;
      tokens.push({ kind: "op", raw: src.slice(start, j), start, end: j });
      i = j;
      continue;
    }
    const kind = c === "(" ? "lparen" : c === ")" ? "rparen" : c === "," ? "comma" : "unknown";
    tokens.push({ kind, raw: c, start, end: i + 1 });
    i++;
  }
  return tokens;
}

/** A bare (unquoted, undotted) word equal to `word`, ignoring case. */
function isKeyword(t: Token | undefined, word: string): boolean {
  return (
    t !== undefined &&
    t.kind === "ident" &&
    t.segments.length === 1 &&
    t.segments[0]!.quote === "" &&
    t.segments[0]!.text.toUpperCase() === word
  );
}

// ---------------------------------------------------------------------------------------------
// Parser

type RawValue =
  | { kind: "string"; value: string; raw: string }
  | { kind: "number"; value: number; raw: string }
  | { kind: "list"; items: string[]; raw: string; problem?: string }
  | { kind: "other"; raw: string };

interface RawClause {
  ident: IdentToken;
  comparator: string;
  value: RawValue;
}

function invalid(message: string): MlflowError {
  return new MlflowError("INVALID_PARAMETER_VALUE", message);
}

const LIST_EMPTY = "While parsing a list in the query, expected a non-empty list of string values, but got empty list";
const LIST_ILL_FORMED =
  "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.";

class FilterParser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  /** The clause text from token `from` up to the next top-level AND (or the end), for error messages. */
  private invalidClause(from: number): MlflowError {
    const first = this.tokens[from];
    let end = this.src.length;
    for (let k = from + 1; k < this.tokens.length; k++) {
      if (isKeyword(this.tokens[k], "AND")) {
        end = this.tokens[k]!.start;
        break;
      }
    }
    const text = first ? this.src.slice(first.start, end).trim() : "";
    return invalid(`Invalid clause(s) in filter string: '${text}'`);
  }

  parse(): RawClause[] {
    const clauses: RawClause[] = [];
    if (this.tokens.length === 0) return clauses;
    for (;;) {
      clauses.push(this.clause());
      const next = this.peek();
      if (next === undefined) return clauses;
      if (!isKeyword(next, "AND")) throw this.invalidClause(this.pos);
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
    if (t === undefined) return undefined;
    if (t.kind === "op") {
      this.pos++;
      return t.raw;
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

  private value(): RawValue | undefined {
    const t = this.peek();
    if (t === undefined) return undefined;
    switch (t.kind) {
      case "string":
        this.pos++;
        return { kind: "string", value: t.value, raw: t.raw };
      case "number":
        this.pos++;
        return { kind: "number", value: t.value, raw: t.raw };
      case "ident": {
        if (isKeyword(t, "AND")) return undefined;
        this.pos++;
        const only = t.segments.length === 1 ? t.segments[0]! : undefined;
        if (only?.quote === '"') return { kind: "string", value: only.text, raw: t.raw };
        return { kind: "other", raw: t.raw };
      }
      case "lparen":
        return this.list();
      default:
        return undefined;
    }
  }

  /**
   * A parenthesised list. Problems with its items are recorded rather than thrown, so that a list
   * given to an entity that never takes one reports that instead (as MLflow does).
   */
  private list(): RawValue {
    const open = this.peek()!;
    this.pos++;
    const items: string[] = [];
    let nonString = false;
    let expectItem = true;
    let illFormed = false;
    for (;;) {
      const t = this.peek();
      if (t === undefined) throw invalid(LIST_ILL_FORMED);
      this.pos++;
      if (t.kind === "rparen") {
        const raw = this.src.slice(open.start, t.end);
        let problem: string | undefined;
        if (items.length === 0 && !nonString && !illFormed) problem = LIST_EMPTY;
        else if (illFormed || expectItem) problem = LIST_ILL_FORMED;
        else if (nonString) {
          problem = `While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ${raw}`;
        }
        return problem === undefined ? { kind: "list", items, raw } : { kind: "list", items, raw, problem };
      }
      if (expectItem) {
        if (t.kind === "string") items.push(t.value);
        else if (t.kind === "ident" && t.segments.length === 1 && t.segments[0]!.quote === '"')
          items.push(t.segments[0]!.text);
        else if (t.kind === "number" || t.kind === "ident") nonString = true;
        else illFormed = true;
        expectItem = false;
      } else if (t.kind === "comma") {
        expectItem = true;
      } else {
        illFormed = true;
      }
    }
  }
}

function parseRaw(filter: string): RawClause[] {
  let tokens: Token[];
  try {
    tokens = tokenize(filter);
  } catch (error) {
    if (error instanceof TokenizeError) throw invalid(`Invalid filter '${filter}'. Could not be parsed.`);
    throw error;
  }
  return new FilterParser(filter, tokens).parse();
}

// ---------------------------------------------------------------------------------------------
// Validation shared by the searches

/** Python's repr of a set of strings, as MLflow prints it in messages. */
function pySet(items: Iterable<string>): string {
  return `{${[...items].map((s) => `'${s}'`).join(", ")}}`;
}

const NUMERIC_COMPARATORS = [">", ">=", "!=", "=", "<", "<="] as const;
const STRING_COMPARATORS = ["!=", "=", "LIKE", "ILIKE"] as const;
const LIST_STRING_COMPARATORS = ["!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"] as const;

function checkComparator(comparator: string, allowed: readonly string[]): void {
  if (!allowed.includes(comparator)) {
    throw invalid(`Invalid comparator '${comparator}' not one of '${pySet(allowed)}'`);
  }
}

/** IN / NOT IN take a list and only a list; every other comparator takes a single value. */
function checkListUse(comparator: string, value: RawValue): void {
  const isListComparator = comparator === "IN" || comparator === "NOT IN";
  if (isListComparator && value.kind !== "list") {
    throw invalid(`Expected a list of quoted string values for comparator '${comparator}'. Got value ${value.raw}`);
  }
  if (!isListComparator && value.kind === "list") {
    throw invalid(
      `Comparator '${comparator}' does not accept a list of values; use IN or NOT IN. Got value ${value.raw}`,
    );
  }
}

/** The value of a string or list operand, throwing a list's recorded problem. */
function stringOrList(value: Extract<RawValue, { kind: "string" | "list" }>): string | string[] {
  if (value.kind === "string") return value.value;
  if (value.problem !== undefined) throw invalid(value.problem);
  return value.items;
}

function numericValue(value: RawValue, what: string): number {
  if (value.kind !== "number") throw invalid(`Expected numeric value type for ${what}. Found ${value.raw}`);
  return value.value;
}

function stringValue(value: RawValue, what: string): string {
  if (value.kind !== "string")
    throw invalid(`Expected a quoted string value for ${what} (e.g. 'my-value'). Got value ${value.raw}`);
  return value.value;
}

function splitIdent(ident: IdentToken): { type: string | undefined; key: string } {
  const segs = ident.segments;
  if (segs.length === 1) return { type: undefined, key: segs[0]!.text };
  return {
    type: segs[0]!.text,
    key: segs
      .slice(1)
      .map((s) => s.text)
      .join("."),
  };
}

// ---------------------------------------------------------------------------------------------
// search-runs

const RUN_ENTITY_TYPES: ReadonlyMap<string, RunEntity> = new Map<string, RunEntity>([
  ["metric", "metric"],
  ["metrics", "metric"],
  ["parameter", "param"],
  ["parameters", "param"],
  ["param", "param"],
  ["params", "param"],
  ["tag", "tag"],
  ["tags", "tag"],
  ["attribute", "attribute"],
  ["attributes", "attribute"],
  ["attr", "attribute"],
  ["run", "attribute"],
  ["dataset", "dataset"],
  ["datasets", "dataset"],
]);

const RUN_ATTRIBUTE_ALIASES: ReadonlyMap<string, string> = new Map([
  ["created", "start_time"],
  ["Created", "start_time"],
  ["run name", "run_name"],
  ["Run name", "run_name"],
  ["Run Name", "run_name"],
]);

const RUN_NUMERIC_ATTRIBUTES = new Set(["start_time", "end_time"]);
const RUN_SEARCH_ATTRIBUTES = [
  "artifact_uri",
  "end_time",
  "experiment_id",
  "lifecycle_stage",
  "run_id",
  "run_name",
  "start_time",
  "status",
  "user_id",
];
const RUN_SEARCH_ATTRIBUTE_KEYS = [...RUN_SEARCH_ATTRIBUTES, "created", "Created", "run name", "Run name", "Run Name"];
const RUN_ORDER_ATTRIBUTE_KEYS = [...RUN_SEARCH_ATTRIBUTES, "created", "Created"];
const DATASET_KEYS = ["name", "digest", "context"];

function runIdentifier(ident: IdentToken, attributeKeys: readonly string[]): { entity: RunEntity; key: string } {
  const { type, key } = splitIdent(ident);
  let entity: RunEntity = "attribute";
  if (type !== undefined) {
    const found = RUN_ENTITY_TYPES.get(type);
    if (found === undefined) {
      throw invalid(
        `Invalid entity type '${type}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']`,
      );
    }
    entity = found;
  }
  if (entity === "attribute") {
    if (!attributeKeys.includes(key)) {
      throw invalid(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(attributeKeys)}'`);
    }
    return { entity, key: RUN_ATTRIBUTE_ALIASES.get(key) ?? key };
  }
  if (entity === "dataset" && !DATASET_KEYS.includes(key)) {
    throw invalid(`Invalid dataset key '${key}' specified. Valid keys are '${pySet(DATASET_KEYS)}'`);
  }
  return { entity, key };
}

function runClause(raw: RawClause): FilterClause {
  const { entity, key } = runIdentifier(raw.ident, RUN_SEARCH_ATTRIBUTE_KEYS);
  const { comparator, value } = raw;
  switch (entity) {
    case "metric": {
      const v = numericValue(value, "metric");
      checkComparator(comparator, NUMERIC_COMPARATORS);
      return { entity, key, comparator, value: v };
    }
    case "param":
    case "tag": {
      const v = stringValue(value, entity === "param" ? "parameter" : "tag");
      checkComparator(comparator, STRING_COMPARATORS);
      return { entity, key, comparator, value: v };
    }
    case "attribute": {
      if (RUN_NUMERIC_ATTRIBUTES.has(key)) {
        const v = numericValue(value, `numeric attribute: ${key}`);
        checkComparator(comparator, NUMERIC_COMPARATORS);
        return { entity, key, comparator, value: v };
      }
      if (value.kind === "list" && key !== "run_id") {
        throw invalid("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
      }
      if (value.kind !== "list" && value.kind !== "string") {
        throw invalid(`Expected a quoted string value for attributes. Got value ${value.raw}`);
      }
      const v = stringOrList(value);
      checkComparator(comparator, key === "run_id" ? LIST_STRING_COMPARATORS : STRING_COMPARATORS);
      checkListUse(comparator, value);
      return { entity, key, comparator, value: v };
    }
    case "dataset": {
      if (value.kind !== "list" && value.kind !== "string") {
        throw invalid(`Expected a quoted string value for dataset attributes. Got value ${value.raw}`);
      }
      const v = stringOrList(value);
      checkComparator(comparator, LIST_STRING_COMPARATORS);
      checkListUse(comparator, value);
      return { entity, key, comparator, value: v };
    }
  }
}

/** Parses a search-runs filter; an empty or blank filter yields no clauses. */
export function parseRunFilter(filter: string | undefined): FilterClause[] {
  if (!filter) return [];
  return parseRaw(filter).map(runClause);
}

/** Parses one order_by entry into its identifier token and direction. */
function parseOrderTerm(orderBy: string): { ident: IdentToken; ascending: boolean } {
  const unparsable = () => invalid(`Invalid order_by clause '${orderBy}'. Could not be parsed.`);
  let tokens: Token[];
  try {
    tokens = tokenize(orderBy);
  } catch (error) {
    if (error instanceof TokenizeError) throw unparsable();
    throw error;
  }
  const [first, second, ...rest] = tokens;
  if (first?.kind !== "ident" || rest.length > 0) throw unparsable();
  let ascending = true;
  if (second !== undefined) {
    if (isKeyword(second, "ASC")) ascending = true;
    else if (isKeyword(second, "DESC")) ascending = false;
    else if (second.kind === "ident") throw invalid(`Invalid ordering key in order_by clause '${orderBy}'.`);
    else throw unparsable();
  }
  // MLflow unquotes the whole identifier before splitting it, so `"metrics.acc"` means metrics.acc.
  let ident = first;
  const only = ident.segments.length === 1 ? ident.segments[0]! : undefined;
  if (only && only.quote !== "" && only.text.includes(".")) {
    const dot = only.text.indexOf(".");
    ident = {
      ...ident,
      segments: [
        { text: only.text.slice(0, dot), quote: "" },
        { text: only.text.slice(dot + 1), quote: only.quote },
      ],
    };
  }
  return { ident, ascending };
}

/** Parses search-runs order_by entries (`<identifier> [ASC|DESC]`). */
export function parseRunOrderBy(orderBy: readonly string[] | undefined): OrderTerm[] {
  if (!orderBy) return [];
  return orderBy.map((entry) => {
    const { ident, ascending } = parseOrderTerm(entry);
    const { entity, key } = runIdentifier(ident, RUN_ORDER_ATTRIBUTE_KEYS);
    if (entity === "dataset") throw invalid(`Invalid identifier type '${entity}'`);
    return { entity, key, ascending };
  });
}

// ---------------------------------------------------------------------------------------------
// search-experiments

const EXPERIMENT_SEARCH_ATTRIBUTE_KEYS = ["name", "creation_time", "last_update_time"];
const EXPERIMENT_ORDER_ATTRIBUTE_KEYS = ["name", "experiment_id", "creation_time", "last_update_time"];
const EXPERIMENT_NUMERIC_ATTRIBUTES = new Set(["creation_time", "last_update_time"]);

function experimentIdentifier(
  ident: IdentToken,
  attributeKeys: readonly string[],
): { entity: "attribute" | "tag"; key: string } {
  const { type, key } = splitIdent(ident);
  let entity: "attribute" | "tag" = "attribute";
  if (type !== undefined) {
    if (type !== "attribute" && type !== "tag" && type !== "tags") {
      throw invalid(`Invalid entity type '${type}'. Valid entity types are ('attribute', 'tag', 'tags')`);
    }
    entity = type === "attribute" ? "attribute" : "tag";
  }
  if (entity === "attribute" && !attributeKeys.includes(key)) {
    throw invalid(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(attributeKeys)}'`);
  }
  return { entity, key };
}

function experimentClause(raw: RawClause): FilterClause {
  const { entity, key } = experimentIdentifier(raw.ident, EXPERIMENT_SEARCH_ATTRIBUTE_KEYS);
  const { comparator, value } = raw;
  if (entity === "tag") {
    const v = stringValue(value, "tag");
    checkComparator(comparator, STRING_COMPARATORS);
    return { entity, key, comparator, value: v };
  }
  if (EXPERIMENT_NUMERIC_ATTRIBUTES.has(key)) {
    const v = numericValue(value, `numeric attribute: ${key}`);
    checkComparator(comparator, NUMERIC_COMPARATORS);
    return { entity, key, comparator, value: v };
  }
  if (value.kind === "list") {
    throw invalid("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
  }
  if (value.kind !== "string") throw invalid(`Expected a quoted string value for attributes. Got value ${value.raw}`);
  checkComparator(comparator, STRING_COMPARATORS);
  return { entity, key, comparator, value: value.value };
}

/** Parses a search-experiments filter (`name`, `creation_time`, `last_update_time`, `tags.<key>`). */
export function parseExperimentFilter(filter: string | undefined): FilterClause[] {
  if (!filter) return [];
  return parseRaw(filter).map(experimentClause);
}

/** Parses search-experiments order_by entries; only attributes are orderable. */
export function parseExperimentOrderBy(orderBy: readonly string[] | undefined): OrderTerm[] {
  if (!orderBy) return [];
  return orderBy.map((entry) => {
    const { ident, ascending } = parseOrderTerm(entry);
    const { entity, key } = experimentIdentifier(ident, EXPERIMENT_ORDER_ATTRIBUTE_KEYS);
    if (entity !== "attribute") throw invalid(`Invalid order_by entity: ${entity}`);
    return { entity, key, ascending };
  });
}
