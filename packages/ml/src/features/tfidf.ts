/**
 * TF-IDF weighting equal to scikit-learn's `TfidfTransformer` and `TfidfVectorizer`.
 *
 * For a count matrix X with n rows, fitted document frequencies df(t) give
 * `idf(t) = ln((1 + n) / (1 + df(t))) + 1` with `smoothIdf` (default) or `ln(n / df(t)) + 1` without;
 * transform computes tf (or `1 + ln(tf)` with `sublinearTf`), multiplies by idf when `useIdf`, then
 * normalises each row (`norm` "l2" by default, "l1", or null). As in scikit-learn:
 * - df(t) counts the *stored* entries of column t of a CSR input (so explicitly stored zeros, which a
 *   HashingVectorizer can produce when hashed tokens cancel out, count); a dense input stores its non-zeros;
 * - without smoothing a column that never occurs gets an infinite idf (scikit-learn warns; so do we not,
 *   but its output then only changes for rows that have that column at transform time);
 * - the output keeps the input's sparsity structure (CSR, columns sorted).
 * One deliberate difference: with `sublinearTf` a stored zero stays 0, where scikit-learn computes
 * `1 + ln(0) = -inf` and then NaN after normalisation.
 *
 * The JSON form stores the document frequencies and n (not the idf values), so the idf is recomputed
 * bit for bit on load and infinite values need no special encoding.
 */
import { MlError } from "../core/errors.js";
import { checkCsr, checkFinite, type CsrMatrix, type Matrix } from "../core/matrix.js";
import {
  CountVectorizer,
  type CountVectorizerJson,
  type CountVectorizerOptions,
  type ResolvedCountOptions,
} from "./count-vectorizer.js";
import { normalizeRowsInPlace, type RowNorm } from "./normalize.js";
import { FORMAT_VERSION, JsonReader, notFittedError, type JsonObject } from "./serialization.js";

export interface TfidfOptions {
  /** Row normalisation (default "l2"). */
  norm?: RowNorm | null;
  /** Multiply by the inverse document frequency (default true). */
  useIdf?: boolean;
  /** Add one to n and to every df, as if one more document held every term (default true). */
  smoothIdf?: boolean;
  /** Replace tf by 1 + ln(tf) (default false). */
  sublinearTf?: boolean;
}

export interface ResolvedTfidfOptions {
  readonly norm: RowNorm | null;
  readonly useIdf: boolean;
  readonly smoothIdf: boolean;
  readonly sublinearTf: boolean;
}

export interface TfidfTransformerJson extends JsonObject {
  type: "TfidfTransformer";
  version: 1;
  options: JsonObject;
  nFeatures: number;
  nSamples: number;
  /** Document frequency of each column, or null when `useIdf` is false. */
  documentFrequency: number[] | null;
}

export interface TfidfVectorizerJson extends JsonObject {
  type: "TfidfVectorizer";
  version: 1;
  counts: CountVectorizerJson;
  tfidf: TfidfTransformerJson;
}

function resolveTfidfOptions(options: TfidfOptions, owner: string): ResolvedTfidfOptions {
  const norm = options.norm === undefined ? "l2" : options.norm;
  if (norm !== null && norm !== "l1" && norm !== "l2") {
    throw new MlError(`${owner}: norm must be "l1", "l2" or null, got ${JSON.stringify(norm)}`);
  }
  for (const key of ["useIdf", "smoothIdf", "sublinearTf"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "boolean") {
      throw new MlError(`${owner}: ${key} must be a boolean`);
    }
  }
  return {
    norm,
    useIdf: options.useIdf ?? true,
    smoothIdf: options.smoothIdf ?? true,
    sublinearTf: options.sublinearTf ?? false,
  };
}

function idfFrom(df: Float64Array, nSamples: number, smooth: boolean): Float64Array {
  const add = smooth ? 1 : 0;
  const n = nSamples + add;
  return df.map((d) => Math.log(n / (d + add)) + 1);
}

/** A CSR copy of a matrix; dense zeros are not stored. */
function toCsr(m: Matrix): CsrMatrix {
  if (m.kind === "csr") {
    return { ...m, indptr: m.indptr.slice(), indices: m.indices.slice(), data: m.data.slice() };
  }
  let nnz = 0;
  for (let k = 0; k < m.data.length; k++) if (m.data[k] !== 0) nnz++;
  const indptr = new Int32Array(m.rows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let at = 0;
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j] as number;
      if (v !== 0) {
        indices[at] = j;
        data[at++] = v;
      }
    }
    indptr[i + 1] = at;
  }
  return { kind: "csr", rows: m.rows, cols: m.cols, indptr, indices, data };
}

