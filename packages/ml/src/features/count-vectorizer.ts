/**
 * CountVectorizer: documents → CSR matrix of term counts, equal to scikit-learn's
 * `sklearn.feature_extraction.text.CountVectorizer` with `analyzer="word"`.
 *
 * How it matches scikit-learn:
 * - tokens and n-grams come from the same analyzer (see `analyzer.ts` and `tokenizer.ts`);
 * - the vocabulary is sorted by code point (Python's string order) and maps terms to column indices;
 * - `binary` sets every count to 1 *before* pruning, so `maxFeatures` then ranks by document frequency;
 * - pruning keeps terms with `minDocCount <= df <= maxDocCount`, then, when more than `maxFeatures`
 *   remain, the `maxFeatures` terms with the highest corpus frequency, ties going to the term that sorts
 *   first (scikit-learn sorts the vocabulary before ranking for this reason; note its `argsort` is not
 *   formally stable for more than 16 tied candidates, where we keep the documented lexicographic rule);
 * - the errors are scikit-learn's: an empty vocabulary, `maxDf` below `minDf`, nothing left after pruning.
 *
 * `minDf` / `maxDf`: scikit-learn reads an int as a document count and a float as a proportion of the
 * documents. JavaScript cannot tell `1` from `1.0`, so a plain number is read as: a non-integer → a
 * proportion in [0, 1]; an integer ≥ 2 → a count; 0 → zero; and 1 → the scikit-learn default for that
 * parameter (`minDf: 1` is the count 1, `maxDf: 1` the proportion 1.0 — both keep everything). Write
 * `{ count: n }` or `{ proportion: p }` to say exactly which you mean (e.g. `maxDf: { count: 1 }`).
 */
import { MlError } from "../core/errors.js";
import type { CsrMatrix } from "../core/matrix.js";
import {
  buildAnalyzer,
  checkDocuments,
  resolveTextOptions,
  textOptionsFromJson,
  textOptionsToJson,
  type Analyzer,
  type ResolvedTextOptions,
  type TextAnalyzerOptions,
} from "./analyzer.js";
import { compareCodePoints, sortByCodePoint } from "./code-point-order.js";
import { describe, FORMAT_VERSION, JsonReader, notFittedError, type JsonObject } from "./serialization.js";
import { countDocuments, countTerms, usesUnigramCounter, type RawCounts } from "./term-counts.js";
import { countUnigrams, TermTable } from "./unigram-counter.js";

/** A document-frequency threshold: a plain number (see the file comment), a count or a proportion. */
export type DocumentFrequency = number | { readonly count: number } | { readonly proportion: number };

/** A threshold in explicit form. */
export type ResolvedDocumentFrequency = { readonly count: number } | { readonly proportion: number };

export interface CountVectorizerOptions extends TextAnalyzerOptions {
  /** Drop terms found in fewer documents (default 1: keep all). */
  minDf?: DocumentFrequency;
  /** Drop terms found in more documents (default proportion 1.0: keep all). */
  maxDf?: DocumentFrequency;
  /** Keep only this many terms, the most frequent in the corpus (default: no limit). */
  maxFeatures?: number | null;
  /** Record presence (1) rather than counts (default false). */
  binary?: boolean;
}

/** Validated options of a CountVectorizer. */
export interface ResolvedCountOptions extends ResolvedTextOptions {
  readonly minDf: ResolvedDocumentFrequency;
  readonly maxDf: ResolvedDocumentFrequency;
  readonly maxFeatures: number | null;
  readonly binary: boolean;
}

/** The JSON form of a fitted CountVectorizer. */
export interface CountVectorizerJson extends JsonObject {
  type: "CountVectorizer";
  version: 1;
  options: JsonObject;
  /** The terms in column order. */
  vocabulary: string[];
}

function resolveDf(value: DocumentFrequency, which: "minDf" | "maxDf", owner: string): ResolvedDocumentFrequency {
  const bad = (): never => {
    throw new MlError(
      `${owner}: ${which} must be an integer count ≥ 0, a proportion in [0, 1], { count } or { proportion }; got ${describe(value)}`,
    );
  };
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) return bad();
    if (value === 1) return which === "minDf" ? { count: 1 } : { proportion: 1 };
    if (Number.isInteger(value)) return { count: value };
    return value < 1 ? { proportion: value } : bad();
  }
  if (typeof value === "object" && value !== null) {
    if ("count" in value && Object.keys(value).length === 1) {
      return Number.isInteger(value.count) && value.count >= 0 ? { count: value.count } : bad();
    }
    if ("proportion" in value && Object.keys(value).length === 1) {
      const p = value.proportion;
      return typeof p === "number" && p >= 0 && p <= 1 ? { proportion: p } : bad();
    }
  }
  return bad();
}

/** The document count a threshold stands for in a corpus of `nDocs` (a float for proportions, as sklearn). */
function docCount(df: ResolvedDocumentFrequency, nDocs: number): number {
  return "count" in df ? df.count : df.proportion * nDocs;
}

