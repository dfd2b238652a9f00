import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MlError } from "../core/errors.js";
import { expectationsFromProfile, parseExpectations, type Expectations } from "./expectations.js";
import { profileTable } from "./profile.js";
import { tableFromRecords } from "./table.js";
import { validateTable } from "./validate-table.js";

const REVIEWS = [
  "The delivery was late and the box arrived damaged",
  "Great product and fast delivery, works as described",
  "Terrible support, the product broke after a week",
];

function reference(): Record<string, unknown>[] {
  return Array.from({ length: 200 }, (_, i) => ({
    age: i % 20 === 0 ? null : 20 + (i % 50),
    balance: -100 + i * 3,
    city: ["Paris", "Lyon", "Nantes"][i % 3],
    member: i % 4 === 0,
    review: REVIEWS[i % 3],
  }));
}

describe("parseExpectations", () => {
  const good = {
    version: 1,
    table: { minRows: 1, maxRows: 10, requiredColumns: ["age"], allowUnexpectedColumns: false },
    columns: {
      age: { type: "number", maxMissingRate: 0.1, min: 0, max: 120 },
      city: { type: "string", categories: ["Lyon", "Paris"], maxUnknownCategoryRate: 0.05 },
      review: { type: "text", minLength: 1, maxLength: 500, minDistinct: 1, maxDistinct: 100 },
    },
  };

  it("accepts a complete document, as an object or as JSON text", () => {
    assert.deepEqual(parseExpectations(good), good);
    assert.deepEqual(parseExpectations(JSON.stringify(good)), good);
    assert.deepEqual(parseExpectations({ version: 1 }), { version: 1, table: {}, columns: {} });
  });

  it("names the field and the value in every error", () => {
    const cases: [unknown, RegExp][] = [
      [{ ...good, columns: { age: { max: "x" } } }, /^columns.age.max: must be a number, got 'x'$/],
      [{ ...good, columns: { age: { min: 5, max: 1 } } }, /^columns.age: min \(5\) must not exceed max \(1\)$/],
      [
        { ...good, columns: { age: { type: "float" } } },
        /^columns.age.type: must be one of number, boolean, string, text, missing, got 'float'$/,
      ],
      [
        { ...good, columns: { age: { maxMissingRate: 1.5 } } },
        /^columns.age.maxMissingRate: must be a number between 0 and 1, got 1.5$/,
      ],
      [{ ...good, columns: { age: { mx: 3 } } }, /^columns.age.mx: unknown field \(known: type, /],
      [
        { ...good, columns: { city: { maxUnknownCategoryRate: 0.1 } } },
        /^columns.city.maxUnknownCategoryRate: needs categories$/,
      ],
      [
        { ...good, columns: { city: { categories: ["a", "a"] } } },
        /^columns.city.categories\[1\]: 'a' is listed twice$/,
      ],
      [
        { ...good, columns: { city: { categories: ["a", 3] } } },
        /^columns.city.categories\[1\]: must be a string, got 3$/,
      ],
      [
        { ...good, columns: { review: { minLength: 1.5 } } },
        /^columns.review.minLength: must be a non-negative integer, got 1.5$/,
      ],
      [{ ...good, columns: [] }, /^columns: must be an object, got an array$/],
      [{ ...good, table: { minRows: 5, maxRows: 1 } }, /^table: minRows \(5\) must not exceed maxRows \(1\)$/],
      [{ ...good, table: { requiredColumns: "age" } }, /^table.requiredColumns: must be an array, got 'age'$/],
      [{ ...good, version: 2 }, /^version: must be 1, got 2$/],
      [{ ...good, extra: 1 }, /^extra: unknown field/],
      ["[1,", /^expectations is not valid JSON/],
      [null, /^expectations: must be an object, got null$/],
    ];
    for (const [document, message] of cases) {
      assert.throws(
        () => parseExpectations(document),
        (e: unknown) => e instanceof MlError && message.test(e.message),
        String(message),
      );
    }
  });
});

describe("expectationsFromProfile", () => {
  it("derives widened ranges, tolerances and categories the reference itself meets", () => {
    const profile = profileTable(tableFromRecords(reference()));
    const expectations = expectationsFromProfile(profile);
    assert.deepEqual(expectations.table, {
      minRows: 1,
      requiredColumns: ["age", "balance", "city", "member", "review"],
      allowUnexpectedColumns: true,
    });
    assert.deepEqual(expectations.columns.age, { type: "number", maxMissingRate: 0.07, min: 15.1, max: 73.9 });
    assert.deepEqual(expectations.columns.balance, { type: "number", maxMissingRate: 0.02, min: -159.7, max: 556.7 });
    assert.deepEqual(expectations.columns.city, {
      type: "string",
      maxMissingRate: 0.02,
      categories: ["Lyon", "Nantes", "Paris"],
      maxUnknownCategoryRate: 0,
    });
    assert.deepEqual(expectations.columns.member, { type: "boolean", maxMissingRate: 0.02 });
    assert.deepEqual(expectations.columns.review, { type: "text", maxMissingRate: 0.02, minLength: 43, maxLength: 57 });
    assert.deepEqual(parseExpectations(JSON.parse(JSON.stringify(expectations))), expectations);
    assert.equal(validateTable(tableFromRecords(reference()), expectations).success, true);
  });

  it("keeps non-negative columns non-negative and honours the options", () => {
    const profile = profileTable(tableFromRecords([{ n: 0 }, { n: 10 }, { n: 1 }]));
    const e = expectationsFromProfile(profile, {
      margin: 0.5,
      distinct: true,
      allowUnexpectedColumns: false,
      maxRows: 5,
    });
    assert.deepEqual(e.columns.n, {
      type: "number",
      maxMissingRate: 0.02,
      min: 0,
      max: 15,
      minDistinct: 2,
      maxDistinct: 5,
    });
    assert.deepEqual(e.table, { minRows: 1, maxRows: 5, requiredColumns: ["n"], allowUnexpectedColumns: false });
    assert.throws(
      () => expectationsFromProfile(profile, { margin: -1 }),
      /margin: must be a number between 0 and Infinity, got -1/,
    );
  });

  it("property: data always meets the expectations derived from its own profile", () => {
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }),
      fc.constantFrom("a", "b", "c", null),
      fc.boolean(),
    );
    fc.assert(
      fc.property(fc.array(fc.record({ x: value, y: value }), { minLength: 1, maxLength: 60 }), (rows) => {
        const table = tableFromRecords(rows);
        const expectations: Expectations = expectationsFromProfile(profileTable(table), { distinct: true });
        const report = validateTable(table, expectations);
        assert.equal(report.success, true, JSON.stringify(report.results.filter((r) => !r.success)));
      }),
      { numRuns: 200 },
    );
  });
});