function checkInput(m: Matrix, owner: string): void {
  if (m === null || typeof m !== "object" || (m.kind !== "csr" && m.kind !== "dense")) {
    throw new MlError(`${owner}: X must be a DenseMatrix or a CsrMatrix`);
  }
  if (m.kind === "csr") checkCsr(m);
  checkFinite(m);
}

/** Re-weights a count matrix by tf-idf (scikit-learn's `TfidfTransformer`). */
export class TfidfTransformer {
  readonly options: ResolvedTfidfOptions;
  private featureCount = -1;
  private nSamples = 0;
  private df: Float64Array | null = null;
  private idfValues: Float64Array | null = null;

  constructor(options: TfidfOptions = {}) {
    this.options = resolveTfidfOptions(options, "TfidfTransformer");
  }

  get isFitted(): boolean {
    return this.featureCount >= 0;
  }

  /** The number of columns seen by fit. */
  get nFeatures(): number {
    if (!this.isFitted) throw notFittedError("TfidfTransformer");
    return this.featureCount;
  }

  /** The idf of each column (a copy), or null when `useIdf` is false. */
  get idf(): Float64Array | null {
    if (!this.isFitted) throw notFittedError("TfidfTransformer");
    return this.idfValues === null ? null : this.idfValues.slice();
  }

  /** Learns the document frequencies of the columns of `X` (a count matrix). */
  fit(X: Matrix): this {
    checkInput(X, "TfidfTransformer");
    const df = new Float64Array(X.cols);
    if (X.kind === "csr") {
      const nnz = X.indptr[X.rows] as number;
      for (let k = 0; k < nnz; k++) {
        const j = X.indices[k] as number;
        df[j] = (df[j] as number) + 1;
      }
    } else {
      for (let k = 0; k < X.data.length; k++) {
        if (X.data[k] !== 0) {
          const j = k % X.cols;
          df[j] = (df[j] as number) + 1;
        }
      }
    }
    this.setState(X.cols, X.rows, this.options.useIdf ? df : null);
    return this;
  }

  /** The tf-idf matrix of `X` (a new CSR matrix; `X` is not modified). */
  transform(X: Matrix): CsrMatrix {
    if (!this.isFitted) throw notFittedError("TfidfTransformer");
    checkInput(X, "TfidfTransformer");
    if (X.cols !== this.featureCount) {
      throw new MlError(
        `TfidfTransformer: X has ${X.cols} features, but the transformer was fitted on ${this.featureCount}`,
      );
    }
    const out = toCsr(X);
    const { data, indices } = out;
    const nnz = data.length;
    if (this.options.sublinearTf) {
      for (let k = 0; k < nnz; k++) {
        const v = data[k] as number;
        if (v !== 0) data[k] = Math.log(v) + 1;
      }
    }
    const idf = this.idfValues;
    if (idf !== null)
      for (let k = 0; k < nnz; k++) data[k] = (data[k] as number) * (idf[indices[k] as number] as number);
    if (this.options.norm !== null) normalizeRowsInPlace(out, this.options.norm);
    return out;
  }

  fitTransform(X: Matrix): CsrMatrix {
    return this.fit(X).transform(X);
  }

  toJSON(): TfidfTransformerJson {
    if (!this.isFitted) throw notFittedError("TfidfTransformer");
    return {
      type: "TfidfTransformer",
      version: FORMAT_VERSION,
      options: { ...this.options },
      nFeatures: this.featureCount,
      nSamples: this.nSamples,
      documentFrequency: this.df === null ? null : Array.from(this.df),
    };
  }

