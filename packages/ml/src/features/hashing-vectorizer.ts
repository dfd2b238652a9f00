/**
 * HashingVectorizer: documents → CSR matrix of hashed token counts, equal to scikit-learn's
 * `sklearn.feature_extraction.text.HashingVectorizer` with `analyzer="word"`.
 *
 * How it matches scikit-learn: each feature (token or n-gram, from the same analyzer as CountVectorizer) is
 * hashed with signed 32-bit MurmurHash3 (x86) of its UTF-8 bytes, seed 0; its column is `|h| mod nFeatures`
 * (for h = −2³¹ that is 2³¹ mod nFeatures, as scikit-learn defines it) and, with `alternateSign` (default),
 * its value is +1 when h ≥ 0 and −1 otherwise. Values falling in the same column are summed, and — as
 * scipy's `sum_duplicates` does — a sum of zero stays stored as an explicit 0. Then `binary` sets every
 * stored value to 1 (explicit zeros included, as `X.data.fill(1)` does) and `norm` (default "l2")
 * normalises the rows. Columns are sorted within rows.
 *
 * The vectorizer is stateless: `fit` only checks its input and `transform` works without it (as in
 * scikit-learn). Like scikit-learn it refuses an empty list of documents.
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
import { murmurhash3_32 } from "./murmurhash3.js";
import { normalizeRowsInPlace, type RowNorm } from "./normalize.js";
import { describe, FORMAT_VERSION, JsonReader, type JsonObject } from "./serialization.js";
import { countTerms } from "./term-counts.js";

export interface HashingVectorizerOptions extends TextAnalyzerOptions {
  /** Number of columns (default 2²⁰); an integer in [1, 2³¹ − 1]. */
  nFeatures?: number;
  /** Record presence (1) rather than counts (default false). */
  binary?: boolean;
  /** Row normalisation (default "l2"). */
  norm?: RowNorm | null;
  /** Sign each feature by its hash, so that collisions tend to cancel (default true). */
  alternateSign?: boolean;
}

export interface ResolvedHashingOptions extends ResolvedTextOptions {
  readonly nFeatures: number;
  readonly binary: boolean;
  readonly norm: RowNorm | null;
  readonly alternateSign: boolean;
}

export interface HashingVectorizerJson extends JsonObject {
  type: "HashingVectorizer";
  version: 1;
  options: JsonObject;
}

const MAX_FEATURES = 2 ** 31 - 1;

function resolveHashingOptions(options: HashingVectorizerOptions, owner: string): ResolvedHashingOptions {
  const nFeatures = options.nFeatures ?? 2 ** 20;
  if (!Number.isInteger(nFeatures) || nFeatures < 1 || nFeatures > MAX_FEATURES) {
    throw new MlError(`${owner}: nFeatures must be an integer in [1, 2^31 - 1], got ${describe(nFeatures)}`);
  }
  const norm = options.norm === undefined ? "l2" : options.norm;
  if (norm !== null && norm !== "l1" && norm !== "l2") {
    throw new MlError(`${owner}: norm must be "l1", "l2" or null, got ${describe(norm)}`);
  }
  return {
    ...resolveTextOptions(options, owner),
    nFeatures,
    binary: options.binary ?? false,
    norm,
    alternateSign: options.alternateSign ?? true,
  };
}

/** The column of a feature and its signed unit value, as scikit-learn's feature hasher computes them. */
export function hashFeature(feature: string, nFeatures: number, alternateSign: boolean): [number, number] {
  const h = murmurhash3_32(feature, 0);
  // Math.abs(-2^31) is exactly 2^31 in double arithmetic, which is scikit-learn's definition for that case.
  return [Math.abs(h) % nFeatures, alternateSign && h < 0 ? -1 : 1];
}

/** Converts documents to a matrix of hashed token occurrences (no vocabulary is kept). */
export class HashingVectorizer {
  readonly options: ResolvedHashingOptions;
  private readonly analyzer: Analyzer;

  constructor(options: HashingVectorizerOptions = {}) {
    this.options = resolveHashingOptions(options, "HashingVectorizer");
    this.analyzer = buildAnalyzer(this.options);
  }

  /** Checks `docs`; the vectorizer holds no state, so there is nothing to learn. */
  fit(docs: readonly string[]): this {
    checkDocuments(docs, "HashingVectorizer");
    return this;
  }

  fitTransform(docs: readonly string[]): CsrMatrix {
    return this.fit(docs).transform(docs);
  }

  /** The hashed document-term matrix of `docs` (`docs.length` × `nFeatures`). */
  transform(docs: readonly string[]): CsrMatrix {
    checkDocuments(docs, "HashingVectorizer");
    if (docs.length === 0) throw new MlError("HashingVectorizer: cannot vectorize an empty list of documents");
    const { nFeatures, alternateSign, binary, norm } = this.options;
    // Count each distinct feature of each document once, then hash each distinct feature once.
    const { raw, termOf } = countTerms(docs, this.options, this.analyzer);
    const columnOf = new Int32Array(termOf.length);
    const signOf = new Int8Array(termOf.length);
    termOf.forEach((term, id) => {
      if (term === null) return;
      const [column, sign] = hashFeature(term, nFeatures, alternateSign);
      columnOf[id] = column;
      signOf[id] = sign;
    });
    const indptr = new Int32Array(docs.length + 1);
    const indices: number[] = [];
    const data: number[] = [];
    const row = new Map<number, number>();
    for (let d = 0; d < docs.length; d++) {
      row.clear();
      for (let k = raw.indptr[d] as number; k < (raw.indptr[d + 1] as number); k++) {
        const id = raw.ids[k] as number;
        const column = columnOf[id] as number;
        row.set(column, (row.get(column) ?? 0) + (signOf[id] as number) * (raw.counts[k] as number));
      }
      const columns = Int32Array.from(row.keys()).sort();
      for (const c of columns) {
        indices.push(c);
        data.push(binary ? 1 : (row.get(c) as number));
      }
      indptr[d + 1] = indices.length;
    }
    const out: CsrMatrix = {
      kind: "csr",
      rows: docs.length,
      cols: nFeatures,
      indptr,
      indices: Int32Array.from(indices),
      data: Float64Array.from(data),
    };
    return norm === null ? out : normalizeRowsInPlace(out, norm);
  }

  toJSON(): HashingVectorizerJson {
    const o = this.options;
    return {
      type: "HashingVectorizer",
      version: FORMAT_VERSION,
      options: {
        ...textOptionsToJson(o),
        nFeatures: o.nFeatures,
        binary: o.binary,
        norm: o.norm,
        alternateSign: o.alternateSign,
      },
    };
  }

  static fromJSON(obj: unknown): HashingVectorizer {
    const o = JsonReader.forType(obj, "HashingVectorizer").object("options");
    return new HashingVectorizer({
      ...textOptionsFromJson(o),
      nFeatures: o.number("nFeatures", { integer: true, min: 1, max: MAX_FEATURES }),
      binary: o.boolean("binary"),
      norm: o.oneOf("norm", ["l1", "l2", null] as const),
      alternateSign: o.boolean("alternateSign"),
    });
  }
}
