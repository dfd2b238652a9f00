/**
 * Data profiles: what a table looks like, per column, as a versioned JSON document that merges.
 *
 * `profileTable(table)` gives `{ version: 1, rowCount, columns: { [name]: ColumnProfile } }`. Every
 * column has its type, `count` (non-missing values), `missing` (count + missing = rowCount), `invalid`
 * (non-missing values of another kind than the type, e.g. "N/A" in a number column; statistics skip
 * them) and `distinct` (of the non-missing values: exact up to 1024, then a HyperLogLog estimate with
 * `distinctExact: false`; `distinctSketch` merges). Then by type:
 * - number: min, max, mean, std, quantiles p1 … p99, the KLL sketch and a histogram (`numeric-summary.ts`);
 * - boolean: trueCount and falseCount;
 * - string (categorical): `top` categories with counts and `categories`, the counts of all of them while
 *   there are at most 1000 (then a bounded Misra–Gries summary; `categories.offset` is its error bound);
 * - text: `chars` and `tokens`, summaries of the lengths in characters (code points) and in tokens
 *   (`tokenize` of `../features/tokenizer.js`), and `vocabulary`: its size (distinct tokens, estimated past
 *   1024), the total number of tokens, and the tokens with the most documents (document frequencies, a
 *   Misra–Gries summary of up to 2000 tokens).
 *
 * Memory is bounded per column whatever the number of rows, and `mergeProfiles(a, b)` combines two
 * profiles without the data — so monitoring profiles traffic window by window and merges. For windows to
 * merge exactly and compare bin by bin, profile them with `{ reference }`: the reference's column types
 * and histogram edges are used instead of inferring new ones.
 */
import { MlError } from "../core/errors.js";
import { tokenize } from "../features/tokenizer.js";
import { CategoryCounts, type CategoryCount, type CategoryCountsJSON } from "./category-counts.js";
import { DistinctCount, type DistinctCountJSON, type DistinctCountOptions } from "./distinct-count.js";
import { hashString } from "./hash.js";
import { DEFAULT_HISTOGRAM_BINS, type Histogram } from "./histogram.js";
import { ownEntry } from "./json-check.js";
import { mergeNumericSummaries, NumericAccumulator, type NumericSummary } from "./numeric-summary.js";
import { DEFAULT_SKETCH_K } from "./sketch.js";
import {
  charLength,
  kindMatchesType,
  valueKind,
  withColumnTypes,
  type TableColumnType,
  type ColumnValues,
  type Table,
} from "./table.js";

export const PROFILE_VERSION = 1;

interface ColumnProfileBase {
  count: number;
  missing: number;
  invalid: number;
  distinct: number;
  distinctExact: boolean;
  distinctSketch: DistinctCountJSON;
}

export interface NumberColumnProfile extends ColumnProfileBase, NumericSummary {
  type: "number";
}

export interface BooleanColumnProfile extends ColumnProfileBase {
  type: "boolean";
  trueCount: number;
  falseCount: number;
}

export interface StringColumnProfile extends ColumnProfileBase {
  type: "string";
  /** The most frequent categories, most frequent first. */
  top: CategoryCount[];
  /** Counts of every category while `categories.offset` is 0 (at most `capacity` of them). */
  categories: CategoryCountsJSON;
}

export interface TokenDocuments {
  token: string;
  documents: number;
}

export interface TextColumnProfile extends ColumnProfileBase {
  type: "text";
  chars: NumericSummary;
  tokens: NumericSummary;
  vocabulary: {
    size: number;
    sizeExact: boolean;
    /** All tokens of all documents. */
    tokenCount: number;
    /** The tokens found in the most documents. */
    top: TokenDocuments[];
    distinct: DistinctCountJSON;
    documentFrequencies: CategoryCountsJSON;
  };
}

export interface MissingColumnProfile extends ColumnProfileBase {
  type: "missing";
}

export type ColumnProfile =
  NumberColumnProfile | BooleanColumnProfile | StringColumnProfile | TextColumnProfile | MissingColumnProfile;

