/**
 * Text drift: has the content of a text column changed between a reference and a current batch?
 *
 * Domain classifier (after Evidently's text drift, with a calibrated threshold): label reference documents 0
 * and current ones 1, split each side 50/50 at random (seeded, so both halves hold both sides), fit TF-IDF
 * (sublinear tf) and a logistic regression on one half, and score the other half. The statistic is the ROC
 * AUC of those held-out scores: 0.5 when the classifier cannot tell the sides apart, near 1 when it can.
 *
 * Why permuting the held-out labels gives a calibrated null: the classifier was fitted on the training half
 * only, so its scores of held-out documents are a fixed function of those documents. Under "no drift" the
 * held-out documents of both sides come from one distribution, so which of them carry label 1 is exchangeable:
 * every relabelling with the same counts is equally likely. The AUC of the fixed scores against randomly
 * permuted labels is therefore an exact sample of the AUC's null distribution for this very split and
 * classifier, whatever the vocabulary, document lengths or class sizes, with no retraining (each permutation
 * costs O(n) on precomputed ranks). Evidently's fixed 0.55 (or random scores) ignores how the real scores tie
 * and cluster; this does not. p = (1 + #{permuted AUC ≥ observed}) / (1 + permutations) is a valid p-value
 * (P(p ≤ α) ≤ α), and the threshold is the ⌊α·(permutations + 1)⌋-th largest permuted AUC, so that
 * `auc > threshold` holds exactly when `pValue ≤ alpha`.
 *
 * The result also explains the drift: the terms with the largest positive coefficients (typical of the current
 * batch) and the most negative ones (typical of the reference), and a vocabulary comparison (see
 * {@link VocabularyShift}).
 *
 * Inputs that cannot be tested are findings, not errors: fewer than {@link MIN_DOCUMENTS} documents on a side,
 * or no word at all in either side, give `drift: false` with a `reason`. Empty documents are kept: a rise in
 * empty texts is itself a change the classifier sees.
 */
import { MlError } from "../core/errors.js";
import { selectRows, type CsrMatrix } from "../core/matrix.js";
import { Random } from "../core/random.js";
import { compareCodePoints } from "../features/code-point-order.js";
import { CountVectorizer } from "../features/count-vectorizer.js";
import { describe } from "../features/serialization.js";
import { TfidfTransformer } from "../features/tfidf.js";
import { tokenize } from "../features/tokenizer.js";
import { LogisticRegression } from "../models/logistic-regression.js";

/** The fewest documents per side the test runs on. */
export const MIN_DOCUMENTS = 10;

export interface TextDriftOptions {
  /** Seed of the subsampling, the split and the permutations (default 42). */
  seed?: number;
  /** Label permutations of the held-out half that make the null distribution (default 200). */
  permutations?: number;
  /** Significance level (default 0.05). */
  alpha?: number;
  /** A side with more documents is subsampled (seeded, without replacement) to this many (default 5000). */
  maxRowsPerSide?: number;
  /** K of the top-K vocabularies compared by {@link VocabularyShift} (default 1000). */
  vocabularySize?: number;
  /** Terms listed per side in the explanations (default 20). */
  topTerms?: number;
}

export interface TermCount {
  term: string;
  count: number;
}

/**
 * How the vocabulary moved. The reference is split in two halves A and B (the documents of the
 * classifier's training and held-out halves); the current batch is compared with half A, and every measure
 * also has a baseline: the same measure between B and A, i.e. its size under no drift at this sample size.
 */
