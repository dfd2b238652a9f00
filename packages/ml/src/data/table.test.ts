import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MlError } from "../core/errors.js";
import {
  charLength,
  columnValues,
  inferColumnType,
  isFreeText,
  tableFromColumns,
  tableFromRecords,
  valueKind,
  withColumnTypes,
} from "./table.js";

const SENTENCES = [
  "The delivery was late and the box arrived damaged",
  "Great product, works exactly as described in the listing",
  "I would not buy this again because it broke after a week",
];

describe("tables", () => {
  it("builds from records: columns in first-seen order, absent keys missing", () => {
    const table = tableFromRecords([{ a: 1, b: "x" }, { b: "y", c: true }, {}]);
    assert.deepEqual(table.columnNames, ["a", "b", "c"]);
    assert.equal(table.rowCount, 3);
    assert.deepEqual(table.columns.get("a"), [1, undefined, undefined]);
    assert.deepEqual(table.columns.get("c"), [undefined, true, undefined]);
    assert.deepEqual(Object.fromEntries(table.types), { a: "number", b: "string", c: "boolean" });
  });

  it("builds from columns, typed arrays included, and checks lengths", () => {
    const table = tableFromColumns({ x: new Float64Array([1, NaN, 3]), y: ["a", null, "b"] });
    assert.equal(table.rowCount, 3);
    assert.equal(table.types.get("x"), "number");
    assert.equal(inferColumnType(new Float32Array([NaN, NaN])), "missing");
    const fromPairs = tableFromColumns([["z", [1]] as const, ["w", [2]] as const]);
    assert.deepEqual(fromPairs.columnNames, ["z", "w"]);
    assert.throws(() => tableFromColumns({ a: [1, 2], b: [1] }), /column 'b' has 1 values, column 'a' has 2/);
    assert.throws(() => tableFromColumns([["a", [1]] as const, ["a", [2]] as const]), /column 'a' is given twice/);
    assert.equal(tableFromColumns({}).rowCount, 0);
  });

  it("classifies values: NaN, null and undefined are missing; ±Infinity and objects are other", () => {
    assert.equal(valueKind(NaN), "missing");
    assert.equal(valueKind(null), "missing");
    assert.equal(valueKind(undefined), "missing");
    assert.equal(valueKind(0), "number");
    assert.equal(valueKind(Infinity), "other");
    assert.equal(valueKind(""), "string");
    assert.equal(valueKind(false), "boolean");
    assert.equal(valueKind({}), "other");
    assert.equal(valueKind(10n), "other");
  });

  it("infers types by majority; numeric-looking strings stay strings", () => {
    assert.equal(inferColumnType([1, 2, "N/A", null]), "number");
    assert.equal(inferColumnType(["1", "2", "3"]), "string");
    assert.equal(inferColumnType([true, false, 1]), "boolean");
    assert.equal(inferColumnType([1, "a"]), "string"); // ties go to string
    assert.equal(inferColumnType([null, undefined, NaN]), "missing");
    assert.equal(inferColumnType([{ a: 1 }, [1]]), "string");
    assert.equal(inferColumnType([]), "missing");
  });

  it("tells free text from categories by median tokens or characters", () => {
    assert.equal(inferColumnType(SENTENCES), "text");
    assert.equal(inferColumnType(["New York City", "Paris", "Lyon", "premium"]), "string");
    assert.equal(
      inferColumnType([
        "这是一个很长的句子没有空格但是它显然是一段自由文本而不是一个类别标签因为它很长很长很长".repeat(2),
      ]),
      "text",
    );
    assert.equal(isFreeText(["a b c d"], { minMedianTokens: 4 }), false); // single letters are not tokens
    assert.equal(isFreeText(["ab cd ef gh"], { minMedianTokens: 4 }), true);
    const overridden = tableFromRecords(
      SENTENCES.map((s) => ({ s })),
      { types: { s: "string" } },
    );
    assert.equal(overridden.types.get("s"), "string");
    assert.throws(
      () => tableFromRecords([{ a: 1 }], { types: { b: "number" } }),
      /types.b: no such column \(columns: a\)/,
    );
    assert.throws(
      () => tableFromRecords([{ a: 1 }], { types: { a: "float" as never } }),
      /types.a: must be one of number, boolean, string, text, missing, got 'float'/,
    );
  });

  it("is safe with column names like __proto__ and constructor", () => {
    const records = [JSON.parse('{"__proto__": 1, "constructor": "x"}') as Record<string, unknown>, { toString: 2 }];
    const table = tableFromRecords(records);
    assert.deepEqual(table.columnNames, ["__proto__", "constructor", "toString"]);
    assert.deepEqual(table.columns.get("__proto__"), [1, undefined]);
    assert.deepEqual(table.columns.get("constructor"), ["x", undefined]);
    assert.deepEqual(table.columns.get("toString"), [undefined, 2]);
    assert.equal(
      withColumnTypes(table, JSON.parse('{"__proto__": "string"}') as Record<string, "string">).types.get("__proto__"),
      "string",
    );
  });

  it("rejects records that are not objects and unknown columns", () => {
    assert.throws(
      () => tableFromRecords([{ a: 1 }, [1, 2]]),
      (e: unknown) => e instanceof MlError && /record 1: must be an object, got an array/.test(e.message),
    );
    assert.throws(() => tableFromRecords([null]), /record 0: must be an object, got null/);
    assert.throws(() => columnValues(tableFromRecords([{ a: 1 }]), "b"), /no column 'b' \(columns: a\)/);
  });

  it("counts characters as code points", () => {
    assert.equal(charLength("héllo"), 5);
    assert.equal(charLength("👋🏽!"), 3);
    assert.equal(charLength("\ud800"), 1);
  });
});
