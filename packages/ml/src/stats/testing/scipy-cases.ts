/**
 * Reference values computed by SciPy 1.10.1 / NumPy 1.24.2 for 26 seeded sample pairs
 * (`scipy-cases.json.gz` beside this file, a copy of the workplace's shared drift reference data).
 * Layout: docs/drift.md ("Reference values"). Test-only: the package leaves `testing` folders out.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import assert from "node:assert/strict";

const FILE = fileURLToPath(new URL("../../../src/stats/testing/scipy-cases.json.gz", import.meta.url));

/** A case's `expected` object: every statistic SciPy computed for it (shape varies per case). */
export type Expected = Record<string, unknown>;

export interface NumericCase {
  readonly id: string;
  readonly type: "num";
  readonly note: string;
  readonly ref: number[];
  readonly cur: number[];
  readonly expected: Expected;
}

export interface CategoricalCase {
  readonly id: string;
  readonly type: "cat";
  readonly note: string;
  readonly levels: string[];
  /** integer codes into `levels` */
  readonly ref: number[];
  readonly cur: number[];
  readonly expected: Expected;
}

export type ScipyCase = NumericCase | CategoricalCase;

export interface ScipyCases {
  readonly meta: Record<string, string>;
  readonly dataset_drift_example: {
    columns: string[];
    drifted: string[];
    share: number;
    drift_share: number;
    dataset_drift: boolean;
  };
  readonly cases: ScipyCase[];
}

let cached: ScipyCases | undefined;

/** Non-finite numbers are stored as the strings "Infinity", "-Infinity" and "NaN". */
function revive(_key: string, value: unknown): unknown {
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  if (value === "NaN") return NaN;
  return value;
}

export function scipyCases(): ScipyCases {
  cached ??= JSON.parse(gunzipSync(readFileSync(FILE)).toString("utf8"), revive) as ScipyCases;
  return cached;
}

export function numericCases(): NumericCase[] {
  return scipyCases().cases.filter((c): c is NumericCase => c.type === "num");
}

export function categoricalCases(): CategoricalCase[] {
  return scipyCases().cases.filter((c): c is CategoricalCase => c.type === "cat");
}

/** Reads `expected.a.b.c` as a number, failing the test when it is absent. */
export function num(expected: Expected, path: string): number {
  let v: unknown = expected;
  for (const part of path.split(".")) v = (v as Record<string, unknown> | undefined)?.[part];
  assert.equal(typeof v, "number", `expected.${path} is not a number`);
  return v as number;
}

/**
 * |actual − expected| ≤ rtol·|expected| (+ atol), NaN equals NaN and infinities must match exactly.
 * The reference data suggest rtol 1e-9, and 1e-7 for p-values below 1e-100.
 */
export function assertClose(actual: number, expected: number, rtol: number, label: string, atol = 0): void {
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${label}: ${actual} vs NaN`);
    return;
  }
  if (!Number.isFinite(expected)) {
    assert.equal(actual, expected, label);
    return;
  }
  const err = Math.abs(actual - expected);
  assert.ok(
    err <= rtol * Math.abs(expected) + atol,
    `${label}: ${actual} vs ${expected} (rel ${err / Math.abs(expected)})`,
  );
}