export interface VocabularyShift {
  /** K: the size of the top vocabularies compared. */
  topK: number;
  /** Token occurrences (the package's tokenizer: lowercase, words of 2+ characters) of each side. */
  referenceTokens: number;
  currentTokens: number;
  /** Distinct tokens of each side. */
  referenceDistinct: number;
  currentDistinct: number;
  /** Jaccard index of the K most frequent tokens of A and of the current batch (1 = same set). */
  jaccard: number;
  jaccardBaseline: number;
  /** Share of the current token occurrences whose token never occurs in A (out-of-vocabulary rate). */
  oovRate: number;
  /** Share of B's token occurrences whose token never occurs in A. */
  oovRateBaseline: number;
  /**
   * Jensen–Shannon distance (base 2, in [0, 1]) of the token frequencies of A and the current batch,
   * each restricted to the union of both top-K sets and renormalised.
   */
  jensenShannon: number;
  jensenShannonBaseline: number;
  /** The most frequent current tokens that never occur in the whole reference. */
  newTerms: TermCount[];
}

export interface TextDriftResult {
  /** Whether the test ran and found drift (false whenever `reason` is set). */
  drift: boolean;
  /** Why the test did not run (too few documents, no words at all); absent when it ran. */
  reason?: string;
  /** Documents used per side (after subsampling). */
  nReference: number;
  nCurrent: number;
  /** Documents without any token per side. */
  emptyReference: number;
  emptyCurrent: number;
  /** Held-out ROC AUC of the domain classifier; null when the test did not run. */
  auc: number | null;
  /** The AUC above which drift is declared (see the file comment); null when the test did not run. */
  threshold: number | null;
  /** Permutation p-value; null when the test did not run. */
  pValue: number | null;
  permutations: number;
  alpha: number;
  /** Words typical of the current batch: the largest positive coefficients, largest first. */
  currentTerms: string[];
  /** Words typical of the reference: the most negative coefficients, most negative first. */
  referenceTerms: string[];
  /** The logistic regression coefficient of each listed term (> 0: current, < 0: reference). */
  termWeights: Record<string, number>;
  /** Null when a side has fewer than {@link MIN_DOCUMENTS} documents. */
  vocabulary: VocabularyShift | null;
}

interface Resolved {
  seed: number;
  permutations: number;
  alpha: number;
  maxRowsPerSide: number;
  vocabularySize: number;
  topTerms: number;
}

function resolve(options: TextDriftOptions): Resolved {
  const seed = options.seed ?? 42;
  const permutations = options.permutations ?? 200;
  const alpha = options.alpha ?? 0.05;
  const maxRowsPerSide = options.maxRowsPerSide ?? 5000;
  const vocabularySize = options.vocabularySize ?? 1000;
  const topTerms = options.topTerms ?? 20;
  if (!Number.isInteger(seed)) throw new MlError(`textDrift: seed must be an integer, got ${describe(options.seed)}`);
  if (!(alpha > 0 && alpha < 1))
    throw new MlError(`textDrift: alpha must be in (0, 1), got ${describe(options.alpha)}`);
  if (!Number.isInteger(permutations) || permutations < 1) {
    throw new MlError(`textDrift: permutations must be a positive integer, got ${describe(options.permutations)}`);
  }
  if (Math.floor(alpha * (permutations + 1)) < 1) {
    throw new MlError(
      `textDrift: with ${permutations} permutations no p-value can reach alpha = ${alpha}; use at least ${Math.ceil(1 / alpha) - 1}`,
    );
  }
  if (!Number.isInteger(maxRowsPerSide) || maxRowsPerSide < MIN_DOCUMENTS) {
    throw new MlError(
      `textDrift: maxRowsPerSide must be an integer ≥ ${MIN_DOCUMENTS}, got ${describe(options.maxRowsPerSide)}`,
    );
  }
  for (const [key, value] of [
    ["vocabularySize", vocabularySize],
    ["topTerms", topTerms],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new MlError(`textDrift: ${key} must be a positive integer, got ${describe(options[key])}`);
    }
  }
  return { seed, permutations, alpha, maxRowsPerSide, vocabularySize, topTerms };
}

function checkSide(docs: unknown, side: string): asserts docs is readonly string[] {
  if (!Array.isArray(docs)) {
    throw new MlError(`textDrift: ${side} must be an array of strings, got ${describe(docs)}`);
  }
  for (let i = 0; i < docs.length; i++) {
    if (typeof docs[i] !== "string") {
      throw new MlError(`textDrift: ${side} document ${i} is ${describe(docs[i])}, expected a string`);
    }
  }
}