export interface DataProfile {
  version: 1;
  rowCount: number;
  columns: Record<string, ColumnProfile>;
}

export interface ProfileOptions {
  /**
   * A reference profile (e.g. of the training data): its column types replace inferred ones and its
   * histogram edges are reused, so this profile compares bin by bin with it and merges exactly with
   * other profiles made against it.
   */
  reference?: DataProfile;
  /** KLL parameter of the quantile sketches (default 200). */
  sketchK?: number;
  /** Histogram bins (default 10) and how edges are chosen (default `quantile`). */
  histogramBins?: number;
  histogramMethod?: "quantile" | "uniform";
  /** How many categories and tokens `top` lists (default 20). */
  topK?: number;
  /** Categories counted exactly per column before summarising (default 1000). */
  categoryCapacity?: number;
  /** Tokens whose document frequencies are kept per text column (default 2000). */
  vocabularyCapacity?: number;
  /** Settings of the distinct counts. */
  distinct?: DistinctCountOptions;
  /** Lowercase text before tokenizing (default true, as the tokenizer). */
  lowercase?: boolean;
}

const DEFAULT_TOP_K = 20;
const DEFAULT_VOCABULARY_CAPACITY = 2000;

/** A column name → type map of a profile (to profile or read later data the same way). */
export function profileColumnTypes(profile: DataProfile): Record<string, TableColumnType> {
  return Object.fromEntries(Object.entries(profile.columns).map(([name, column]) => [name, column.type]));
}

/** The histogram edges of a reference's column, when it has the same type. */
function referenceEdges(
  reference: DataProfile | undefined,
  name: string,
  type: TableColumnType,
  part: "value" | "chars" | "tokens",
): number[] | undefined {
  const column = reference === undefined ? undefined : ownEntry(reference.columns, name);
  if (column === undefined || column.type !== type) return undefined;
  if (column.type === "number" && part === "value") return column.histogram.edges;
  if (column.type === "text" && part !== "value") return column[part].histogram.edges;
  return undefined;
}

function profileColumn(
  name: string,
  values: ColumnValues,
  type: TableColumnType,
  options: ProfileOptions,
): ColumnProfile {
  const distinct = new DistinctCount(options.distinct);
  let count = 0;
  let invalid = 0;
  const valid: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const kind = valueKind(value);
    if (kind === "missing") continue;
    count++;
    distinct.add(value);
    if (kindMatchesType(kind, type)) valid.push(i);
    else invalid++;
  }
  const base: ColumnProfileBase = {
    count,
    missing: values.length - count,
    invalid,
    distinct: distinct.estimate(),
    distinctExact: distinct.exact,
    distinctSketch: distinct.toJSON(),
  };
  const edgeOptions = { bins: options.histogramBins ?? DEFAULT_HISTOGRAM_BINS, method: options.histogramMethod };
  const sketchOptions = { k: options.sketchK ?? DEFAULT_SKETCH_K };
  const topK = options.topK ?? DEFAULT_TOP_K;
  switch (type) {
    case "number": {
      const numbers = valid.map((i) => values[i] as number);
      const accumulator = new NumericAccumulator(sketchOptions);
      for (const x of numbers) accumulator.add(x);
      const fill = (h: Histogram) => numbers.forEach((x) => h.add(x));
      const edges = referenceEdges(options.reference, name, type, "value");
      return { type, ...base, ...accumulator.summary(fill, edges, edgeOptions) };
    }
    case "boolean": {
      let trueCount = 0;
      for (const i of valid) if (values[i] === true) trueCount++;
      return { type, ...base, trueCount, falseCount: valid.length - trueCount };
    }
    case "string": {
      const categories = new CategoryCounts({ capacity: options.categoryCapacity });
      for (const i of valid) categories.add(values[i] as string);
      return { type, ...base, top: categories.top(topK), categories: categories.toJSON() };
    }
    case "text":
      return {
        type,
        ...base,
        ...profileText(
          name,
          valid.map((i) => values[i] as string),
          options,
          topK,
        ),
      };
    case "missing":
      return { type, ...base };
  }
}

