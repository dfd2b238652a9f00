/**
 * OneHotEncoder: categorical columns → one-hot matrix, equal to scikit-learn's
 * `sklearn.preprocessing.OneHotEncoder` (categories="auto", drop=None).
 *
 * Input is column-major: an array of columns, each an array (or Float64Array) of strings or numbers, with
 * null, undefined and NaN as missing. Use {@link columnsFromRows} for scikit-learn's row-major layout.
 *
 * How it matches scikit-learn:
 * - the categories of each column are its distinct values sorted as scikit-learn sorts them: strings by
 *   code point, numbers ascending; a column must hold only strings or only numbers (scikit-learn refuses
 *   mixed columns too);
 * - missing values form their own category, placed last (scikit-learn does so for np.nan and for None;
 *   unlike scikit-learn, which keeps None and NaN apart, null, undefined and NaN are one category here);
 * - output columns are the categories of column 0, then of column 1, ...; `featureNames()` names them
 *   `<input name>_<category>` (missing as "nan"), input names defaulting to x0, x1, ... as scikit-learn;
 * - unknown categories at transform: "error" (default) throws an MlError naming the column, the value
 *   and its row; "ignore" encodes that column of that row as all zeros. A missing value at transform is
 *   unknown when the column had no missing value at fit.
 * `transform` returns CSR (scikit-learn's default `sparse_output=True`); `transformDense` a DenseMatrix.
 */
import { MlError } from "../core/errors.js";
import { dense, type CsrMatrix, type DenseMatrix } from "../core/matrix.js";
import { compareCodePoints } from "./code-point-order.js";
import { describe, FORMAT_VERSION, JsonReader, notFittedError, type JsonObject } from "./serialization.js";

/** A cell of a categorical column; null, undefined and NaN are missing. */
export type CategoryValue = string | number | null | undefined;

/** A categorical column. */
export type CategoricalColumn = readonly CategoryValue[] | Float64Array;

/** A fitted category: a string, a finite number, or null for "missing". */
export type Category = string | number | null;

export type HandleUnknown = "error" | "ignore";

export interface OneHotEncoderOptions {
  /** What to do with a category not seen by fit (default "error"). */
  handleUnknown?: HandleUnknown;
}

export interface OneHotEncoderJson extends JsonObject {
  type: "OneHotEncoder";
  version: 1;
  options: { handleUnknown: HandleUnknown };
  /** Categories of each input column, sorted; null is the missing-value category. */
  categories: Category[][];
}

const MISSING = Symbol("missing");
type Key = string | number | typeof MISSING;

function keyOf(value: CategoryValue): Key {
  if (value === null || value === undefined || (typeof value === "number" && Number.isNaN(value))) return MISSING;
  return value; // a Map keys -0 and 0 together (SameValueZero), as numpy's unique does
}

/** Sorts a column's categories: strings by code point or numbers ascending, missing last. */
function sortCategories(keys: Key[]): Category[] {
  const missing = keys.includes(MISSING);
  const present = keys.filter((k): k is string | number => k !== MISSING);
  const sorted =
    typeof present[0] === "string"
      ? (present as string[]).sort(compareCodePoints)
      : (present as number[]).sort((a, b) => a - b);
  return missing ? [...sorted, null] : sorted;
}

/** Row-major rows (scikit-learn's layout) → columns. */
export function columnsFromRows(rows: readonly (readonly CategoryValue[])[]): CategoryValue[][] {
  const width = rows[0]?.length ?? 0;
  return Array.from({ length: width }, (_, j) =>
    rows.map((row, i) => {
      if (row.length !== width) throw new MlError(`row ${i} has ${row.length} values, expected ${width}`);
      return row[j];
    }),
  );
}

function formatCategory(c: Category): string {
  if (c === null) return "nan";
  return typeof c === "string" ? JSON.stringify(c) : String(c);
}

/** Encodes categorical columns as a one-hot numeric matrix. */
export class OneHotEncoder {
  readonly handleUnknown: HandleUnknown;
  private cats: Category[][] | null = null;
  private lookups: Map<Key, number>[] = [];

  constructor(options: OneHotEncoderOptions = {}) {
    this.handleUnknown = options.handleUnknown ?? "error";
    if (this.handleUnknown !== "error" && this.handleUnknown !== "ignore") {
      throw new MlError(
        `OneHotEncoder: handleUnknown must be "error" or "ignore", got ${describe(this.handleUnknown)}`,
      );
    }
  }

  get isFitted(): boolean {
    return this.cats !== null;
  }

  /** The sorted categories of each input column (copies); null is the missing-value category. */
  get categories(): Category[][] {
    if (this.cats === null) throw notFittedError("OneHotEncoder");
    return this.cats.map((c) => [...c]);
  }

  /** Learns the categories of each column. */
  fit(columns: readonly CategoricalColumn[]): this {
    const rows = checkColumns(columns);
    const categories = columns.map((column, j) => {
      const seen = new Set<Key>();
      let kind: "string" | "number" | null = null;
      for (let i = 0; i < rows; i++) {
        const value = column[i];
        const key = keyOf(value);
        if (key !== MISSING) {
          const k = typeof key === "string" ? "string" : "number";
          if (typeof value === "number" && !Number.isFinite(value)) {
            throw new MlError(`OneHotEncoder: column ${j}, row ${i} is ${String(value)}; categories must be finite`);
          }
          if (k === "number" && typeof value !== "number") {
            throw new MlError(
              `OneHotEncoder: column ${j}, row ${i} is ${describe(value)}, expected a string or a number`,
            );
          }
          if (kind !== null && kind !== k) {
            throw new MlError(
              `OneHotEncoder: column ${j} mixes strings and numbers (row ${i} is ${describe(value)}); encode it as strings`,
            );
          }
          kind = k;
        }
        seen.add(key);
      }
      return sortCategories([...seen]);
    });
    this.setCategories(categories);
    return this;
  }