function resolveCountOptions(options: CountVectorizerOptions, owner: string): ResolvedCountOptions {
  const maxFeatures = options.maxFeatures ?? null;
  if (maxFeatures !== null && (!Number.isInteger(maxFeatures) || maxFeatures < 1)) {
    throw new MlError(`${owner}: maxFeatures must be a positive integer or null, got ${describe(maxFeatures)}`);
  }
  return {
    ...resolveTextOptions(options, owner),
    minDf: resolveDf(options.minDf ?? 1, "minDf", owner),
    maxDf: resolveDf(options.maxDf ?? { proportion: 1 }, "maxDf", owner),
    maxFeatures,
    binary: options.binary ?? false,
  };
}

/**
 * The CSR matrix of `raw` with provisional ids mapped to columns by `column` (−1 drops the entry),
 * columns sorted within each row.
 */
/**
 * The CSR matrix of raw counts. `column` maps raw ids to columns (−1 = dropped; null = the ids are the
 * columns). `valueAt` is scratch of at least `cols` entries, reused across calls: every entry read is
 * written first, so it needs no clearing, and a one-text transform allocates nothing of vocabulary size.
 */
function buildMatrix(
  raw: RawCounts,
  column: Int32Array | null,
  cols: number,
  options: { binary: boolean; valueAt: Float64Array },
): CsrMatrix {
  const { binary, valueAt } = options;
  const rows = raw.indptr.length - 1;
  const indptr = new Int32Array(rows + 1);
  let nnz = raw.ids.length;
  if (column !== null) {
    nnz = 0;
    for (let k = 0; k < raw.ids.length; k++) if ((column[raw.ids[k] as number] as number) >= 0) nnz++;
  }
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let at = 0;
  for (let i = 0; i < rows; i++) {
    const start = at;
    for (let k = raw.indptr[i] as number; k < (raw.indptr[i + 1] as number); k++) {
      const id = raw.ids[k] as number;
      const c = column === null ? id : (column[id] as number);
      if (c < 0) continue;
      indices[at++] = c;
      valueAt[c] = binary ? 1 : (raw.counts[k] as number);
    }
    const row = indices.subarray(start, at);
    row.sort();
    for (let k = start; k < at; k++) data[k] = valueAt[indices[k] as number] as number;
    indptr[i + 1] = at;
  }
  return { kind: "csr", rows, cols, indptr, indices, data };
}

/** Converts a collection of text documents to a sparse matrix of token counts. */
export class CountVectorizer {
  readonly options: ResolvedCountOptions;
  private readonly analyzer: Analyzer;
  private terms: string[] | null = null;
  private index: Map<string, number> | null = null;
  private pruned: string[] = [];
  private table: TermTable | null = null;
  private valueAt: Float64Array | null = null;

  constructor(options: CountVectorizerOptions = {}) {
    this.options = resolveCountOptions(options, "CountVectorizer");
    this.analyzer = buildAnalyzer(this.options);
  }

  /** True once `fit` (or `fitTransform`, or `fromJSON`) has set a vocabulary. */
  get isFitted(): boolean {
    return this.terms !== null;
  }

  /** Learns the vocabulary of `docs`. */
  fit(docs: readonly string[]): this {
    this.fitTransform(docs);
    return this;
  }

  /** Learns the vocabulary of `docs` and returns their document-term matrix. */
  fitTransform(docs: readonly string[]): CsrMatrix {
    checkDocuments(docs, "CountVectorizer");
    const o = this.options;
    const { raw, termOf, idOf } = countTerms(docs, o, this.analyzer);
    const nTerms = termOf.length;
    if (!termOf.some((t) => t !== null)) {
      throw new MlError("CountVectorizer: empty vocabulary; perhaps the documents only contain stop words");
    }
    const nDocs = docs.length;
    const maxDocCount = docCount(o.maxDf, nDocs);
    const minDocCount = docCount(o.minDf, nDocs);
    if (maxDocCount < minDocCount) {
      throw new MlError(
        `CountVectorizer: maxDf corresponds to fewer documents (${maxDocCount}) than minDf (${minDocCount})`,
      );
    }
    const df = new Float64Array(nTerms);
    const tf = new Float64Array(nTerms);
    for (let k = 0; k < raw.ids.length; k++) {
      const id = raw.ids[k] as number;
      df[id] = (df[id] as number) + 1;
      tf[id] = (tf[id] as number) + (o.binary ? 1 : (raw.counts[k] as number));
    }
    const keptTerms: string[] = [];
    const prunedIds: number[] = [];
    for (let id = 0; id < nTerms; id++) {
      const term = termOf[id];
      if (term === null || term === undefined) continue;
      const d = df[id] as number;
      if (d <= maxDocCount && d >= minDocCount) keptTerms.push(term);
      else prunedIds.push(id);
    }
    sortByCodePoint(keptTerms);
    let kept = keptTerms.map(idOf);
    if (o.maxFeatures !== null && kept.length > o.maxFeatures) {
      // Highest corpus frequency first; Array.prototype.sort is stable, so ties keep term order.
      const ranked = [...kept].sort((a, b) => (tf[b] as number) - (tf[a] as number));
      const limited = new Set(ranked.slice(0, o.maxFeatures));
      for (const id of ranked.slice(o.maxFeatures)) prunedIds.push(id);
      kept = kept.filter((id) => limited.has(id));
    }
    if (kept.length === 0) {
      throw new MlError("CountVectorizer: after pruning, no terms remain; try a lower minDf or a higher maxDf");
    }
    const column = new Int32Array(nTerms).fill(-1);
    kept.forEach((id, c) => (column[id] = c));
    this.setVocabulary(kept.map((id) => termOf[id] as string));
    this.pruned = sortByCodePoint(prunedIds.map((id) => termOf[id] as string));
    return buildMatrix(raw, column, kept.length, { binary: o.binary, valueAt: this.scratchOf(kept.length) });
  }

