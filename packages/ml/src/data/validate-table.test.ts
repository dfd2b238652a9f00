import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseExpectations } from "./expectations.js";
import { tableFromColumns, tableFromRecords } from "./table.js";
import { validateTable, type ValidationResult } from "./validate-table.js";

const expectations = parseExpectations({
  version: 1,
  table: { minRows: 2, requiredColumns: ["age", "city", "income"], allowUnexpectedColumns: false },
  columns: {
    age: { type: "number", maxMissingRate: 0.25, min: 0, max: 100 },
    city: { type: "string", maxMissingRate: 0, categories: ["Lyon", "Paris"], maxUnknownCategoryRate: 0.2 },
    review: { type: "text", minLength: 5, maxLength: 30, minDistinct: 2 },
    income: { type: "number" },
  },
});

function find(results: ValidationResult[], column: string | undefined, expectation: string): ValidationResult {
  const result = results.find((r) => r.column === column && r.expectation === expectation);
  assert.ok(result, `no ${expectation} result for ${column}`);
  return result;
}

describe("validateTable", () => {
  it("passes data that meets every expectation", () => {
    const table = tableFromRecords([
      { age: 30, city: "Paris", review: "fine, thanks", income: 1 },
      { age: 40, city: "Lyon", review: "not good at all", income: 2 },
      { age: null, city: "Paris", review: "great", income: 3 },
      { age: 0, city: "Paris", review: null, income: 4 },
    ]);
    const report = validateTable(table, expectations);
    assert.equal(report.success, true, JSON.stringify(report.results.filter((r) => !r.success)));
    assert.equal(report.failed, 0);
    assert.equal(report.checked, report.results.length);
    assert.deepEqual(
      report.results.map((r) => `${r.column ?? "(table)"}.${r.expectation}`),
      [
        "(table).rowCount",
        "(table).requiredColumns",
        "(table).unexpectedColumns",
        "age.type",
        "age.missingRate",
        "age.range",
        "city.type",
        "city.missingRate",
        "city.categories",
        "review.type",
        "review.length",
        "review.distinct",
        "income.type",
      ],
    );
    assert.equal(find(report.results, "age", "range").message, "all numbers within [0, 100]");
    assert.ok(report.results.every((r) => r.examples === undefined));
  });

  it("reports each failure with observed, expected, a message and examples with row numbers", () => {
    const table = tableFromRecords([
      { age: 30, city: "Paris", review: "ok", extra: 1 },
      { age: -3, city: "Atlantis", review: "a review that is far too long to pass" },
      { age: "forty", city: null, review: "ok" },
      { age: 140, city: "Paris", review: "ok" },
      { age: null, city: "Lyon", review: "ok" },
    ]);
    const report = validateTable(table, expectations);
    assert.equal(report.success, false);
    assert.equal(report.failed, report.results.filter((r) => !r.success).length);

    assert.deepEqual(find(report.results, undefined, "requiredColumns").observed, { missing: ["income"] });
    assert.equal(find(report.results, undefined, "requiredColumns").message, "missing required column: income");
    assert.deepEqual(find(report.results, undefined, "unexpectedColumns").observed, { unexpected: ["extra"] });
    assert.equal(find(report.results, undefined, "rowCount").success, true);

    const type = find(report.results, "age", "type");
    assert.equal(type.success, false);
    assert.deepEqual(type.observed, { mismatches: 1, rate: 0.25 });
    assert.deepEqual(type.expected, { type: "number", maxMismatchRate: 0 });
    assert.deepEqual(type.examples, [{ row: 2, value: "forty" }]);
    assert.equal(type.message, "1 of 4 values (25%) are not number, more than the 0% allowed");

    const range = find(report.results, "age", "range");
    assert.equal(range.success, false);
    assert.deepEqual(range.observed, { min: -3, max: 140, outside: 2 });
    assert.deepEqual(range.expected, { min: 0, max: 100 });
    assert.deepEqual(range.examples, [
      { row: 1, value: -3 },
      { row: 3, value: 140 },
    ]);
    assert.equal(range.message, "2 values outside [0, 100] (observed -3 … 140)");

    const missing = find(report.results, "age", "missingRate");
    assert.equal(missing.success, true);
    assert.deepEqual(missing.observed, { missing: 1, rate: 0.2 });

    const cityMissing = find(report.results, "city", "missingRate");
    assert.equal(cityMissing.success, false);
    assert.equal(cityMissing.message, "20% missing (1 row), more than the 0% allowed");

    const categories = find(report.results, "city", "categories");
    assert.equal(categories.success, false); // 1 of 4 = 25% > 20%
    assert.deepEqual(categories.observed, { unknown: 1, rate: 0.25, unknownValues: ["Atlantis"] });
    assert.deepEqual(categories.examples, [{ row: 1, value: "Atlantis" }]);
    assert.match(
      categories.message,
      /^1 value \(25%\) in unknown categories \('Atlantis'\), more than the 20% allowed$/,
    );

    const length = find(report.results, "review", "length");
    assert.equal(length.success, false);
    assert.deepEqual(length.observed, { min: 2, max: 37, outside: 5 });
    assert.equal(length.examples!.length, 5);

    const distinct = find(report.results, "review", "distinct");
    assert.equal(distinct.success, true);
    assert.equal(distinct.observed, 2);
    assert.equal(
      report.results.some((r) => r.column === "income"),
      false,
      "checks of an absent column are skipped",
    );
  });

  it("limits examples and fails row counts", () => {
    const table = tableFromColumns({ age: new Float64Array([-1, -2, -3, -4, -5, -6, -7]) });
    const report = validateTable(
      table,
      parseExpectations({ version: 1, table: { maxRows: 3 }, columns: { age: { min: 0 } } }),
      { maxExamples: 2 },
    );
    assert.deepEqual(
      report.results.map((r) => r.success),
      [false, false],
    );
    assert.equal(report.results[0]!.message, "7 rows, expected ≤ 3");
    assert.deepEqual(report.results[1]!.examples, [
      { row: 0, value: -1 },
      { row: 1, value: -2 },
    ]);
    assert.deepEqual(report.results[1]!.observed, { min: -7, max: -1, outside: 7 });
  });

  it("treats an empty table and an empty document sensibly", () => {
    const empty = tableFromRecords([]);
    const report = validateTable(empty, parseExpectations({ version: 1, columns: {} }));
    assert.deepEqual(report, { success: true, checked: 0, failed: 0, results: [] });
    const atLeastOne = validateTable(empty, parseExpectations({ version: 1, table: { minRows: 1 } }));
    assert.equal(atLeastOne.success, false);
    assert.equal(atLeastOne.results[0]!.message, "0 rows, expected ≥ 1");
  });
});