  /** The one-hot CSR matrix of `columns` (one row per input row). */
  transform(columns: readonly CategoricalColumn[]): CsrMatrix {
    const cats = this.cats;
    if (cats === null) throw notFittedError("OneHotEncoder");
    if (columns.length !== cats.length) {
      throw new MlError(`OneHotEncoder: got ${columns.length} columns, but the encoder was fitted on ${cats.length}`);
    }
    const rows = checkColumns(columns);
    const offsets: number[] = [];
    let width = 0;
    for (const c of cats) {
      offsets.push(width);
      width += c.length;
    }
    const indptr = new Int32Array(rows + 1);
    const indices: number[] = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cats.length; j++) {
        const value = (columns[j] as CategoricalColumn)[i];
        const index = (this.lookups[j] as Map<Key, number>).get(keyOf(value));
        if (index === undefined) {
          if (this.handleUnknown === "ignore") continue;
          const known = (cats[j] as Category[]).slice(0, 10).map(formatCategory).join(", ");
          throw new MlError(
            `OneHotEncoder: column ${j} has an unknown category ${describe(value)} (row ${i}) during transform; ` +
              `known categories: ${known}${(cats[j] as Category[]).length > 10 ? ", ..." : ""}`,
          );
        }
        indices.push((offsets[j] as number) + index);
      }
      indptr[i + 1] = indices.length;
    }
    return {
      kind: "csr",
      rows,
      cols: width,
      indptr,
      indices: Int32Array.from(indices),
      data: new Float64Array(indices.length).fill(1),
    };
  }

  /** The one-hot matrix of `columns` as a DenseMatrix. */
  transformDense(columns: readonly CategoricalColumn[]): DenseMatrix {
    const m = this.transform(columns);
    const out = new Float64Array(m.rows * m.cols);
    for (let i = 0; i < m.rows; i++) {
      for (let k = m.indptr[i] as number; k < (m.indptr[i + 1] as number); k++)
        out[i * m.cols + (m.indices[k] as number)] = 1;
    }
    return dense(m.rows, m.cols, out);
  }

  fitTransform(columns: readonly CategoricalColumn[]): CsrMatrix {
    return this.fit(columns).transform(columns);
  }

  /** Output column names `<input name>_<category>` (scikit-learn's `get_feature_names_out`). */
  featureNames(inputNames?: readonly string[]): string[] {
    const cats = this.cats;
    if (cats === null) throw notFittedError("OneHotEncoder");
    if (inputNames !== undefined && inputNames.length !== cats.length) {
      throw new MlError(`OneHotEncoder: got ${inputNames.length} input names for ${cats.length} columns`);
    }
    return cats.flatMap((c, j) =>
      c.map((cat) => `${inputNames?.[j] ?? `x${j}`}_${cat === null ? "nan" : String(cat)}`),
    );
  }

  toJSON(): OneHotEncoderJson {
    if (this.cats === null) throw notFittedError("OneHotEncoder");
    return {
      type: "OneHotEncoder",
      version: FORMAT_VERSION,
      options: { handleUnknown: this.handleUnknown },
      categories: this.categories,
    };
  }

  static fromJSON(obj: unknown): OneHotEncoder {
    const reader: JsonReader = JsonReader.forType(obj, "OneHotEncoder");
    const encoder = new OneHotEncoder({
      handleUnknown: reader.object("options").oneOf("handleUnknown", ["error", "ignore"] as const),
    });
    const raw = reader.raw("categories");
    if (!Array.isArray(raw)) reader.fail("categories", "an array of arrays");
    const categories = raw.map((column: unknown, j) => {
      const ok =
        Array.isArray(column) &&
        column.every((c) => c === null || typeof c === "string" || (typeof c === "number" && Number.isFinite(c)));
      if (!ok) reader.fail("categories", `arrays of strings, finite numbers or null (column ${j} is not)`);
      const cats = column as Category[];
      if (new Set(cats.filter((c) => c !== null).map((c) => typeof c)).size > 1) {
        reader.fail("categories", `columns of one type (column ${j} mixes strings and numbers)`);
      }
      const sorted = sortCategories(cats.map((c) => keyOf(c)));
      const unique = new Set(cats).size === cats.length;
      if (!unique || sorted.some((c, i) => c !== cats[i])) {
        reader.fail("categories", `sorted without duplicates, of one type (column ${j} is not)`);
      }
      return cats;
    });
    encoder.setCategories(categories);
    return encoder;
  }

  private setCategories(categories: Category[][]): void {
    this.cats = categories;
    this.lookups = categories.map((c) => new Map(c.map((cat, i) => [keyOf(cat), i])));
  }
}

/** Checks the columns have the same length and returns it. */
function checkColumns(columns: readonly CategoricalColumn[]): number {
  if (!Array.isArray(columns)) throw new MlError("OneHotEncoder: expected an array of columns");
  if (columns.length === 0) throw new MlError("OneHotEncoder: expected at least one column");
  const rows = (columns[0] as CategoricalColumn).length;
  columns.forEach((column, j) => {
    if (!(Array.isArray(column) || column instanceof Float64Array)) {
      throw new MlError(`OneHotEncoder: column ${j} is ${describe(column)}, expected an array`);
    }
    if (column.length !== rows)
      throw new MlError(`OneHotEncoder: column ${j} has ${column.length} values, column 0 has ${rows}`);
  });
  return rows;
}
