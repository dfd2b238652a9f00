/**
 * Stratified k-fold, as scikit-learn's `StratifiedKFold` (the algorithm of scikit-learn ≥ 0.22): with the
 * labels sorted by class (classes in order of first appearance), fold i takes every k-th of them starting at i,
 * which fixes how many members of each class every fold gets; each class's members then receive their fold
 * numbers in index order (or shuffled with the seeded `Random`). So every class is spread over the folds as
 * evenly as possible (its per-fold counts differ by at most 1), fold sizes differ by at most 1, and without
 * shuffling the folds equal scikit-learn's.
 *
 * Unlike scikit-learn, which only warns, a class with fewer than k members is an error: some test fold would
 * miss it.
 */
import { MlError } from "../core/errors.js";
import type { Label } from "../core/linear.js";
import { Random } from "../core/random.js";
import { checkLabels, labelText } from "../models/labels.js";
import type { Split } from "./split.js";
import { checkFoldCount, splitByMask } from "./split.js";

export interface StratifiedKFoldOptions {
  /** Number of folds (default 5). */
  k?: number;
  /** Shuffle each class's members across the folds (default false, as scikit-learn). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
}

export function stratifiedKFold(labels: readonly Label[], options: StratifiedKFoldOptions = {}): Split[] {
  const n = labels.length;
  const k = options.k ?? 5;
  checkLabels(labels, "labels");
  checkFoldCount(k, n);
  // classes in order of first appearance
  const codes = new Map<Label, number>();
  const encoded = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = labels[i] as Label;
    let code = codes.get(label);
    if (code === undefined) {
      code = codes.size;
      codes.set(label, code);
    }
    encoded[i] = code;
  }
  const nClasses = codes.size;
  const counts = new Int32Array(nClasses);
  for (const c of encoded) counts[c] = (counts[c] as number) + 1;
  for (const [label, c] of codes) {
    if ((counts[c] as number) < k) {
      throw new MlError(`the class ${labelText(label)} has ${counts[c]} members, fewer than k=${k} folds`);
    }
  }
  // allocation[fold][class]: how many members of the class go to the fold
  const sorted = Int32Array.from(encoded).sort();
  const allocation = Array.from({ length: k }, () => new Int32Array(nClasses));
  sorted.forEach((c, position) => {
    const row = allocation[position % k] as Int32Array;
    row[c] = (row[c] as number) + 1;
  });
  const random = options.shuffle === true ? new Random(options.seed ?? 0) : undefined;
  const testFold = new Int32Array(n);
  for (let c = 0; c < nClasses; c++) {
    const folds = new Int32Array(counts[c] as number);
    let at = 0;
    for (let fold = 0; fold < k; fold++) {
      for (let j = 0; j < ((allocation[fold] as Int32Array)[c] as number); j++) folds[at++] = fold;
    }
    random?.shuffle(folds);
    at = 0;
    for (let i = 0; i < n; i++) if (encoded[i] === c) testFold[i] = folds[at++] as number;
  }
  return Array.from({ length: k }, (_, fold) => {
    const inTest = new Uint8Array(n);
    for (let i = 0; i < n; i++) inTest[i] = testFold[i] === fold ? 1 : 0;
    return splitByMask(n, inTest);
  });
}