  /** The document-term matrix of `docs` over the fitted vocabulary; unknown terms are ignored. */
  transform(docs: readonly string[]): CsrMatrix {
    const index = this.index;
    const terms = this.terms;
    if (index === null || terms === null) throw notFittedError("CountVectorizer");
    checkDocuments(docs, "CountVectorizer");
    let raw: RawCounts;
    if (usesUnigramCounter(this.options)) {
      this.table ??= TermTable.from(terms);
      raw = countUnigrams(docs, { lowercase: this.options.lowercase, stopWords: null }, this.table, false);
    } else {
      raw = countDocuments(docs, this.analyzer, index, false);
    }
    return buildMatrix(raw, null, terms.length, { binary: this.options.binary, valueAt: this.scratchOf(terms.length) });
  }

  /** The fitted terms in column order (scikit-learn's `get_feature_names_out()`). */
  featureNames(): string[] {
    if (this.terms === null) throw notFittedError("CountVectorizer");
    return [...this.terms];
  }

  /** The fitted map from term to column (scikit-learn's `vocabulary_`). */
  get vocabulary(): ReadonlyMap<string, number> {
    if (this.index === null) throw notFittedError("CountVectorizer");
    return this.index;
  }

  /**
   * Terms seen in the last `fit` but dropped by `minDf`, `maxDf` or `maxFeatures`, sorted (scikit-learn's
   * `stop_words_`). For introspection only: not saved by `toJSON()`.
   */
  get prunedTerms(): readonly string[] {
    return this.pruned;
  }

  toJSON(): CountVectorizerJson {
    if (this.terms === null) throw notFittedError("CountVectorizer");
    return {
      type: "CountVectorizer",
      version: FORMAT_VERSION,
      options: countOptionsToJson(this.options),
      vocabulary: [...this.terms],
    };
  }

  static fromJSON(obj: unknown): CountVectorizer {
    const reader = JsonReader.forType(obj, "CountVectorizer");
    const v = new CountVectorizer(countOptionsFromJson(reader.object("options"), "CountVectorizer.fromJSON"));
    v.setVocabulary(readVocabulary(reader));
    return v;
  }

  /** Scratch for buildMatrix, kept between calls. */
  private scratchOf(cols: number): Float64Array {
    if (this.valueAt === null || this.valueAt.length < cols) this.valueAt = new Float64Array(cols);
    return this.valueAt;
  }

  private setVocabulary(terms: string[]): void {
    this.terms = terms;
    this.table = null;
    this.index = new Map(terms.map((t, i) => [t, i]));
  }
}

/** Count options as JSON (document-frequency thresholds in explicit form). */
export function countOptionsToJson(o: ResolvedCountOptions): JsonObject {
  return {
    ...textOptionsToJson(o),
    minDf: { ...o.minDf },
    maxDf: { ...o.maxDf },
    maxFeatures: o.maxFeatures,
    binary: o.binary,
  };
}

/** Reads count options written by {@link countOptionsToJson}; the constructor validates them. */
export function countOptionsFromJson(reader: JsonReader, owner: string): CountVectorizerOptions {
  const maxFeatures =
    reader.raw("maxFeatures") === null ? null : reader.number("maxFeatures", { integer: true, min: 1 });
  for (const key of ["minDf", "maxDf"]) {
    const v = reader.raw(key);
    if (typeof v !== "object" || v === null) reader.fail(key, "{ count } or { proportion }");
  }
  const options: CountVectorizerOptions = {
    ...textOptionsFromJson(reader),
    minDf: reader.raw("minDf") as DocumentFrequency,
    maxDf: reader.raw("maxDf") as DocumentFrequency,
    maxFeatures,
    binary: reader.boolean("binary"),
  };
  resolveCountOptions(options, owner); // throws MlError on a bad value
  return options;
}

/** Reads a vocabulary: non-empty, strictly increasing in code-point order. */
function readVocabulary(reader: JsonReader): string[] {
  const vocabulary = reader.stringArray("vocabulary");
  if (vocabulary.length === 0) reader.fail("vocabulary", "a non-empty array of strings");
  for (let i = 1; i < vocabulary.length; i++) {
    if (compareCodePoints(vocabulary[i - 1] as string, vocabulary[i] as string) >= 0) {
      reader.fail("vocabulary", "sorted by code point without duplicates");
    }
  }
  return vocabulary;
}
