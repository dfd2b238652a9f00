/**
 * The BullMQ executor against the machine's real Redis (127.0.0.1:6379), with two workers in this
 * process on a queue of the test's own (obliterated afterwards). The CLI test runs workers as separate
 * processes and kills one mid-chunk; here: the output equals the local executor's, in order, for text
 * and Parquet outputs, and bad rows fail the job or are gathered from every chunk.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { TrackingClient } from "@slipway/sdk";
import { runBatchPrediction, type BatchPredictionOptions } from "../batch-prediction.js";
import {
  parseJsonl,
  readParquetRows,
  scratch,
  writeCsvRows,
  writeJsonlRows,
  writeSpamPackage,
  type Scratch,
} from "../testing/fixtures.js";
import { BatchWorker } from "./batch-worker.js";

const REDIS = "redis://127.0.0.1:6379";

function redisAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port: 6379 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

const skip = (await redisAnswers()) ? false : "Redis is not reachable at 127.0.0.1:6379 (start redis-server)";
const N = 2000;
const queueName = `slipway-test-${randomUUID()}`;
const client = new TrackingClient({ trackingUri: "http://127.0.0.1:9", maxRetries: 0 });
let dir: Scratch;
let model: string;
const workers: BatchWorker[] = [];

describe("distributed batch prediction on BullMQ", { skip }, () => {
  before(async () => {
    dir = await scratch();
    model = await writeSpamPackage(dir.path("model"));
    await writeCsvRows(dir.path("in.csv"), N);
    await writeJsonlRows(dir.path("in.jsonl"), N);
    for (let i = 0; i < 2; i++) {
      workers.push(await BatchWorker.start({ redis: REDIS, queue: queueName, threads: 1, concurrency: 2 }));
    }
  });
  after(async () => {
    await Promise.allSettled(workers.map((w) => w.close(true)));
    const queue = new Queue(queueName, { connection: { url: REDIS } });
    await queue.obliterate({ force: true });
    await queue.close();
    await dir.remove();
  });

  function predict(options: Partial<BatchPredictionOptions> & { input: string; output: string }) {
    return runBatchPrediction({
      client,
      modelUri: model,
      tracking: false,
      workers: 1,
      batchSize: 128,
      ...options,
      input: dir.path(options.input),
      output: dir.path(options.output),
    });
  }
  const distributed = { redis: REDIS, queue: queueName, chunkRows: 300 };

  it("writes what the local executor writes, in input order, and leaves no chunk behind", async () => {
    await predict({ input: "in.csv", output: "local.csv" });
    const result = await predict({ input: "in.csv", output: "dist.csv", distributed });
    assert.deepEqual([result.rows, result.written, result.errors], [N, N, 0]);
    assert.equal(await readFile(dir.path("dist.csv"), "utf8"), await readFile(dir.path("local.csv"), "utf8"));
    assert.ok(!(await readdir(dir.dir)).some((f) => f.includes("chunks") || f.endsWith(".tmp")));
  });

  it("assembles Parquet chunks into one file of the same rows", async () => {
    await predict({ input: "in.jsonl", output: "dist.parquet", distributed, probabilities: "columns" });
    const rows = await readParquetRows(dir.path("dist.parquet"));
    assert.equal(rows.length, N);
    rows.forEach((r, i) => assert.equal(r.id, i));
  });

  it("gathers the bad rows of every chunk with --on-error skip, and fails the job without it", async () => {
    const lines = (await readFile(dir.path("in.jsonl"), "utf8")).split("\n");
    for (const i of [5, 650, 1999]) lines[i] = `{"id":${i},"text":${i}}`;
    await writeFile(dir.path("bad.jsonl"), lines.join("\n"));
    const result = await predict({ input: "bad.jsonl", output: "skip.jsonl", distributed, onError: "skip" });
    assert.deepEqual([result.written, result.errors], [N - 3, 3]);
    assert.deepEqual(
      parseJsonl(await readFile(dir.path("skip.errors.jsonl"), "utf8")).map((e) => e.row),
      [5, 650, 1999],
    );
    assert.equal(parseJsonl(await readFile(dir.path("skip.jsonl"), "utf8")).length, N - 3);
    await assert.rejects(
      predict({ input: "bad.jsonl", output: "fail.jsonl", distributed }),
      /chunk \d+ \(from row \d+\) failed: .*row (5|650|1999) \(line \d+\): column 'text' expects string but got an integer/,
    );
    const left = await readdir(dir.dir);
    assert.ok(!left.includes("fail.jsonl"));
    assert.ok(!left.some((f) => f.startsWith("fail.jsonl.chunks")), left.join(", "));
  });

  it("names Redis when it cannot be reached", async () => {
    await assert.rejects(
      predict({ input: "in.csv", output: "x.csv", distributed: { ...distributed, redis: "redis://127.0.0.1:1" } }),
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
    );
  });
});