/** Detects a change in the content of texts; see the file comment. */
export function textDrift(
  reference: readonly string[],
  current: readonly string[],
  options: TextDriftOptions = {},
): TextDriftResult {
  checkSide(reference, "reference");
  checkSide(current, "current");
  const o = resolve(options);
  const random = new Random(o.seed);
  const ref = subsample(reference, o.maxRowsPerSide, random);
  const cur = subsample(current, o.maxRowsPerSide, random);
  const counts = countTerms([...ref, ...cur]);
  const isEmpty = (row: number): boolean =>
    counts === null || counts.matrix.indptr[row + 1] === counts.matrix.indptr[row];
  let emptyReference = 0;
  let emptyCurrent = 0;
  for (let i = 0; i < ref.length + cur.length; i++) {
    if (!isEmpty(i)) continue;
    if (i < ref.length) emptyReference++;
    else emptyCurrent++;
  }
  const base = {
    nReference: ref.length,
    nCurrent: cur.length,
    emptyReference,
    emptyCurrent,
    permutations: o.permutations,
    alpha: o.alpha,
  };
  const untested = (reason: string): TextDriftResult => ({
    drift: false,
    reason,
    ...base,
    auc: null,
    threshold: null,
    pValue: null,
    currentTerms: [],
    referenceTerms: [],
    termWeights: {},
    vocabulary: null,
  });
  if (ref.length < MIN_DOCUMENTS || cur.length < MIN_DOCUMENTS) {
    return untested(
      `too few documents (n_ref=${ref.length}, n_cur=${cur.length}; at least ${MIN_DOCUMENTS} per side are needed)`,
    );
  }
  if (counts === null) return untested("no words in any document (all are empty or have no word of 2+ characters)");

  // stratified halves: the first half of each shuffled side trains, the second is held out (rows of `counts`:
  // the reference documents, then the current ones)
  const refOrder = random.shuffle(Array.from(ref, (_, i) => i));
  const curOrder = random.shuffle(Array.from(cur, (_, i) => ref.length + i));
  const refTrain = refOrder.slice(0, Math.floor(ref.length / 2));
  const refTest = refOrder.slice(refTrain.length);
  const curTrain = curOrder.slice(0, Math.floor(cur.length / 2));
  const curTest = curOrder.slice(curTrain.length);

  const vocabulary = vocabularyShift(
    counts,
    { halfA: refTrain, halfB: refTest, current: curOrder, reference: refOrder },
    o,
  );

  const trainCounts = selectRows(counts.matrix, [...refTrain, ...curTrain]) as CsrMatrix;
  const testCounts = selectRows(counts.matrix, [...refTest, ...curTest]) as CsrMatrix;
  const testLabels = new Uint8Array(testCounts.rows);
  testLabels.fill(1, refTest.length);
  let scores: Float64Array = new Float64Array(testCounts.rows);
  let currentTerms: string[] = [];
  let referenceTerms: string[] = [];
  const termWeights: Record<string, number> = {};
  // the vocabulary of the training half, as a TfidfVectorizer fitted on it would have (same terms, same order)
  const kept = usedColumns(trainCounts);
  if (kept.length > 0) {
    const tfidf = new TfidfTransformer({ sublinearTf: true });
    const xTrain = tfidf.fitTransform(keepColumns(trainCounts, kept));
    const trainLabels = [...refTrain.map(() => 0), ...curTrain.map(() => 1)];
    const model = new LogisticRegression().fit(xTrain, trainLabels);
    scores = model.decisionFunction(tfidf.transform(keepColumns(testCounts, kept)));
    const order = Array.from(model.coef, (w, j) => ({ term: counts.terms[kept[j] as number] as string, weight: w }));
    order.sort((a, b) => b.weight - a.weight || compareCodePoints(a.term, b.term));
    const positive = order.filter((t) => t.weight > 0).slice(0, o.topTerms);
    const negative = order
      .filter((t) => t.weight < 0)
      .reverse()
      .slice(0, o.topTerms);
    for (const t of [...positive, ...negative]) termWeights[t.term] = t.weight;
    currentTerms = positive.map((t) => t.term);
    referenceTerms = negative.map((t) => t.term);
  }
  // else: the training half has no word to learn from; every score is 0 and the AUC is 0.5

  const ranks = midranks(scores);
  const auc = aucFromRanks(ranks, testLabels, curTest.length);
  const permuted = new Float64Array(o.permutations);
  const labels = testLabels.slice();
  let atLeast = 0;
  for (let b = 0; b < o.permutations; b++) {
    random.shuffle(labels);
    const value = aucFromRanks(ranks, labels, curTest.length);
    permuted[b] = value;
    if (value >= auc) atLeast++;
  }
  permuted.sort((a, b) => b - a);
  const threshold = permuted[Math.floor(o.alpha * (o.permutations + 1)) - 1] as number;
  return {
    drift: auc > threshold,
    ...base,
    auc,
    threshold,
    pValue: (1 + atLeast) / (1 + o.permutations),
    currentTerms,
    referenceTerms,
    termWeights,
    vocabulary,
  };
}

