/**
 * Class labels as scikit-learn handles them: `classes_` is `numpy.unique(y)`, so numbers sort ascending and
 * strings by Unicode code point (not by UTF-16 code unit as `Array.prototype.sort` does). Labels of one
 * array are all numbers or all strings; NaN is no label.
 */
import { MlError } from "../core/errors.js";
import type { Label } from "../core/linear.js";

/** Orders two labels of the same kind as numpy.unique does. */
export function compareLabels(a: Label, b: Label): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  const x = String(a);
  const y = String(b);
  // code point order: compare code points, not UTF-16 units (surrogates sort above U+E000–U+FFFF)
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const cx = x.codePointAt(i) as number;
    const cy = y.codePointAt(j) as number;
    if (cx !== cy) return cx < cy ? -1 : 1;
    i += cx > 0xffff ? 2 : 1;
    j += cy > 0xffff ? 2 : 1;
  }
  return x.length - i === y.length - j ? 0 : x.length - i < y.length - j ? -1 : 1;
}

/** Checks that labels are all finite numbers or all strings; returns which. `what` names the array. */
export function checkLabels(labels: readonly Label[], what = "y"): "number" | "string" | "empty" {
  if (labels.length === 0) return "empty";
  const kind = typeof labels[0];
  if (kind !== "number" && kind !== "string") {
    throw new MlError(`${what} must hold numbers or strings, got ${kind} at index 0`);
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (typeof label !== kind) {
      throw new MlError(`${what} mixes numbers and strings: index ${i} is ${typeof label}, index 0 is ${kind}`);
    }
    if (kind === "number" && !Number.isFinite(label)) {
      throw new MlError(`${what} has the label ${String(label)} at index ${i}: labels must be finite`);
    }
  }
  return kind;
}

/** The distinct labels, sorted as numpy.unique sorts them. */
export function uniqueLabels(...arrays: readonly (readonly Label[])[]): Label[] {
  const seen = new Set<Label>();
  let kind: string | undefined;
  for (const array of arrays) {
    const k = checkLabels(array);
    if (k === "empty") continue;
    if (kind !== undefined && kind !== k) throw new MlError("labels mix numbers and strings across arrays");
    kind = k;
    for (const label of array) seen.add(label);
  }
  return [...seen].sort(compareLabels);
}

/** The index of each label in `classes`; throws MlError naming a label that is not a class. */
export function encodeLabels(labels: readonly Label[], classes: readonly Label[], what = "y"): Int32Array {
  const index = new Map<Label, number>();
  classes.forEach((c, i) => index.set(c, i));
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const k = index.get(labels[i] as Label);
    if (k === undefined) throw new MlError(`${what}[${i}] = ${JSON.stringify(labels[i])} is not one of the classes`);
    out[i] = k;
  }
  return out;
}

/** A label as text for messages and report keys (strings as they are, numbers in JavaScript's form). */
export function labelText(label: Label): string {
  return typeof label === "string" ? label : String(label);
}
