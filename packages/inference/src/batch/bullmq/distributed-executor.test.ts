/**
 * The BullMQ executor against the machine's real Redis (127.0.0.1:6379), with two workers in this
 * process on a queue of the test's own (obliterated afterwards). The CLI test runs workers as separate
 * processes and kills one mid-chunk; here: the output equals the local executor's, in order, for text
 * and Parquet outputs, bad rows fail the job or are gathered from every chunk, and an interrupted job
 * leaves nothing behind, on the queue or on disk, even from chunks workers were predicting meanwhile.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { parseMLmodel } from "@slipway/ml";
import { TrackingClient } from "@slipway/sdk";
import { runBatchPrediction, type BatchPredictionOptions } from "../batch-prediction.js";
import { inspectInput } from "../input-info.js";
import { wholeRange } from "../input-blocks.js";
import { PredictionThreads } from "../prediction-threads.js";
import {
  parseJsonl,
  readParquetRows,
  scratch,
  writeCsvRows,
  writeJsonlRows,
  writeSpamPackage,
  type Scratch,
} from "../testing/fixtures.js";
import { BatchCancelledError, cancelledKey } from "./batch-cancellation.js";
import { BatchWorker } from "./batch-worker.js";
import { CHUNK_JOB_NAME, chunkJobId, type ChunkJobData } from "./chunk-job.js";
import { processChunk } from "./chunk-processor.js";

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
      parseJsonl(await readFile(dir.path("skip.jsonl.errors.jsonl"), "utf8")).map((e) => e.row),
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

  /** The jobs of a batch still on the queue, in any state. */
  async function jobsOf(batchId: string): Promise<string[]> {
    const queue = new Queue(queueName, { connection: { url: REDIS } });
    try {
      const jobs = await queue.getJobs([
        "active",
        "waiting",
        "delayed",
        "prioritized",
        "waiting-children",
        "completed",
        "failed",
      ]);
      return jobs.map((j) => j.id ?? "").filter((id) => id.startsWith(`${batchId}-`));
    } finally {
      await queue.close();
    }
  }

  it("an interrupted job leaves none of its chunk jobs on the queue, no chunk directory and no output", async () => {
    await writeCsvRows(dir.path("big.csv"), 20_000);
    const controller = new AbortController();
    const reason = new Error("interrupted");
    const lines: string[] = [];
    let written = 0;
    await assert.rejects(
      predict({
        input: "big.csv",
        output: "stopped.csv",
        distributed: { ...distributed, chunkRows: 200 },
        batchSize: 50,
        signal: controller.signal,
        log: (line) => lines.push(line),
        progressIntervalMs: 5,
        progress: {
          write(text: string) {
            written = Math.max(written, Number(/ ([\d,]+) rows /.exec(text)?.[1]?.replaceAll(",", "") ?? 0));
            // stop once some chunks are assembled: others are then queued, some being predicted
            if (written > 0) controller.abort(reason);
          },
        },
      }),
      (e) => e === reason,
    );
    assert.ok(written > 0 && written < 20_000, `stopped mid-way (${written} rows)`);
    const batchId = /^batch (\S+): 100 chunks/m.exec(lines.join("\n"))?.[1];
    assert.ok(batchId, lines.join("\n"));
    assert.deepEqual(await jobsOf(batchId), []);
    const queue = new Queue(queueName, { connection: { url: REDIS } });
    try {
      // every job was removed, so the cancellation mark is gone too
      assert.equal(await (await queue.getBackend().client).get(cancelledKey(queue.toKey, batchId)), null);
    } finally {
      await queue.close();
    }
    const left = await readdir(dir.dir);
    assert.ok(!left.some((f) => f.startsWith("stopped.csv") || f.startsWith(".stopped.csv")), left.join(", "));
    // the workers keep serving
    const after = await predict({ input: "in.csv", output: "after.csv", distributed });
    assert.equal(after.written, N);
  });

  it("a worker drops a chunk of a cancelled batch, writes nothing and removes its job", async () => {
    const info = await inspectInput(dir.path("in.csv"), "csv");
    const batchId = randomUUID();
    const chunks = dir.path("cancelled.csv.chunks");
    await mkdir(chunks);
    const data: ChunkJobData = {
      version: 1,
      batchId,
      chunk: 0,
      model: { uri: model, trackingUri: "http://127.0.0.1:9" },
      input: { path: info.path, format: "csv", size: info.size, columns: info.columns, range: wholeRange(info) },
      output: { dir: chunks, plan: { format: "csv", rowNumber: false, keep: ["id"], probabilities: "json" } },
      batchSize: 100,
      onError: "fail",
    };
    const queue = new Queue(queueName, { connection: { url: REDIS } });
    try {
      const client = await queue.getBackend().client;
      await client.set(cancelledKey(queue.toKey, batchId), "1", { EX: 60 });
      await queue.add(CHUNK_JOB_NAME, data, { jobId: chunkJobId(batchId, 0) });
      const deadline = performance.now() + 10_000;
      while ((await jobsOf(batchId)).length > 0) {
        assert.ok(performance.now() < deadline, "the job was not removed");
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(await readdir(chunks), []);
    } finally {
      await queue.close();
    }

    // a chunk being predicted when its batch is cancelled: its files never appear
    const threads = await PredictionThreads.start({
      dir: model,
      mlmodel: parseMLmodel(await readFile(join(model, "MLmodel"), "utf8")),
      threads: 1,
    });
    try {
      const controller = new AbortController();
      let checks = 0;
      const cancellation = {
        signal: controller.signal,
        check: () => {
          checks++;
          controller.abort(new BatchCancelledError(batchId));
          return Promise.resolve(true);
        },
      };
      await assert.rejects(processChunk(data, threads, cancellation), BatchCancelledError);
      assert.equal(checks, 1);
      assert.deepEqual(await readdir(chunks), []);
    } finally {
      await threads.close();
    }
  });

  it("names Redis when it cannot be reached", async () => {
    await assert.rejects(
      predict({ input: "in.csv", output: "x.csv", distributed: { ...distributed, redis: "redis://127.0.0.1:1" } }),
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
    );
  });
});