  static fromJSON(obj: unknown): TfidfTransformer {
    const reader = JsonReader.forType(obj, "TfidfTransformer");
    const o = reader.object("options");
    const t = new TfidfTransformer({
      norm: o.oneOf("norm", ["l1", "l2", null] as const),
      useIdf: o.boolean("useIdf"),
      smoothIdf: o.boolean("smoothIdf"),
      sublinearTf: o.boolean("sublinearTf"),
    });
    const nFeatures = reader.number("nFeatures", { integer: true, min: 0 });
    const nSamples = reader.number("nSamples", { integer: true, min: 0 });
    let df: Float64Array | null = null;
    if (t.options.useIdf) {
      df = reader.numberArray("documentFrequency", nFeatures);
      if (!df.every((d) => Number.isInteger(d) && d >= 0 && d <= nSamples)) {
        reader.fail("documentFrequency", `integers in [0, nSamples = ${nSamples}]`);
      }
    } else if (reader.raw("documentFrequency") !== null) {
      reader.fail("documentFrequency", "null when useIdf is false");
    }
    t.setState(nFeatures, nSamples, df);
    return t;
  }

  private setState(nFeatures: number, nSamples: number, df: Float64Array | null): void {
    this.featureCount = nFeatures;
    this.nSamples = nSamples;
    this.df = df;
    this.idfValues = df === null ? null : idfFrom(df, nSamples, this.options.smoothIdf);
  }
}

export interface TfidfVectorizerOptions extends CountVectorizerOptions, TfidfOptions {}

/** Documents → tf-idf matrix: a CountVectorizer followed by a TfidfTransformer (scikit-learn's `TfidfVectorizer`). */
export class TfidfVectorizer {
  private counts: CountVectorizer;
  private tfidf: TfidfTransformer;

  constructor(options: TfidfVectorizerOptions = {}) {
    const { norm, useIdf, smoothIdf, sublinearTf, ...countOptions } = options;
    this.counts = new CountVectorizer(countOptions);
    this.tfidf = new TfidfTransformer({
      ...(norm === undefined ? {} : { norm }),
      ...(useIdf === undefined ? {} : { useIdf }),
      ...(smoothIdf === undefined ? {} : { smoothIdf }),
      ...(sublinearTf === undefined ? {} : { sublinearTf }),
    });
  }

  get isFitted(): boolean {
    return this.tfidf.isFitted;
  }

  fit(docs: readonly string[]): this {
    this.tfidf.fit(this.counts.fitTransform(docs));
    return this;
  }

  fitTransform(docs: readonly string[]): CsrMatrix {
    return this.tfidf.fitTransform(this.counts.fitTransform(docs));
  }

  transform(docs: readonly string[]): CsrMatrix {
    if (!this.isFitted) throw notFittedError("TfidfVectorizer");
    return this.tfidf.transform(this.counts.transform(docs));
  }

  /** The idf of each column (a copy), or null when `useIdf` is false. */
  get idf(): Float64Array | null {
    if (!this.isFitted) throw notFittedError("TfidfVectorizer");
    return this.tfidf.idf;
  }

  /** The fitted terms in column order. */
  featureNames(): string[] {
    if (!this.isFitted) throw notFittedError("TfidfVectorizer");
    return this.counts.featureNames();
  }

  /** The fitted map from term to column. */
  get vocabulary(): ReadonlyMap<string, number> {
    if (!this.isFitted) throw notFittedError("TfidfVectorizer");
    return this.counts.vocabulary;
  }

  /** Terms dropped by minDf, maxDf or maxFeatures in the last fit (not saved by toJSON). */
  get prunedTerms(): readonly string[] {
    return this.counts.prunedTerms;
  }

  toJSON(): TfidfVectorizerJson {
    if (!this.isFitted) throw notFittedError("TfidfVectorizer");
    return {
      type: "TfidfVectorizer",
      version: FORMAT_VERSION,
      counts: this.counts.toJSON(),
      tfidf: this.tfidf.toJSON(),
    };
  }

  static fromJSON(obj: unknown): TfidfVectorizer {
    const reader = JsonReader.forType(obj, "TfidfVectorizer");
    const counts = CountVectorizer.fromJSON(reader.raw("counts"));
    const tfidf = TfidfTransformer.fromJSON(reader.raw("tfidf"));
    const nTerms = counts.featureNames().length;
    if (tfidf.nFeatures !== nTerms) reader.fail("tfidf", `a transformer over the ${nTerms} vocabulary terms`);
    const v = new TfidfVectorizer();
    v.counts = counts;
    v.tfidf = tfidf;
    return v;
  }

  /** The options of the vectorizer (count options and tf-idf options). */
  get options(): ResolvedCountOptions & ResolvedTfidfOptions {
    return { ...this.counts.options, ...this.tfidf.options };
  }
}
