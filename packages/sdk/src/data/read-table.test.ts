import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parquetWriteBuffer } from "hyparquet-writer";
import { readExpectationsFile, readProfileFile, writeJsonFile } from "./documents.js";
import { csvFieldValue, DataFileError, readTable, tableFormatOf } from "./read-table.js";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "slipway-read-table-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof DataFileError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

describe("readTable", () => {
  it("reads CSV: header, numbers, booleans, missing fields, quotes, BOM and CRLF", async () => {
    const path = await file(
      "people.csv",
      '\ufeffname,age,member,note\r\n"Smith, Jo",42,true,"said ""hi""\nthen left"\r\nAl,,FALSE,\r\n\r\nBo, 3.5e1 ,maybe,007\r\n',
    );
    const table = await readTable(path);
    assert.deepEqual(table.columnNames, ["name", "age", "member", "note"]);
    assert.equal(table.rowCount, 3);
    assert.deepEqual(table.columns.get("name"), ["Smith, Jo", "Al", "Bo"]);
    assert.deepEqual(table.columns.get("age"), [42, null, 35]);
    assert.deepEqual(table.columns.get("member"), [true, false, "maybe"]);
    assert.deepEqual(table.columns.get("note"), ['said "hi"\nthen left', null, 7]);
    assert.equal(table.types.get("age"), "number");
    assert.equal(table.types.get("member"), "boolean");
  });

  it("keeps the fields of columns typed string or text as they are", async () => {
    const path = await file("zips.csv", "zip,flag,n\n02134,true,1\n,false,2\n");
    const table = await readTable(path, { types: { zip: "string", flag: "string" } });
    assert.deepEqual(table.columns.get("zip"), ["02134", null]);
    assert.deepEqual(table.columns.get("flag"), ["true", "false"]);
    assert.deepEqual(table.columns.get("n"), [1, 2]);
  });

  it("converts CSV fields one by one", () => {
    assert.equal(csvFieldValue(""), null);
    assert.equal(csvFieldValue("-1.5"), -1.5);
    assert.equal(csvFieldValue(".5"), 0.5);
    assert.equal(csvFieldValue("1e3"), 1000);
    assert.equal(csvFieldValue("True"), true);
    for (const text of ["N/A", "NaN", "Infinity", "1,000", "0x10", "12abc", " ", "-"])
      assert.equal(csvFieldValue(text), text);
  });

  it("names the file and the line of malformed CSV", async () => {
    const ragged = await file("ragged.csv", "a,b\n1,2\n3,4,5\n");
    await rejects(readTable(ragged), /ragged\.csv:3: malformed CSV: Invalid Record Length: expect 2, got 3 on line 3/);
    const quote = await file("quote.csv", 'a,b\n1,"2\n');
    await rejects(readTable(quote), /quote\.csv:\d+: malformed CSV: Quote Not Closed/);
    const dup = await file("dup.csv", "a,b,a\n1,2,3\n");
    await rejects(readTable(dup), /dup\.csv:1: column 'a' appears twice in the header \(columns 1 and 3\)/);
    await rejects(readTable(await file("empty.csv", "")), /empty\.csv: empty CSV file \(no header row\)/);
  });

  it("reads JSON Lines and names a bad line", async () => {
    const path = await file("rows.jsonl", '{"a": 1, "b": "x"}\n\n{"b": "y", "c": null}\n');
    const table = await readTable(path);
    assert.deepEqual(table.columnNames, ["a", "b", "c"]);
    assert.deepEqual(table.columns.get("a"), [1, undefined]);
    assert.equal(table.rowCount, 2);
    await rejects(readTable(await file("bad.jsonl", '{"a": 1}\n{"a": \n')), /bad\.jsonl:2: not valid JSON/);
    await rejects(
      readTable(await file("array.ndjson", '{"a": 1}\n[1]\n')),
      /array\.ndjson:2: expected a JSON object, got an array/,
    );
  });

  it("reads JSON records and MLflow dataframe_split", async () => {
    const records = await readTable(await file("records.json", '[{"a": 1}, {"a": 2, "b": true}]'));
    assert.deepEqual(records.columns.get("b"), [undefined, true]);
    const split = {
      columns: ["x", "y"],
      data: [
        [1, "a"],
        [2, "b"],
      ],
    };
    for (const [name, document] of [
      ["split.json", split],
      ["wrapped.json", { dataframe_split: split }],
    ] as const) {
      const table = await readTable(await file(name, JSON.stringify(document)));
      assert.deepEqual(table.columnNames, ["x", "y"]);
      assert.deepEqual(table.columns.get("y"), ["a", "b"]);
    }
    const recordsWrapped = await readTable(await file("dr.json", JSON.stringify({ dataframe_records: [{ z: 1 }] })));
    assert.deepEqual(recordsWrapped.columnNames, ["z"]);
    await rejects(
      readTable(await file("short.json", JSON.stringify({ columns: ["x", "y"], data: [[1]] }))),
      /short\.json: dataframe_split: data\[0\] must be an array of 2 values, got 1 values/,
    );
    await rejects(readTable(await file("scalar.json", "3")), /scalar\.json: expected an array of records/);
    await rejects(readTable(await file("broken.json", "[{")), /broken\.json: not valid JSON/);
    await rejects(
      readTable(await file("mixed.json", '[{"a": 1}, 2]')),
      /mixed\.json: record 1: must be an object, got 2/,
    );
  });

  it("reads Parquet written by hyparquet-writer", async () => {
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: "name", data: ["a", "b", null], type: "STRING" },
        { name: "age", data: [25, null, 35], type: "INT32" },
        { name: "big", data: [1n, 2n, 3n], type: "INT64" },
        { name: "score", data: [0.5, 1.5, NaN], type: "DOUBLE" },
        { name: "ok", data: [true, false, true], type: "BOOLEAN" },
        { name: "at", data: [new Date(0), new Date(1000), null], type: "TIMESTAMP" },
      ],
    });
    const table = await readTable(await file("data.parquet", new Uint8Array(buffer)));
    assert.deepEqual(table.columnNames, ["name", "age", "big", "score", "ok", "at"]);
    assert.deepEqual(table.columns.get("name"), ["a", "b", null]);
    assert.deepEqual(table.columns.get("age"), [25, null, 35]);
    assert.deepEqual(table.columns.get("big"), [1, 2, 3]);
    assert.deepEqual(table.columns.get("ok"), [true, false, true]);
    assert.deepEqual(table.columns.get("at"), ["1970-01-01T00:00:00.000Z", "1970-01-01T00:00:01.000Z", null]);
    assert.equal(table.types.get("score"), "number");
    assert.equal(table.types.get("big"), "number");
    await rejects(
      readTable(await file("fake.parquet", "not parquet at all")),
      /fake\.parquet: not a readable Parquet file/,
    );
  });

  it("takes the format from the extension or the options, and explains what it cannot read", async () => {
    assert.equal(tableFormatOf("a/b.CSV"), "csv");
    assert.equal(tableFormatOf("x.ndjson"), "jsonl");
    assert.equal(tableFormatOf("x.txt"), undefined);
    const txt = await file("rows.txt", "a\n1\n");
    assert.deepEqual((await readTable(txt, { format: "csv" })).columns.get("a"), [1]);
    await rejects(readTable(txt), /rows\.txt: cannot tell the format from the extension '\.txt'/);
    await rejects(readTable(join(dir, "nope.csv")), /nope\.csv: no such file$/);
    await mkdir(join(dir, "folder.csv"));
    await rejects(readTable(join(dir, "folder.csv")), /folder\.csv: is a directory/);
    await rejects(readTable(txt, { format: "xlsx" as never }), /unknown format 'xlsx'/);
    await rejects(readTable(txt, { format: "csv", types: { b: "number" } }), /rows\.txt: types\.b: no such column/);
  });
});

describe("profile and expectation files", () => {
  it("read back what was written, and name the file in errors", async () => {
    const expectations = { version: 1, table: {}, columns: { a: { max: 3 } } };
    const path = join(dir, "exp.json");
    await writeJsonFile(path, expectations);
    assert.deepEqual(await readExpectationsFile(path), expectations);
    const bad = await file("bad-exp.json", JSON.stringify({ version: 1, columns: { age: { max: "x" } } }));
    await rejects(readExpectationsFile(bad), /bad-exp\.json: columns\.age\.max: must be a number, got 'x'/);
    await rejects(readProfileFile(join(dir, "missing.json")), /missing\.json: no such file/);
    await rejects(readProfileFile(bad), /bad-exp\.json: rowCount: must be a non-negative integer, got nothing/);
  });
});
