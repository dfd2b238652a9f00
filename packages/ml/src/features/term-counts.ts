/**
 * Counting the features (tokens or n-grams) of documents, shared by CountVectorizer and HashingVectorizer:
 * per-document counts over term ids, from the generic analyzer (any token pattern, n-grams) or from the
 * fast default-pattern unigram counter (`unigram-counter.ts`), which give the same counts.
 */
import type { Analyzer, ResolvedTextOptions } from "./analyzer.js";
import { countUnigrams, endDocument, TermTable } from "./unigram-counter.js";

/** Per-document counts over term ids: document d has ids[indptr[d] .. indptr[d+1]) with their counts. */
export interface RawCounts {
  readonly indptr: Int32Array;
  readonly ids: Int32Array;
  readonly counts: Float64Array;
}

/** Counts over a vocabulary grown from the documents themselves. */
export interface TermCounts {
  readonly raw: RawCounts;
  /** Term of each id; null for ids that are not terms (stop words met by the unigram counter). */
  readonly termOf: readonly (string | null)[];
  /** The id of a term of `termOf`. */
  readonly idOf: (term: string) => number;
}

/** Whether the fast unigram counter applies: default token pattern and unigrams only. */
export function usesUnigramCounter(options: ResolvedTextOptions): boolean {
  const [minN, maxN] = options.ngramRange;
  return options.tokenPattern === null && minN === 1 && maxN === 1;
}

/** Counts the features of each document; unknown features get new ids when `vocabulary` may grow. */
export function countDocuments(
  docs: readonly string[],
  analyze: Analyzer,
  vocabulary: Map<string, number>,
  grow: boolean,
): RawCounts {
  const indptr = new Int32Array(docs.length + 1);
  const ids: number[] = [];
  const counts: number[] = [];
  let scratch = new Int32Array(Math.max(16, vocabulary.size));
  const touched: number[] = [];
  for (let d = 0; d < docs.length; d++) {
    for (const feature of analyze(docs[d] as string)) {
      let id = vocabulary.get(feature);
      if (id === undefined) {
        if (!grow) continue;
        id = vocabulary.size;
        vocabulary.set(feature, id);
        if (id >= scratch.length) {
          const bigger = new Int32Array(scratch.length * 2);
          bigger.set(scratch);
          scratch = bigger;
        }
      }
      if (scratch[id] === 0) touched.push(id);
      scratch[id] = (scratch[id] as number) + 1;
    }
    endDocument({ scratch, touched, ids, counts });
    indptr[d + 1] = ids.length;
  }
  return { indptr, ids: Int32Array.from(ids), counts: Float64Array.from(counts) };
}

/** Counts the features of `docs`, giving each new term the next id. */
export function countTerms(docs: readonly string[], options: ResolvedTextOptions, analyzer: Analyzer): TermCounts {
  if (usesUnigramCounter(options)) {
    const stopWords = options.stopWords === null ? null : new Set(options.stopWords);
    const table = new TermTable();
    const raw = countUnigrams(docs, { lowercase: options.lowercase, stopWords }, table, true);
    // Stop words met in the text are in the table but never counted: they are not terms.
    const termOf = stopWords === null ? table.terms : table.terms.map((t) => (stopWords.has(t) ? null : t));
    return { raw, termOf, idOf: (term) => table.find(term, 0, term.length, TermTable.hash(term)) };
  }
  const vocabulary = new Map<string, number>();
  const raw = countDocuments(docs, analyzer, vocabulary, true);
  const termOf = new Array<string>(vocabulary.size);
  for (const [term, id] of vocabulary) termOf[id] = term;
  return { raw, termOf, idOf: (term) => vocabulary.get(term) as number };
}