function profileText(
  name: string,
  texts: string[],
  options: ProfileOptions,
  topK: number,
): Pick<TextColumnProfile, "chars" | "tokens" | "vocabulary"> {
  const sketchOptions = { k: options.sketchK ?? DEFAULT_SKETCH_K };
  const edgeOptions = { bins: options.histogramBins ?? DEFAULT_HISTOGRAM_BINS, method: options.histogramMethod };
  const chars = new NumericAccumulator(sketchOptions);
  const tokens = new NumericAccumulator(sketchOptions);
  const charCounts = new Float64Array(texts.length);
  const tokenCounts = new Float64Array(texts.length);
  const vocabulary = new DistinctCount(options.distinct);
  const documents = new CategoryCounts({ capacity: options.vocabularyCapacity ?? DEFAULT_VOCABULARY_CAPACITY });
  let tokenCount = 0;
  texts.forEach((text, i) => {
    const words = tokenize(text, options.lowercase === undefined ? undefined : { lowercase: options.lowercase });
    charCounts[i] = charLength(text);
    tokenCounts[i] = words.length;
    chars.add(charCounts[i]);
    tokens.add(words.length);
    tokenCount += words.length;
    for (const word of new Set(words)) {
      vocabulary.addHash(hashString(word));
      documents.add(word);
    }
  });
  const fill = (counts: Float64Array) => (h: Histogram) => counts.forEach((x) => h.add(x));
  return {
    chars: chars.summary(fill(charCounts), referenceEdges(options.reference, name, "text", "chars"), edgeOptions),
    tokens: tokens.summary(fill(tokenCounts), referenceEdges(options.reference, name, "text", "tokens"), edgeOptions),
    vocabulary: {
      size: vocabulary.estimate(),
      sizeExact: vocabulary.exact,
      tokenCount,
      top: documents.top(topK).map(({ value, count }) => ({ token: value, documents: count })),
      distinct: vocabulary.toJSON(),
      documentFrequencies: documents.toJSON(),
    },
  };
}

/** Profiles every column of a table (see the file comment). */
export function profileTable(table: Table, options: ProfileOptions = {}): DataProfile {
  const reference = options.reference;
  let typed = table;
  if (reference !== undefined) {
    if (reference.version !== PROFILE_VERSION) {
      throw new MlError(`reference: profile version ${String(reference.version)} is not supported (expected 1)`);
    }
    const types = Object.fromEntries(
      table.columnNames.flatMap((name) => {
        const column = ownEntry(reference.columns, name);
        return column === undefined || column.type === "missing" ? [] : [[name, column.type]];
      }),
    );
    typed = withColumnTypes(table, types);
  }
  const columns = Object.fromEntries(
    typed.columnNames.map((name) => [
      name,
      profileColumn(name, typed.columns.get(name)!, typed.types.get(name)!, options),
    ]),
  );
  return { version: PROFILE_VERSION, rowCount: table.rowCount, columns };
}

// ---------------------------------------------------------------------------------------------
// Merging

function mergeBase(a: ColumnProfileBase, b: ColumnProfileBase, path: string): ColumnProfileBase {
  const distinct = DistinctCount.fromJSON(a.distinctSketch, `${path}.distinctSketch`).merge(
    DistinctCount.fromJSON(b.distinctSketch, `${path}.distinctSketch`),
  );
  return {
    count: a.count + b.count,
    missing: a.missing + b.missing,
    invalid: a.invalid + b.invalid,
    distinct: distinct.estimate(),
    distinctExact: distinct.exact,
    distinctSketch: distinct.toJSON(),
  };
}

/** A column absent from a profile of `rowCount` rows: all missing. */
function absentColumn(rowCount: number, like: ColumnProfileBase): MissingColumnProfile {
  const distinct = DistinctCount.fromJSON(like.distinctSketch);
  return {
    type: "missing",
    count: 0,
    missing: rowCount,
    invalid: 0,
    distinct: 0,
    distinctExact: true,
    distinctSketch: new DistinctCount({ precision: distinct.precision, exactLimit: distinct.exactLimit }).toJSON(),
  };
}

