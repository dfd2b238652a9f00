/**
 * Input checks shared by the metrics: equal lengths, non-empty inputs, finite numbers, valid sample weights.
 * Messages name the arrays and the numbers involved.
 */
import { MlError } from "../core/errors.js";

/** Throws unless every array has the same length (and, unless allowed, at least one element). */
export function checkLengths(arrays: Readonly<Record<string, ArrayLike<unknown>>>, allowEmpty = false): number {
  let n: number | undefined;
  let first = "";
  for (const [name, array] of Object.entries(arrays)) {
    if (n === undefined) {
      n = array.length;
      first = name;
    } else if (array.length !== n) {
      throw new MlError(`${first} has ${n} values but ${name} has ${array.length}`);
    }
  }
  if (!allowEmpty && !n) throw new MlError(`${first} is empty`);
  return n ?? 0;
}

/** The numbers as a Float64Array; throws on NaN or ±Infinity. */
export function finiteNumbers(values: ArrayLike<number>, what: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new MlError(`${what} has ${String(v)} at index ${i}`);
    out[i] = v;
  }
  return out;
}

/** Sample weights (ones when absent): length n, finite, not negative. */
export function sampleWeights(sampleWeight: ArrayLike<number> | undefined, n: number): Float64Array {
  if (sampleWeight === undefined) return new Float64Array(n).fill(1);
  if (sampleWeight.length !== n) throw new MlError(`sampleWeight has ${sampleWeight.length} values, expected ${n}`);
  const out = finiteNumbers(sampleWeight, "sampleWeight");
  for (let i = 0; i < n; i++) {
    if ((out[i] as number) < 0) throw new MlError(`sampleWeight[${i}] is ${out[i]}: weights must not be negative`);
  }
  return out;
}

/** scikit-learn's zero_division: the value of an undefined ratio; "warn" means 0 and a warning. */
export type ZeroDivision = "warn" | 0 | 1 | "nan";

export function zeroDivisionValue(zeroDivision: ZeroDivision): number {
  if (zeroDivision === "nan") return Number.NaN;
  if (zeroDivision === "warn" || zeroDivision === 0) return 0;
  if (zeroDivision === 1) return 1;
  throw new MlError(`zeroDivision must be "warn", 0, 1 or "nan", got ${JSON.stringify(zeroDivision)}`);
}

/** Collects warnings (scikit-learn's UndefinedMetricWarning and the like) and passes each to a listener. */
export class Warnings {
  readonly messages: string[] = [];
  constructor(private readonly listener?: (message: string) => void) {}
  add(message: string): void {
    if (this.messages.includes(message)) return;
    this.messages.push(message);
    this.listener?.(message);
  }
}
