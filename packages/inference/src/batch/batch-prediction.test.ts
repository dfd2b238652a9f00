/**
 * Local batch prediction end to end: real files in every format, a real text-classifier package loaded
 * on two prediction threads, small batches so that results come back out of order and must be put back.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseMLmodel } from "@slipway/ml";
import { TrackingClient } from "@slipway/sdk";
import { BadRowsError, BatchError } from "./batch-error.js";
import { runBatchPrediction, type BatchPredictionOptions } from "./batch-prediction.js";
import { parseCsvRecords } from "./csv-records.js";
import { PredictionThreads } from "./prediction-threads.js";
import {
  parseJsonl,
  readParquetRows,
  rowText,
  scratch,
  writeCsvRows,
  writeJsonlRows,
  writeParquetRows,
  writeSpamPackage,
  type Scratch,
} from "./testing/fixtures.js";

const N = 3000;
let dir: Scratch;
let model: string;
// no server: the model is a local package and the runs are not tracked here (the CLI test tracks them)
const client = new TrackingClient({ trackingUri: "http://127.0.0.1:9", maxRetries: 0 });

before(async () => {
  dir = await scratch();
  model = await writeSpamPackage(dir.path("model"));
  await writeCsvRows(dir.path("in.csv"), N);
  await writeJsonlRows(dir.path("in.jsonl"), N);
  await writeParquetRows(dir.path("in.parquet"), N, 700);
});
after(() => dir.remove());

function predict(options: Partial<BatchPredictionOptions> & { input: string; output: string }) {
  return runBatchPrediction({
    client,
    modelUri: model,
    tracking: false,
    workers: 2,
    batchSize: 97,
    ...options,
    input: dir.path(options.input),
    output: dir.path(options.output),
  });
}

function isSpam(i: number): boolean {
  return i % 5 === 0;
}

describe("local batch prediction", () => {
  it("CSV → CSV: every row once, in input order, id kept, probabilities as a JSON list", async () => {
    const result = await predict({ input: "in.csv", output: "out.csv" });
    assert.deepEqual([result.rows, result.written, result.errors], [N, N, 0]);
    const records = parseCsvRecords(await readFile(dir.path("out.csv"), "utf8"), 1);
    assert.deepEqual(records[0]!.fields, ["id", "label", "probabilities"]);
    const rows = records.slice(1);
    assert.equal(rows.length, N);
    rows.forEach((r, i) => {
      assert.equal(r.fields[0], String(i));
      assert.equal(r.fields[1], isSpam(i) ? "spam" : "ham", `row ${i}`);
      const p = JSON.parse(r.fields[2]!) as number[];
      assert.ok(Math.abs(p[0]! + p[1]! - 1) < 1e-9);
    });
    assert.deepEqual(
      (await readdir(dir.dir)).filter((f) => f.endsWith(".tmp")),
      [],
    );
  });

  it("JSON Lines → Parquet with per-class columns and every input column kept", async () => {
    await predict({ input: "in.jsonl", output: "out.parquet", probabilities: "columns", keep: "*" });
    const rows = await readParquetRows(dir.path("out.parquet"));
    assert.equal(rows.length, N);
    assert.deepEqual(Object.keys(rows[0]!), ["id", "text", "label", "probabilities_ham", "probabilities_spam"]);
    rows.forEach((r, i) => {
      assert.equal(r.id, i);
      assert.equal(r.text, rowText(i));
      assert.equal(r.label, isSpam(i) ? "spam" : "ham");
    });
  });

  it("Parquet → JSON Lines with a row number instead of an id", async () => {
    await predict({ input: "in.parquet", output: "out.jsonl", keep: [], rowNumber: true });
    const rows = parseJsonl(await readFile(dir.path("out.jsonl"), "utf8"));
    assert.equal(rows.length, N);
    rows.forEach((r, i) => {
      assert.deepEqual(Object.keys(r), ["row", "label", "probabilities"]);
      assert.equal(r.row, i);
    });
  });

  it("--on-error fail: bad rows are named, nothing is written, an existing output is untouched", async () => {
    const lines = (await readFile(dir.path("in.jsonl"), "utf8")).split("\n");
    lines[1234] = '{"id":1234,"text":null}';
    lines[2000] = "not json";
    await writeFile(dir.path("bad.jsonl"), lines.join("\n"));
    await writeFile(dir.path("keep.csv"), "previous content\n");
    await assert.rejects(
      predict({ input: "bad.jsonl", output: "keep.csv", batchSize: 5000 }),
      (e) =>
        e instanceof BadRowsError &&
        /2 rows do not fit the model: row 1234 \(line 1235\): column 'text' \(string\) is required but missing; row 2000 \(line 2001\): not valid JSON/.test(
          e.message,
        ),
    );
    assert.equal(await readFile(dir.path("keep.csv"), "utf8"), "previous content\n");
    assert.deepEqual(
      (await readdir(dir.dir)).filter((f) => f.endsWith(".tmp") || f.includes("errors")),
      [],
    );
  });

  it("--on-error skip: bad rows go to OUT.errors.jsonl with their input; the rest is predicted", async () => {
    const result = await predict({ input: "bad.jsonl", output: "skipped.csv", onError: "skip" });
    assert.deepEqual([result.rows, result.written, result.errors], [N, N - 2, 2]);
    assert.equal(result.errorsPath, dir.path("skipped.csv.errors.jsonl"));
    const errors = parseJsonl(await readFile(dir.path("skipped.csv.errors.jsonl"), "utf8"));
    assert.deepEqual(
      errors.map((e) => [e.row, e.line, e.input]),
      [
        [1234, 1235, { id: 1234, text: null }],
        [2000, 2001, "not json"],
      ],
    );
    const ids = parseCsvRecords(await readFile(dir.path("skipped.csv"), "utf8"), 1)
      .slice(1)
      .map((r) => Number(r.fields[0]));
    assert.equal(ids.length, N - 2);
    assert.ok(!ids.includes(1234) && !ids.includes(2000));
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!));
  });

  it("names the errors file after the whole output name, so out.csv and out.jsonl keep their own", async () => {
    await predict({ input: "bad.jsonl", output: "both.csv", onError: "skip" });
    await predict({ input: "bad.jsonl", output: "both.jsonl", onError: "skip" });
    assert.equal(parseJsonl(await readFile(dir.path("both.csv.errors.jsonl"), "utf8")).length, 2);
    assert.equal(parseJsonl(await readFile(dir.path("both.jsonl.errors.jsonl"), "utf8")).length, 2);
    // a clean run removes its own stale errors file, not the other output's
    await predict({ input: "in.jsonl", output: "both.csv", onError: "skip" });
    const files = await readdir(dir.dir);
    assert.ok(!files.includes("both.csv.errors.jsonl"));
    assert.ok(files.includes("both.jsonl.errors.jsonl"));
  });

  it("refuses bad settings before doing anything", async () => {
    await assert.rejects(predict({ input: "in.csv", output: "in.csv" }), /is the input/);
    await assert.rejects(predict({ input: "in.csv", output: "out.xlsx" }), /cannot tell the output format .* '\.xlsx'/);
    await assert.rejects(predict({ input: "in.csv", output: "no/such/dir/out.csv" }), /directory .* does not exist/);
    await assert.rejects(predict({ input: "in.csv", output: "o.csv", keep: ["nope"] }), /--keep: .* no column 'nope'/);
    await writeFile(dir.path("notext.csv"), "id,body\n1,hello\n");
    await assert.rejects(
      predict({ input: "notext.csv", output: "o.csv" }),
      (e) => e instanceof BatchError && /requires the column 'text' \(string\)/.test(e.message),
    );
    await assert.rejects(predict({ input: "in.csv", output: "o.csv", batchSize: 0 }), /--batch-size must be/);
  });

  it("an aborted job writes nothing: temporary files removed, an existing output untouched", async () => {
    // large enough to be stopped mid-way, with a bad row early so that the errors file is being written too
    await writeCsvRows(dir.path("big.csv"), 60_000);
    const big = (await readFile(dir.path("big.csv"), "utf8")).replace("\n3,please review the report 3\n", "\n3,\n");
    await writeFile(dir.path("big.csv"), big);
    await writeFile(dir.path("kept.csv"), "previous content\n");
    const controller = new AbortController();
    const reason = new Error("stop");
    let rowsSeen = 0;
    const started = performance.now();
    await assert.rejects(
      predict({
        input: "big.csv",
        output: "kept.csv",
        onError: "skip",
        workers: 1,
        batchSize: 50,
        signal: controller.signal,
        progressIntervalMs: 5,
        progress: {
          write(text: string) {
            // abort once rows were written (and so the temporary files exist)
            rowsSeen = Math.max(rowsSeen, Number(/ ([\d,]+) rows /.exec(text)?.[1]?.replaceAll(",", "") ?? 0));
            if (rowsSeen > 0) controller.abort(reason);
          },
        },
      }),
      (e) => e === reason,
    );
    assert.ok(rowsSeen > 0 && rowsSeen < 60_000, `stopped mid-way (${rowsSeen} rows)`);
    assert.ok(performance.now() - started < 20_000);
    assert.equal(await readFile(dir.path("kept.csv"), "utf8"), "previous content\n");
    const left = await readdir(dir.dir);
    assert.deepEqual(
      left.filter((f) => f.endsWith(".tmp") || f.startsWith("kept.csv.")),
      [],
    );
  });

  it("an already aborted signal stops the job before it starts", async () => {
    const controller = new AbortController();
    controller.abort(new Error("too late"));
    await assert.rejects(predict({ input: "in.csv", output: "never.csv", signal: controller.signal }), /too late/);
    assert.ok(!(await readdir(dir.dir)).includes("never.csv"));
  });

  it("prediction threads still loading the model are stopped by the signal", async () => {
    const controller = new AbortController();
    const reason = new Error("stop loading");
    const mlmodel = parseMLmodel(await readFile(join(model, "MLmodel"), "utf8"));
    const starting = PredictionThreads.start({ dir: model, mlmodel, threads: 2, signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(starting, (e) => e === reason);
  });

  it("an empty input gives an output with only the header", async () => {
    await writeFile(dir.path("empty.csv"), "id,text\n");
    const result = await predict({ input: "empty.csv", output: "empty-out.csv" });
    assert.equal(result.rows, 0);
    assert.equal(await readFile(dir.path("empty-out.csv"), "utf8"), "id\n");
  });
});