function mergeColumns(a: ColumnProfile, b: ColumnProfile, path: string): ColumnProfile {
  if (a.type === "missing" && b.type !== "missing") return mergeColumns(b, a, path);
  const base = mergeBase(a, b, path);
  if (b.type === "missing") {
    // the values of a column typed missing (if any) are invalid for any type
    if (a.type === "missing") return { type: "missing", ...base };
    return { ...a, ...base };
  }
  if (a.type !== b.type) {
    throw new MlError(
      `${path}: cannot merge a ${a.type} column with a ${b.type} column (profile both with the same { reference } to share types)`,
    );
  }
  switch (a.type) {
    case "number":
      return { type: "number", ...base, ...mergeNumericSummaries(a, b as NumberColumnProfile, path) };
    case "boolean": {
      const other = b as BooleanColumnProfile;
      return {
        type: "boolean",
        ...base,
        trueCount: a.trueCount + other.trueCount,
        falseCount: a.falseCount + other.falseCount,
      };
    }
    case "string": {
      const other = b as StringColumnProfile;
      const categories = CategoryCounts.fromJSON(a.categories, `${path}.categories`).merge(
        CategoryCounts.fromJSON(other.categories, `${path}.categories`),
      );
      const topK = Math.max(a.top.length, other.top.length, Math.min(DEFAULT_TOP_K, categories.size));
      return { type: "string", ...base, top: categories.top(topK), categories: categories.toJSON() };
    }
    case "text": {
      const other = b as TextColumnProfile;
      const vocabulary = DistinctCount.fromJSON(a.vocabulary.distinct, `${path}.vocabulary.distinct`).merge(
        DistinctCount.fromJSON(other.vocabulary.distinct, `${path}.vocabulary.distinct`),
      );
      const documents = CategoryCounts.fromJSON(
        a.vocabulary.documentFrequencies,
        `${path}.vocabulary.documentFrequencies`,
      ).merge(CategoryCounts.fromJSON(other.vocabulary.documentFrequencies, `${path}.vocabulary.documentFrequencies`));
      const topK = Math.max(
        a.vocabulary.top.length,
        other.vocabulary.top.length,
        Math.min(DEFAULT_TOP_K, documents.size),
      );
      return {
        type: "text",
        ...base,
        chars: mergeNumericSummaries(a.chars, other.chars, `${path}.chars`),
        tokens: mergeNumericSummaries(a.tokens, other.tokens, `${path}.tokens`),
        vocabulary: {
          size: vocabulary.estimate(),
          sizeExact: vocabulary.exact,
          tokenCount: a.vocabulary.tokenCount + other.vocabulary.tokenCount,
          top: documents.top(topK).map(({ value, count }) => ({ token: value, documents: count })),
          distinct: vocabulary.toJSON(),
          documentFrequencies: documents.toJSON(),
        },
      };
    }
  }
}

/**
 * One profile of the rows of both (neither is changed): counts add, sketches and summaries merge, a
 * column only one of them has is missing in the other's rows. Columns of different types (other than
 * `missing`) cannot merge: profile windows with `{ reference }` so they share types.
 */
export function mergeProfiles(a: DataProfile, b: DataProfile): DataProfile {
  for (const [which, profile] of [
    ["a", a],
    ["b", b],
  ] as const) {
    if (profile.version !== PROFILE_VERSION) {
      throw new MlError(`${which}: profile version ${String(profile.version)} is not supported (expected 1)`);
    }
  }
  const names = [...new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])];
  const columns = Object.fromEntries(
    names.map((name) => {
      const ca = ownEntry(a.columns, name);
      const cb = ownEntry(b.columns, name);
      const path = `columns.${name}`;
      const left = ca ?? absentColumn(a.rowCount, cb!);
      const right = cb ?? absentColumn(b.rowCount, ca!);
      return [name, mergeColumns(left, right, path)];
    }),
  );
  return { version: PROFILE_VERSION, rowCount: a.rowCount + b.rowCount, columns };
}
