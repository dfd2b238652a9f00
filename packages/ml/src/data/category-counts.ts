/**
 * Category frequencies in bounded memory, mergeable: exact while there are at most `capacity` distinct
 * categories (default 1000), then a Misra–Gries summary (the frequent-items algorithm of Misra and Gries,
 * 1982, with the batched decrement and the merge of Agarwal et al., "Mergeable Summaries", 2012).
 *
 * When a new category arrives and all `capacity` counters are taken, the median counter value d is
 * subtracted from every counter, counters at zero or below are dropped (at least half of them), `offset`
 * grows by d, and the new category gets a counter. A merge adds counters and offsets, then, above
 * capacity, subtracts the (capacity+1)-th largest counter the same way.
 *
 * Guarantee: for every category, counted ≤ true count ≤ counted + offset (a category without a counter
 * has counted 0), and offset ≤ 2·(total − Σ counters)/capacity ≤ 2·total/capacity. So every category
 * more frequent than 2·total/capacity keeps a counter, and `exact` (offset 0) means all counts are exact.
 * Ties in `top` are broken by value (code-unit order), so results are deterministic.
 */
import { MlError } from "../core/errors.js";
import { checkArray, checkCount, checkLiteral, checkObject, checkString, fail } from "./json-check.js";

export const DEFAULT_CATEGORY_CAPACITY = 1000;

export interface CategoryCount {
  value: string;
  count: number;
}

/** The JSON form: counters as [value, count] pairs, largest first. */
export interface CategoryCountsJSON {
  type: "category-counts";
  version: 1;
  capacity: number;
  total: number;
  offset: number;
  counts: [string, number][];
}

function checkCapacity(capacity: unknown, path: string): number {
  if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 2 || capacity > 1_000_000) {
    fail(path, "an integer between 2 and 1000000", capacity);
  }
  return capacity;
}

function byCount(a: CategoryCount, b: CategoryCount): number {
  return b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
}

export class CategoryCounts {
  private capacityValue: number;
  private readonly counters = new Map<string, number>();
  private n = 0;
  private error = 0;

  constructor(options: { capacity?: number } = {}) {
    this.capacityValue = checkCapacity(options.capacity ?? DEFAULT_CATEGORY_CAPACITY, "capacity");
  }

  /** Most counters kept. */
  get capacity(): number {
    return this.capacityValue;
  }

  /** Everything counted (a category added twice counts twice). */
  get total(): number {
    return this.n;
  }

  /** The most any count may be below the truth; 0 means every count is exact. */
  get offset(): number {
    return this.error;
  }

  /** Whether every count is exact (no category was ever dropped). */
  get exact(): boolean {
    return this.error === 0;
  }

  /** Number of categories with a counter (all the categories seen, when exact). */
  get size(): number {
    return this.counters.size;
  }

  /** Counts `count` occurrences of `value`. */
  add(value: string, count = 1): void {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new MlError(`category counts: count must be a positive integer, got ${count}`);
    }
    this.n += count;
    const current = this.counters.get(value);
    if (current !== undefined) {
      this.counters.set(value, current + count);
      return;
    }
    if (this.counters.size >= this.capacityValue) {
      const values = [...this.counters.values()].sort((a, b) => a - b);
      this.decrement(values[(values.length - 1) >> 1]!);
    }
    this.counters.set(value, count);
  }

  /** The counted occurrences of `value` (a lower bound; exact when `exact`). */
  count(value: string): number {
    return this.counters.get(value) ?? 0;
  }

  /** The `limit` most frequent categories (all of them by default), largest count first. */
  top(limit = Infinity): CategoryCount[] {
    const all = [...this.counters].map(([value, count]) => ({ value, count }));
    all.sort(byCount);
    return Number.isFinite(limit) ? all.slice(0, limit) : all;
  }

  /** Adds what `other` counted (`other` is unchanged); the smaller capacity of the two is kept. */
  merge(other: CategoryCounts): this {
    this.capacityValue = Math.min(this.capacityValue, other.capacityValue);
    this.n += other.n;
    this.error += other.error;
    for (const [value, count] of other.counters) this.counters.set(value, (this.counters.get(value) ?? 0) + count);
    if (this.counters.size > this.capacityValue) {
      const values = [...this.counters.values()].sort((a, b) => b - a);
      this.decrement(values[this.capacityValue]!);
    }
    return this;
  }

  clone(): CategoryCounts {
    return CategoryCounts.fromJSON(this.toJSON());
  }

  toJSON(): CategoryCountsJSON {
    return {
      type: "category-counts",
      version: 1,
      capacity: this.capacityValue,
      total: this.n,
      offset: this.error,
      counts: this.top().map(({ value, count }) => [value, count]),
    };
  }

  static fromJSON(json: unknown, path = "categories"): CategoryCounts {
    const o = checkObject(json, path);
    checkLiteral(o.type, ["category-counts"], `${path}.type`);
    checkLiteral(o.version, [1], `${path}.version`);
    const counts = new CategoryCounts({ capacity: checkCapacity(o.capacity, `${path}.capacity`) });
    counts.n = checkCount(o.total, `${path}.total`);
    counts.error = checkCount(o.offset, `${path}.offset`);
    const pairs = checkArray(o.counts, `${path}.counts`);
    if (pairs.length > counts.capacityValue) {
      throw new MlError(
        `${path}.counts: holds ${pairs.length} counters, more than the capacity ${counts.capacityValue}`,
      );
    }
    let sum = 0;
    pairs.forEach((pair, i) => {
      const where = `${path}.counts[${i}]`;
      const items = checkArray(pair, where);
      if (items.length !== 2) fail(where, "a [value, count] pair", pair);
      const value = checkString(items[0], `${where}[0]`);
      const count = checkCount(items[1], `${where}[1]`);
      if (count === 0) fail(`${where}[1]`, "a positive integer", count);
      if (counts.counters.has(value)) throw new MlError(`${where}: '${value}' is counted twice`);
      counts.counters.set(value, count);
      sum += count;
    });
    if (sum > counts.n) throw new MlError(`${path}: the counters add up to ${sum}, more than the total ${counts.n}`);
    return counts;
  }

  /** Subtracts d from every counter and drops the ones left at zero or below. */
  private decrement(d: number): void {
    for (const [value, count] of this.counters) {
      if (count <= d) this.counters.delete(value);
      else this.counters.set(value, count - d);
    }
    this.error += d;
  }
}
