/**
 * The text analyzer shared by the vectorizers, equal to scikit-learn's `analyzer="word"` pipeline:
 * lowercase (optional) → token pattern → drop stop words → word n-grams joined by one space.
 * As in scikit-learn, stop words are removed before n-grams are formed (so "not the end" with stop word
 * "the" yields the bigram "not end"), and stop words are compared with the tokens as given (they are not
 * lowercased for you). The n-grams of a document are listed by increasing n, left to right.
 */
import { MlError } from "../core/errors.js";
import { describe, type JsonObject, type JsonReader } from "./serialization.js";
import { tokenize } from "./tokenizer.js";

/** Options of the word analyzer (all vectorizers accept them). */
export interface TextAnalyzerOptions {
  /** Lowercase documents before tokenizing (default true). */
  lowercase?: boolean;
  /** Token pattern (default scikit-learn's `(?u)\b\w\w+\b`; see {@link tokenize}). */
  tokenPattern?: RegExp;
  /** Word n-gram range [min, max], inclusive (default [1, 1]). */
  ngramRange?: readonly [number, number];
  /** Tokens to drop before n-grams are formed (default none). */
  stopWords?: readonly string[];
}

/** Validated analyzer options. */
export interface ResolvedTextOptions {
  readonly lowercase: boolean;
  readonly tokenPattern: RegExp | null;
  readonly ngramRange: readonly [number, number];
  readonly stopWords: readonly string[] | null;
}

export type Analyzer = (doc: string) => string[];

/** Checks analyzer options, naming the owner (e.g. "CountVectorizer") in errors. */
export function resolveTextOptions(options: TextAnalyzerOptions, owner: string): ResolvedTextOptions {
  const [min, max] = options.ngramRange ?? [1, 1];
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1) {
    throw new MlError(`${owner}: ngramRange must be two integers ≥ 1, got ${describe(options.ngramRange)}`);
  }
  if (min > max) {
    throw new MlError(`${owner}: ngramRange [${min}, ${max}] has its lower bound above its upper bound`);
  }
  const stopWords = options.stopWords ?? null;
  if (stopWords !== null && !stopWords.every((w) => typeof w === "string")) {
    throw new MlError(`${owner}: stopWords must be an array of strings`);
  }
  const tokenPattern = options.tokenPattern ?? null;
  if (tokenPattern !== null && !(tokenPattern instanceof RegExp)) {
    throw new MlError(`${owner}: tokenPattern must be a RegExp, got ${describe(tokenPattern)}`);
  }
  return {
    lowercase: options.lowercase ?? true,
    tokenPattern,
    ngramRange: [min, max],
    stopWords: stopWords === null ? null : [...stopWords],
  };
}

/** The function turning one document into its list of features (tokens and n-grams). */
export function buildAnalyzer(options: ResolvedTextOptions): Analyzer {
  const tokenizeOptions = {
    lowercase: options.lowercase,
    ...(options.tokenPattern === null ? {} : { tokenPattern: options.tokenPattern }),
  };
  const stop = options.stopWords === null ? null : new Set(options.stopWords);
  const [minN, maxN] = options.ngramRange;
  return (doc: string): string[] => {
    let tokens = tokenize(doc, tokenizeOptions);
    if (stop !== null) tokens = tokens.filter((t) => !stop.has(t));
    if (minN === 1 && maxN === 1) return tokens;
    const out: string[] = minN === 1 ? tokens.slice() : [];
    const count = tokens.length;
    for (let n = Math.max(minN, 2); n <= Math.min(maxN, count); n++) {
      for (let i = 0; i + n <= count; i++) out.push(tokens.slice(i, i + n).join(" "));
    }
    return out;
  };
}

/** Throws unless `docs` is an array of strings (a lone string is refused, as scikit-learn does). */
export function checkDocuments(docs: unknown, owner: string): asserts docs is readonly string[] {
  if (typeof docs === "string") {
    throw new MlError(`${owner}: expected an array of documents, got a single string`);
  }
  if (!Array.isArray(docs)) throw new MlError(`${owner}: expected an array of documents, got ${describe(docs)}`);
  for (let i = 0; i < docs.length; i++) {
    if (typeof docs[i] !== "string") {
      throw new MlError(`${owner}: document ${i} is ${describe(docs[i])}, expected a string`);
    }
  }
}

/** Analyzer options as JSON (the token pattern as its source and flags). */
export function textOptionsToJson(options: ResolvedTextOptions): JsonObject {
  return {
    lowercase: options.lowercase,
    tokenPattern:
      options.tokenPattern === null ? null : { source: options.tokenPattern.source, flags: options.tokenPattern.flags },
    ngramRange: [options.ngramRange[0], options.ngramRange[1]],
    stopWords: options.stopWords === null ? null : [...options.stopWords],
  };
}

/** Reads analyzer options written by {@link textOptionsToJson} (validated later by resolveTextOptions). */
export function textOptionsFromJson(reader: JsonReader): TextAnalyzerOptions {
  const options: TextAnalyzerOptions = { lowercase: reader.boolean("lowercase") };
  const rawPattern = reader.raw("tokenPattern");
  if (rawPattern !== null) {
    if (!isPatternJson(rawPattern)) reader.fail("tokenPattern", "null or { source, flags }");
    try {
      options.tokenPattern = new RegExp(rawPattern.source, rawPattern.flags);
    } catch {
      reader.fail("tokenPattern", "a valid regular expression");
    }
  }
  const range = reader.raw("ngramRange");
  if (!Array.isArray(range) || range.length !== 2) reader.fail("ngramRange", "a pair of integers");
  options.ngramRange = range as [number, number];
  if (reader.raw("stopWords") !== null) options.stopWords = reader.stringArray("stopWords");
  return options;
}

function isPatternJson(value: unknown): value is { source: string; flags: string } {
  if (typeof value !== "object" || value === null) return false;
  const { source, flags } = value as { source?: unknown; flags?: unknown };
  return typeof source === "string" && typeof flags === "string";
}