/** `docs` itself when short enough, else `max` of them drawn without replacement, in their original order. */
function subsample(docs: readonly string[], max: number, random: Random): readonly string[] {
  if (docs.length <= max) return docs;
  const index = random.shuffle(Array.from(docs, (_, i) => i)).slice(0, max);
  index.sort((a, b) => a - b);
  return index.map((i) => docs[i] as string);
}

/** Ranks 1..n of the scores, ties sharing their mean rank. */
export function midranks(scores: ArrayLike<number>): Float64Array {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const ranks = new Float64Array(n);
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && scores[order[end] as number] === scores[order[start] as number]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k] as number] = rank;
    start = end;
  }
  return ranks;
}

/**
 * ROC AUC from midranks (the Mann–Whitney form, ties counted one half): equal to the trapezoidal area of
 * `rocAucScore`. `labels[i]` is 1 for positives, of which there are `positives`.
 */
export function aucFromRanks(ranks: Float64Array, labels: Uint8Array, positives: number): number {
  let sum = 0;
  for (let i = 0; i < ranks.length; i++) if (labels[i] === 1) sum += ranks[i] as number;
  const negatives = ranks.length - positives;
  return (sum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

interface TermCounts {
  /** Documents × terms, raw token counts. */
  matrix: CsrMatrix;
  /** The terms in column order (code-point order). */
  terms: string[];
}

/** Token counts of every document (the package's default tokenizer); null when no document has a word. */
function countTerms(docs: readonly string[]): TermCounts | null {
  if (!docs.some((d) => tokenize(d).length > 0)) return null;
  const counter = new CountVectorizer();
  const matrix = counter.fitTransform(docs);
  return { matrix, terms: counter.featureNames() };
}

/** The columns with at least one stored entry, ascending. */
function usedColumns(m: CsrMatrix): Int32Array {
  const used = new Uint8Array(m.cols);
  for (const j of m.indices) used[j] = 1;
  const out: number[] = [];
  for (let j = 0; j < m.cols; j++) if (used[j] === 1) out.push(j);
  return Int32Array.from(out);
}

/** The columns `kept` (ascending) of `m`, renumbered 0, 1, …; entries of other columns are dropped. */
function keepColumns(m: CsrMatrix, kept: Int32Array): CsrMatrix {
  const map = new Int32Array(m.cols).fill(-1);
  kept.forEach((j, k) => (map[j] = k));
  const indptr = new Int32Array(m.rows + 1);
  const indices: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < m.rows; i++) {
    for (let k = m.indptr[i] as number; k < (m.indptr[i + 1] as number); k++) {
      const j = map[m.indices[k] as number] as number;
      if (j < 0) continue;
      indices.push(j);
      data.push(m.data[k] as number);
    }
    indptr[i + 1] = indices.length;
  }
  return {
    kind: "csr",
    rows: m.rows,
    cols: kept.length,
    indptr,
    indices: Int32Array.from(indices),
    data: Float64Array.from(data),
  };
}

/** Occurrences of each term in the given rows. */
function columnSums(m: CsrMatrix, rows: readonly number[]): Float64Array {
  const out = new Float64Array(m.cols);
  for (const i of rows) {
    for (let k = m.indptr[i] as number; k < (m.indptr[i + 1] as number); k++) {
      const j = m.indices[k] as number;
      out[j] = (out[j] as number) + (m.data[k] as number);
    }
  }
  return out;
}

function sum(values: Float64Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Terms (column indices) by decreasing count, ties in code-point order (the column order); zeros left out. */
function byCount(counts: Float64Array, where: (j: number) => boolean = () => true): number[] {
  const out: number[] = [];
  for (let j = 0; j < counts.length; j++) if ((counts[j] as number) > 0 && where(j)) out.push(j);
  return out.sort((a, b) => (counts[b] as number) - (counts[a] as number) || a - b);
}

function jaccard(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const setA = new Set(a);
  let both = 0;
  for (const t of b) if (setA.has(t)) both++;
  return both / (setA.size + b.length - both);
}

/** Share of the occurrences in `counts` of terms that `vocabulary` never has (0 when `counts` is empty). */
function oovRate(vocabulary: Float64Array, counts: Float64Array): number {
  let out = 0;
  let all = 0;
  for (let j = 0; j < counts.length; j++) {
    const c = counts[j] as number;
    all += c;
    if (vocabulary[j] === 0) out += c;
  }
  return all === 0 ? 0 : out / all;
}

/** Jensen–Shannon distance, base 2, of two count vectors restricted to the union of their top-k terms. */
function jsDistance(p: Float64Array, q: Float64Array, k: number): number {
  const union = [...new Set([...byCount(p).slice(0, k), ...byCount(q).slice(0, k)])];
  let sumP = 0;
  let sumQ = 0;
  for (const j of union) {
    sumP += p[j] as number;
    sumQ += q[j] as number;
  }
  if (sumP === 0 || sumQ === 0) return sumP === sumQ ? 0 : 1;
  let divergence = 0;
  for (const j of union) {
    const a = (p[j] as number) / sumP;
    const b = (q[j] as number) / sumQ;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  }
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

function vocabularyShift(
  counts: TermCounts,
  rows: { halfA: number[]; halfB: number[]; current: number[]; reference: number[] },
  o: Resolved,
): VocabularyShift {
  const a = columnSums(counts.matrix, rows.halfA);
  const b = columnSums(counts.matrix, rows.halfB);
  const cur = columnSums(counts.matrix, rows.current);
  const ref = columnSums(counts.matrix, rows.reference);
  const k = o.vocabularySize;
  const topA = byCount(a).slice(0, k);
  let referenceDistinct = 0;
  let currentDistinct = 0;
  for (let j = 0; j < ref.length; j++) {
    if ((ref[j] as number) > 0) referenceDistinct++;
    if ((cur[j] as number) > 0) currentDistinct++;
  }
  return {
    topK: k,
    referenceTokens: sum(ref),
    currentTokens: sum(cur),
    referenceDistinct,
    currentDistinct,
    jaccard: jaccard(topA, byCount(cur).slice(0, k)),
    jaccardBaseline: jaccard(topA, byCount(b).slice(0, k)),
    oovRate: oovRate(a, cur),
    oovRateBaseline: oovRate(a, b),
    jensenShannon: jsDistance(a, cur, k),
    jensenShannonBaseline: jsDistance(a, b, k),
    newTerms: byCount(cur, (j) => ref[j] === 0)
      .slice(0, o.topTerms)
      .map((j) => ({ term: counts.terms[j] as string, count: cur[j] as number })),
  };
}
