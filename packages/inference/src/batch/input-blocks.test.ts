import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, test } from "node:test";
import { BatchError } from "./batch-error.js";
import type { InputBlock } from "./block.js";
import { parseCsvRecords } from "./csv-records.js";
import { readBlocks } from "./input-blocks.js";
import { inspectInput } from "./input-info.js";
import { parseJsonlRecords } from "./jsonl-records.js";
import { rowText, scratch, writeCsvRows, writeJsonlRows, writeParquetRows } from "./testing/fixtures.js";

const dir = await scratch();
after(() => dir.remove());

async function collect(blocks: AsyncIterable<InputBlock>): Promise<InputBlock[]> {
  const out: InputBlock[] = [];
  for await (const b of blocks) out.push(b);
  return out;
}

function textOf(block: InputBlock): string {
  assert.equal(block.kind, "text");
  return Buffer.from(block.kind === "text" ? block.bytes : []).toString("utf8");
}

test("a CSV file (CRLF, BOM, quoted line breaks) comes as blocks of N rows with their row and line numbers", async () => {
  const path = dir.path("rows.csv");
  await writeCsvRows(path, 250, true);
  const original = await import("node:fs/promises").then((fs) => fs.readFile(path));
  await writeFile(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), original]));
  const info = await inspectInput(path, "csv");
  assert.deepEqual(info.columns, ["id", "text"]);
  assert.equal(info.dataLine, 2);
  const blocks = await collect(readBlocks(info, { batchSize: 64 }));
  assert.deepEqual(
    blocks.map((b) => [b.index, b.firstRow, b.rows]),
    [
      [0, 0, 64],
      [1, 64, 64],
      [2, 128, 64],
      [3, 192, 58],
    ],
  );
  const texts: string[] = [];
  for (const block of blocks) {
    const records = parseCsvRecords(textOf(block), block.kind === "text" ? block.firstLine : 0);
    assert.equal(records.length, block.rows);
    texts.push(...records.map((r) => r.fields[1]!));
  }
  assert.deepEqual(
    texts,
    Array.from({ length: 250 }, (_, i) => rowText(i)),
  );
  // row 11 spans two lines, so row 12 starts on line 2 + 12 + 1
  const second = parseCsvRecords(textOf(blocks[0]!), 2);
  assert.equal(second[12]!.line, 15);
});

test("JSON Lines blocks skip blank lines without counting them as rows", async () => {
  const path = dir.path("rows.jsonl");
  await writeFile(path, '{"id":0}\n\n{"id":1}\n   \n{"id":2}');
  const info = await inspectInput(path, "jsonl");
  assert.deepEqual(info.columns, ["id"]);
  const blocks = await collect(readBlocks(info, { batchSize: 2 }));
  assert.deepEqual(
    blocks.map((b) => [b.firstRow, b.rows, b.kind === "text" ? b.firstLine : 0]),
    [
      [0, 2, 1],
      [2, 1, 4],
    ],
  );
  assert.deepEqual(
    parseJsonlRecords(textOf(blocks[1]!), 4).map((r) => [r.line, r.value]),
    [[5, { id: 2 }]],
  );
  const big = dir.path("big.jsonl");
  await writeJsonlRows(big, 3000);
  const bigBlocks = await collect(readBlocks(await inspectInput(big, "jsonl"), { batchSize: 1000 }));
  assert.deepEqual(
    bigBlocks.map((b) => b.rows),
    [1000, 1000, 1000],
  );
});

test("Parquet is read by row groups, only the columns asked for, and a row range", async () => {
  const path = dir.path("rows.parquet");
  await writeParquetRows(path, 2500, 1000);
  const info = await inspectInput(path, "parquet");
  assert.deepEqual(info.columns, ["id", "text"]);
  assert.deepEqual(info.parquet?.groups, [
    { start: 0, end: 1000 },
    { start: 1000, end: 2000 },
    { start: 2000, end: 2500 },
  ]);
  const blocks = await collect(readBlocks(info, { batchSize: 600, columns: ["text"] }));
  assert.deepEqual(
    blocks.map((b) => [b.firstRow, b.rows]),
    [
      [0, 600],
      [600, 400],
      [1000, 600],
      [1600, 400],
      [2000, 500],
    ],
  );
  const last = blocks[4]!;
  assert.equal(last.kind, "columns");
  if (last.kind === "columns") {
    assert.deepEqual(Object.keys(last.columns), ["text"]);
    assert.equal(last.columns.text![499], rowText(2499));
  }
  const ranged = await collect(readBlocks(info, { batchSize: 1000, range: { kind: "rows", start: 900, end: 1100 } }));
  assert.deepEqual(
    ranged.map((b) => [b.firstRow, b.rows]),
    [
      [900, 100],
      [1000, 100],
    ],
  );
});

test("unreadable inputs are errors that name the file and the problem", async () => {
  await assert.rejects(inspectInput(dir.path("missing.csv"), "csv"), /missing\.csv: no such file/);
  await writeFile(dir.path("empty.csv"), "\n\n");
  await assert.rejects(inspectInput(dir.path("empty.csv"), "csv"), /empty CSV file/);
  await writeFile(dir.path("dup.csv"), "a,b,a\n1,2,3\n");
  await assert.rejects(
    inspectInput(dir.path("dup.csv"), "csv"),
    (e) => e instanceof BatchError && /dup\.csv:1: column 'a' appears twice/.test(e.message),
  );
  await writeFile(dir.path("fake.parquet"), "not parquet at all");
  await assert.rejects(inspectInput(dir.path("fake.parquet"), "parquet"), /fake\.parquet: not a readable Parquet file/);
  await assert.rejects(inspectInput(dir.dir, "jsonl"), /is a directory/);
});
