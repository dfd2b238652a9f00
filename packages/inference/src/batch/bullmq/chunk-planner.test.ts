import assert from "node:assert/strict";
import { after, test } from "node:test";
import { parseCsvRecords } from "../csv-records.js";
import { readBlocks } from "../input-blocks.js";
import { inspectInput } from "../input-info.js";
import { rowText, scratch, writeCsvRows, writeParquetRows } from "../testing/fixtures.js";
import { planChunks } from "./chunk-planner.js";

const dir = await scratch();
after(() => dir.remove());

test("CSV chunks cover the file at record boundaries, and reading them in order gives every row once", async () => {
  const path = dir.path("rows.csv");
  await writeCsvRows(path, 1234);
  const info = await inspectInput(path, "csv");
  const chunks = [];
  for await (const c of planChunks(info, 300)) chunks.push(c);
  assert.deepEqual(
    chunks.map((c) => c.rows),
    [300, 300, 300, 300, 34],
  );
  let expectedStart = info.dataStart;
  const texts: string[] = [];
  for (const chunk of chunks) {
    assert.equal(chunk.range.kind, "bytes");
    if (chunk.range.kind !== "bytes") continue;
    assert.equal(chunk.range.start, expectedStart);
    assert.equal(chunk.range.firstRow, texts.length);
    expectedStart = chunk.range.end;
    for await (const block of readBlocks(info, { batchSize: 128, range: chunk.range })) {
      if (block.kind !== "text") continue;
      const records = parseCsvRecords(Buffer.from(block.bytes).toString("utf8"), block.firstLine);
      texts.push(...records.map((r) => r.fields[1]!));
    }
  }
  assert.equal(expectedStart, info.size);
  assert.deepEqual(
    texts,
    Array.from({ length: 1234 }, (_, i) => rowText(i)),
  );
});

test("Parquet chunks are row ranges", async () => {
  const path = dir.path("rows.parquet");
  await writeParquetRows(path, 2500, 1000);
  const chunks = [];
  for await (const c of planChunks(await inspectInput(path, "parquet"), 1000)) chunks.push(c.range);
  assert.deepEqual(chunks, [
    { kind: "rows", start: 0, end: 1000 },
    { kind: "rows", start: 1000, end: 2000 },
    { kind: "rows", start: 2000, end: 2500 },
  ]);
});
