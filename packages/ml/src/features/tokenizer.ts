/**
 * Word tokenization equal to scikit-learn's default text analyzer (`CountVectorizer(analyzer="word")`).
 *
 * scikit-learn lowercases the document (Python `str.lower`, which JavaScript's `toLowerCase` matches,
 * including the final-sigma rule and "İ" → "i̇", up to differences between the Unicode versions of
 * Python and Node) and then takes every match of the Python pattern `(?u)\b\w\w+\b`.
 * In Python 3, `\w` on `str` is Unicode-aware: letters (Lu, Ll, Lt, Lm, Lo), numbers (Nd, Nl, No) and
 * the underscore — but not combining marks (Mn, Mc), so a decomposed "é" (e + U+0301) splits a word.
 * `\b` is the boundary between such a character and anything else. JavaScript's `\w` is ASCII-only even
 * with the `u` flag, so the default pattern here spells the same class with Unicode property escapes.
 * Its matches are exactly the maximal runs of word characters that are at least two code points long.
 */
import { MlError } from "../core/errors.js";

/** Python 3's Unicode `\w` as a JavaScript character class (use with the `u` flag). */
export const WORD_CHAR_CLASS = "[\\p{L}\\p{N}_]";

/**
 * The JavaScript equivalent of scikit-learn's default `token_pattern` `(?u)\b\w\w+\b`. A global scan for
 * runs of two or more word characters always starts at the beginning of a run and takes all of it, so the
 * `\b` assertions are implied and left out (they cost a third of the matching time).
 */
export const DEFAULT_TOKEN_PATTERN: RegExp = new RegExp(`${WORD_CHAR_CLASS}{2,}`, "gu");

export interface TokenizeOptions {
  /** Lowercase the text before matching (default true, as scikit-learn). */
  lowercase?: boolean;
  /**
   * The token pattern, a JavaScript regular expression (default {@link DEFAULT_TOKEN_PATTERN}). As in
   * scikit-learn, a pattern with one capturing group yields that group instead of the whole match. The
   * `g` flag is added when missing. Note the pattern has JavaScript semantics (`\w` is ASCII unless
   * written with property escapes).
   */
  tokenPattern?: RegExp;
}

/** Number of capturing groups of a pattern. */
function groupCount(pattern: RegExp): number {
  const probe = new RegExp(`${pattern.source}|`, pattern.flags.replace(/[gy]/g, ""));
  const match = probe.exec("");
  return match === null ? 0 : match.length - 1;
}

const patternCache = new WeakMap<RegExp, { global: RegExp; group: number }>();

function prepare(pattern: RegExp): { global: RegExp; group: number } {
  const cached = patternCache.get(pattern);
  if (cached !== undefined) return cached;
  const groups = groupCount(pattern);
  if (groups > 1) {
    throw new MlError(`tokenPattern ${String(pattern)} has ${groups} capturing groups; at most one is allowed`);
  }
  const flags = pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`;
  const prepared = { global: new RegExp(pattern.source, flags.replace("y", "")), group: groups };
  patternCache.set(pattern, prepared);
  return prepared;
}

/**
 * Splits `text` into tokens as scikit-learn's default word analyzer does before n-grams and stop words:
 * `tokenize("Hello, World! a b2")` is `["hello", "world", "b2"]`.
 */
export function tokenize(text: string, options?: TokenizeOptions): string[] {
  const source = options?.lowercase === false ? text : text.toLowerCase();
  const pattern = options?.tokenPattern;
  if (pattern === undefined) {
    return source.match(DEFAULT_TOKEN_PATTERN) ?? [];
  }
  const { global, group } = prepare(pattern);
  const out: string[] = [];
  for (const match of source.matchAll(global)) {
    const token = group === 1 ? match[1] : match[0];
    // An optional group that did not take part matches "" in Python's findall.
    out.push(token ?? "");
  }
  return out;
}
