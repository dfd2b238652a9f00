/**
 * The inference logger against a real HTTP receiver started here: batching, sampling, the bounded
 * buffer, retries, rejections, a receiver that never answers, and the flush on close.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import type { ColumnBatch, OutputTensor, PredictionBatch } from "../predictors/predictor.js";
import { InferenceLogger, type InferenceLogRecord, type ServedPrediction } from "./inference-logger.js";
import { InferenceMetrics } from "./metrics.js";

interface Call {
  records: InferenceLogRecord[];
  headers: IncomingHttpHeaders;
}

/** What the receiver does with call number `n` (0-based): answer, or never answer. */
type Answer = (n: number, response: ServerResponse) => void;

const accept: Answer = (_n, response) => {
  response.writeHead(200, { "content-type": "application/json" }).end('{"inserted":1,"duplicates":0}');
};

interface Receiver {
  url: string;
  calls: Call[];
  records(): InferenceLogRecord[];
  /** Resolves once `n` calls have arrived. */
  waitForCalls(n: number): Promise<void>;
  close(): Promise<void>;
}

const receivers: Receiver[] = [];
after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

/** A real node:http receiver for the inference log endpoint. */
async function startReceiver(answer: Answer = accept): Promise<Receiver> {
  const calls: Call[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { records: InferenceLogRecord[] };
      const n = calls.length;
      calls.push({ records: body.records, headers: request.headers });
      waiters = waiters.filter((w) => (calls.length >= w.n ? (w.resolve(), false) : true));
      answer(n, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/api/2.0/slipway/inference-log`,
    calls,
    records: () => calls.flatMap((c) => c.records),
    waitForCalls: (n) =>
      calls.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  receivers.push(receiver);
  return receiver;
}

/** Deterministic [0, 1) numbers (mulberry32): sampling tests that cannot flake. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A request of `rows` rows for a text model: `text` and `score` in, `label` and `length` out. */
function textRequest(rows: number, offset = 0): ServedPrediction {
  const texts = Array.from({ length: rows }, (_, r) => `message ${offset + r}`);
  const input: ColumnBatch = {
    kind: "columns",
    rows,
    columns: new Map([
      ["text", { kind: "string", values: texts }],
      ["score", { kind: "float64", values: Float64Array.from(texts, (_, r) => r / 2) }],
    ]),
  };
  const prediction: PredictionBatch = {
    rows,
    outputs: new Map<string, OutputTensor>([
      ["label", { dtype: "str", shape: [rows], data: texts.map((t) => t.toUpperCase()) }],
      ["length", { dtype: "int64", shape: [rows], data: BigInt64Array.from(texts, (t) => BigInt(t.length)) }],
    ]),
  };
  return { model: { name: "spam", version: "3" }, input, prediction, rowForm: "record" };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("InferenceLogger", () => {
  it("sends a batch as soon as it fills, the rest at the flush interval, each row as its own record", async () => {
    const receiver = await startReceiver();
    const logger = new InferenceLogger({
      endpoint: receiver.url,
      sampleRate: 1,
      maxBatch: 10,
      flushIntervalMs: 30,
      server: "pod-1",
    });
    for (let i = 0; i < 12; i++) logger.offer(`req-${i}`, textRequest(2, i * 2), 1.23456);
    // 24 rows: two full batches go without waiting for the timer (it is not even started)
    await receiver.waitForCalls(2);
    assert.deepEqual(
      receiver.calls.map((c) => c.records.length),
      [10, 10],
    );
    assert.equal(logger.stats().buffered, 4);
    logger.start();
    await receiver.waitForCalls(3);
    assert.equal(receiver.calls[2]!.records.length, 4);
    assert.equal(receiver.calls[0]!.headers["content-type"], "application/json");
    const first = receiver.records()[0]!;
    assert.equal(typeof first.timestamp_ms, "number");
    assert.deepEqual(
      { ...first, timestamp_ms: 0 },
      {
        request_id: "req-0",
        row_index: 0,
        model_name: "spam",
        model_version: "3",
        timestamp_ms: 0,
        inputs: { text: "message 0", score: 0 },
        outputs: { label: "MESSAGE 0", length: 9 },
        latency_ms: 1.235,
        server: "pod-1",
      },
    );
    assert.deepEqual(
      receiver.records().map((r) => `${r.request_id}/${r.row_index}`),
      Array.from({ length: 12 }, (_, i) => [`req-${i}/0`, `req-${i}/1`]).flat(),
    );
    await logger.close();
    assert.deepEqual(logger.stats(), {
      sent: 24,
      dropped_buffer_full: 0,
      dropped_send_failed: 0,
      dropped_rejected: 0,
      buffered: 0,
    });
  });

  it("samples per request: every row of a sampled request, none of the others, at about the rate", async () => {
    const receiver = await startReceiver();
    const logger = new InferenceLogger({
      endpoint: receiver.url,
      sampleRate: 0.25,
      maxBuffer: 100_000,
      maxBatch: 5000,
      random: seeded(42),
    });
    const requests = 8000;
    for (let i = 0; i < requests; i++) logger.offer(`r${i}`, textRequest(3), 1);
    await logger.close();
    const rows = new Map<string, number[]>();
    for (const r of receiver.records()) rows.set(r.request_id, [...(rows.get(r.request_id) ?? []), r.row_index]);
    for (const [id, indexes] of rows) assert.deepEqual(indexes, [0, 1, 2], `all rows of ${id}`);
    // deterministic for this seed; the bounds are about 4 standard deviations either side
    assert.ok(rows.size > 1850 && rows.size < 2150, `${rows.size} of ${requests} requests sampled at 0.25`);

    const none = new InferenceLogger({ endpoint: receiver.url, sampleRate: 0 });
    for (let i = 0; i < 100; i++) none.offer(`n${i}`, textRequest(1), 1);
    assert.equal(none.stats().buffered, 0);
    await none.close();
  });

  it("drops whole requests when the buffer is full, counts their rows, and shows both in /metrics", async () => {
    const receiver = await startReceiver();
    const metrics = new InferenceMetrics({ defaultMetrics: false });
    const logger = new InferenceLogger({
      endpoint: receiver.url,
      sampleRate: 1,
      maxBuffer: 10,
      maxBatch: 100,
      metrics,
    });
    for (let i = 0; i < 4; i++) logger.offer(`a${i}`, textRequest(3), 1); // 9 fit, the 4th request does not
    logger.offer("b", textRequest(1), 1); // 10
    logger.offer("c", textRequest(1), 1); // full
    assert.deepEqual(logger.stats(), {
      sent: 0,
      dropped_buffer_full: 4,
      dropped_send_failed: 0,
      dropped_rejected: 0,
      buffered: 10,
    });
    const text = await metrics.text();
    assert.match(text, /^slipway_inference_log_records_total\{outcome="dropped_buffer_full"\} 4$/m);
    assert.match(text, /^slipway_inference_log_records_total\{outcome="sent"\} 0$/m);
    assert.match(text, /^slipway_inference_log_buffer_records 10$/m);
    await logger.close();
    assert.deepEqual([...new Set(receiver.records().map((r) => r.request_id))], ["a0", "a1", "a2", "b"]);
    const after = await metrics.text();
    assert.match(after, /^slipway_inference_log_records_total\{outcome="sent"\} 10$/m);
    assert.match(after, /^slipway_inference_log_buffer_records 0$/m);
  });

  it("retries a batch after 5xx answers, honouring Retry-After, and delivers it", async () => {
    const receiver = await startReceiver((n, response) => {
      if (n === 0) response.writeHead(503, { "retry-after": "0" }).end('{"error_code":"TEMPORARILY_UNAVAILABLE"}');
      else if (n === 1) response.writeHead(500, { "retry-after": "0" }).end("oops");
      else accept(n, response);
    });
    const reports: string[] = [];
    // a backoff of its own would wait seconds: the receiver's Retry-After: 0 is what makes this fast
    const logger = new InferenceLogger({
      endpoint: receiver.url,
      sampleRate: 1,
      maxBatch: 5,
      retryBaseMs: 10_000,
      onReport: (line) => reports.push(line),
    });
    const started = performance.now();
    for (let i = 0; i < 5; i++) logger.offer(`r${i}`, textRequest(1), 1);
    await receiver.waitForCalls(3);
    await until(() => logger.stats().sent === 5, "the batch to be counted as sent");
    assert.ok(performance.now() - started < 3000, "Retry-After: 0 was honoured instead of the 10 s backoff");
    assert.deepEqual(receiver.calls[0]!.records, receiver.calls[2]!.records, "the same batch, resent");
    assert.deepEqual(reports, []);
    await logger.close();
    assert.equal(logger.stats().dropped_send_failed, 0);
  });

  it("drops a batch the endpoint rejects (4xx), counts it, and reports each kind of rejection once", async () => {
    const receiver = await startReceiver((n, response) => {
      if (n < 3) {
        response
          .writeHead(400, { "content-type": "application/json" })
          .end('{"error_code":"INVALID_PARAMETER_VALUE","message":"records[0].inputs must be an object"}');
      } else response.writeHead(404).end("Not Found");
    });
    const reports: string[] = [];
    const logger = new InferenceLogger({
      endpoint: receiver.url,
      sampleRate: 1,
      maxBatch: 2,
      onReport: (line) => reports.push(line),
    });
    for (let i = 0; i < 8; i++) logger.offer(`r${i}`, textRequest(1), 1);
    await logger.close();
    assert.equal(receiver.calls.length, 4, "no retries");
    assert.equal(logger.stats().dropped_rejected, 8);
    assert.equal(reports.length, 2, reports.join("\n"));
    assert.match(
      reports[0]!,
      /rejected 2 records: 400 INVALID_PARAMETER_VALUE: records\[0\]\.inputs must be an object/,
    );
    assert.match(reports[1]!, /404: Not Found \(does the tracking server have the inference log\?\)/);
  });

  it("against a receiver that never answers: attempts time out, the batch is dropped and counted, offer stays fast", async () => {
    const receiver = await startReceiver(() => {
      // never answers
    });
    const reports: string[] = [];
    const logger = new InferenceLogger({
      endpoint: receiver.url,
      sampleRate: 1,
      maxBuffer: 50,
      maxBatch: 10,
      timeoutMs: 100,
      maxAttempts: 2,
      retryBaseMs: 10,
      onReport: (line) => reports.push(line),
    });
    const request = textRequest(1);
    const offers = 200_000;
    let slowest = 0;
    const started = performance.now();
    for (let i = 0; i < offers; i++) {
      const t = performance.now();
      logger.offer(`r${i}`, request, 1);
      slowest = Math.max(slowest, performance.now() - t);
    }
    const perOfferUs = ((performance.now() - started) * 1000) / offers;
    // typically well under 1 µs; the bounds only catch an offer that waits for the network
    assert.ok(perOfferUs < 50, `${perOfferUs.toFixed(2)} µs per offer`);
    assert.ok(slowest < 50, `slowest offer ${slowest.toFixed(1)} ms`);
    await until(() => logger.stats().dropped_send_failed >= 10, "the first batch to be dropped");
    assert.equal(receiver.calls.length >= 2, true, "the batch was tried twice");
    assert.match(reports[0]!, /failed after 2 attempts \(timed out after 100 ms\)/);
    const closing = performance.now();
    await logger.close(300);
    assert.ok(performance.now() - closing < 2000, "close() gave up at its deadline");
    const stats = logger.stats();
    assert.equal(stats.sent, 0);
    assert.equal(stats.buffered, 0);
    assert.equal(stats.dropped_buffer_full + stats.dropped_send_failed, offers, "every record is accounted for");
    assert.ok(stats.dropped_buffer_full > offers - 100);
  });

  it("retries network errors, then drops and counts the batch", async () => {
    const receiver = await startReceiver();
    const url = receiver.url;
    await receiver.close(); // nothing listens there now
    const reports: string[] = [];
    const logger = new InferenceLogger({
      endpoint: url,
      sampleRate: 1,
      maxBatch: 3,
      maxAttempts: 3,
      retryBaseMs: 5,
      onReport: (line) => reports.push(line),
    });
    for (let i = 0; i < 6; i++) logger.offer(`r${i}`, textRequest(1), 1);
    await until(() => logger.stats().dropped_send_failed === 6, "both batches to be dropped");
    assert.equal(reports.length, 1, "reported once, not per batch");
    assert.match(reports[0]!, /failed after 3 attempts \(network error: ECONNREFUSED\)/);
    await logger.close();
  });

  it("close() sends what waits; offers after it are counted, not sent", async () => {
    const receiver = await startReceiver();
    const logger = new InferenceLogger({ endpoint: receiver.url, sampleRate: 1, flushIntervalMs: 60_000 });
    logger.start();
    for (let i = 0; i < 7; i++) logger.offer(`r${i}`, textRequest(1), 1);
    assert.equal(receiver.calls.length, 0);
    await logger.close();
    assert.equal(receiver.records().length, 7);
    logger.offer("late", textRequest(2), 1);
    assert.deepEqual(logger.stats(), {
      sent: 7,
      dropped_buffer_full: 0,
      dropped_send_failed: 2,
      dropped_rejected: 0,
      buffered: 0,
    });
    await logger.close(); // again: a no-op
  });

  it("logs tensors, missing values, booleans and single-output rows as the response shows them", async () => {
    const receiver = await startReceiver();
    const logger = new InferenceLogger({ endpoint: receiver.url, sampleRate: 1 });
    const tensors: ServedPrediction = {
      model: { name: "iris" },
      input: {
        kind: "tensors",
        rows: 2,
        tensors: new Map([["input", { dtype: "float32", shape: [2, 2], data: Float32Array.from([1, 0, 0.5, 2]) }]]),
      },
      prediction: {
        rows: 2,
        outputs: new Map<string, OutputTensor>([
          ["label", { dtype: "int64", shape: [2], data: BigInt64Array.from([0n, 2n]) }],
          ["probabilities", { dtype: "float32", shape: [2, 2], data: Float32Array.from([0.75, 0.25, 0.5, 0.5]) }],
        ]),
      },
      rowForm: "record",
      outputNames: ["label"],
    };
    logger.offer("t", tensors, 2);
    const columns: ServedPrediction = {
      model: { name: "m", version: "1" },
      input: {
        kind: "columns",
        rows: 2,
        columns: new Map([
          ["x", { kind: "float64", values: Float64Array.from([1.5, NaN]), missing: Uint8Array.from([0, 1]) }],
          ["ok", { kind: "bool", values: Uint8Array.from([1, 0]) }],
          ["tags", { kind: "value", values: [["a"], null] }],
        ]),
      },
      prediction: {
        rows: 2,
        outputs: new Map<string, OutputTensor>([
          ["y", { dtype: "float64", shape: [2], data: Float64Array.from([3, 4]) }],
        ]),
      },
      rowForm: "value",
    };
    logger.offer("c", columns, 2);
    await logger.close();
    const rows = receiver.records().map((r) => [r.request_id, r.model_version, r.inputs, r.outputs]);
    assert.deepEqual(rows, [
      ["t", "", { input: [1, 0] }, { label: 0 }],
      ["t", "", { input: [0.5, 2] }, { label: 2 }],
      ["c", "1", { x: 1.5, ok: true, tags: ["a"] }, 3],
      ["c", "1", { x: null, ok: false, tags: null }, 4],
    ]);
  });

  it("sends the endpoint's credentials as a Basic authorization header", async () => {
    const receiver = await startReceiver();
    const logger = new InferenceLogger({
      endpoint: receiver.url.replace("http://", "http://bot:s%3Acret@"),
      sampleRate: 1,
    });
    assert.ok(!logger.endpoint.includes("bot"));
    logger.offer("r", textRequest(1), 1);
    await logger.close();
    assert.equal(receiver.calls[0]!.headers.authorization, `Basic ${Buffer.from("bot:s:cret").toString("base64")}`);
  });

  it("offers a failed request as one record with its status, through the same buffer and counters", async () => {
    const receiver = await startReceiver();
    const metrics = new InferenceMetrics({ defaultMetrics: false });
    const logger = new InferenceLogger({
      endpoint: receiver.url,
      sampleRate: 1,
      maxBuffer: 4,
      maxBatch: 100,
      server: "pod-1",
      metrics,
    });
    logger.offer("ok", textRequest(2), 1);
    logger.offerError("e400", { model: { name: "spam", version: "3" }, status: 400 }, 0.1234567);
    logger.offerError("e503", { model: { name: "spam" }, status: 503 }, 7);
    // not errors: ignored, not counted
    for (const status of [200, 204, 302, 399, 600, 503.5, NaN]) {
      logger.offerError("not-an-error", { model: { name: "spam" }, status }, 1);
    }
    assert.equal(logger.stats().buffered, 4);
    logger.offerError("full", { model: { name: "spam" }, status: 500 }, 1); // the buffer holds 4 records
    assert.deepEqual(logger.stats(), {
      sent: 0,
      dropped_buffer_full: 1,
      dropped_send_failed: 0,
      dropped_rejected: 0,
      buffered: 4,
    });
    assert.match(await metrics.text(), /^slipway_inference_log_records_total\{outcome="dropped_buffer_full"\} 1$/m);
    await logger.close();
    const records = receiver.records();
    assert.deepEqual(
      records.map((r) => [r.request_id, r.row_index, r.status]),
      [
        ["ok", 0, undefined],
        ["ok", 1, undefined],
        ["e400", 0, 400],
        ["e503", 0, 503],
      ],
    );
    assert.equal(typeof records[2]!.timestamp_ms, "number");
    assert.deepEqual(
      { ...records[2], timestamp_ms: 0 },
      {
        request_id: "e400",
        row_index: 0,
        model_name: "spam",
        model_version: "3",
        timestamp_ms: 0,
        inputs: {},
        outputs: null,
        status: 400,
        latency_ms: 0.123,
        server: "pod-1",
      },
    );
    assert.equal(records[3]!.model_version, "", "a model without a registry version, as for predictions");
    assert.match(await metrics.text(), /^slipway_inference_log_records_total\{outcome="sent"\} 4$/m);
    // after close: counted, not sent
    logger.offerError("late", { model: { name: "spam" }, status: 500 }, 1);
    assert.equal(logger.stats().dropped_send_failed, 1);
  });

  it("samples failed requests at the same rate as predictions, and never throws", async () => {
    const receiver = await startReceiver();
    const reports: string[] = [];
    const logger = new InferenceLogger({
      endpoint: receiver.url,
      sampleRate: 0.25,
      maxBuffer: 100_000,
      maxBatch: 5000,
      random: seeded(7),
      onReport: (line) => reports.push(line),
    });
    const requests = 8000;
    for (let i = 0; i < requests; i++) {
      logger.offerError(`e${i}`, { model: { name: "spam", version: "1" }, status: i % 2 === 0 ? 500 : 429 }, 1);
    }
    await logger.close();
    const sampled = receiver.records();
    assert.ok(sampled.every((r) => r.row_index === 0 && (r.status === 500 || r.status === 429)));
    assert.equal(new Set(sampled.map((r) => r.request_id)).size, sampled.length, "one record per request");
    // deterministic for this seed; the bounds are about 4 standard deviations either side
    assert.ok(sampled.length > 1850 && sampled.length < 2150, `${sampled.length} of ${requests} sampled at 0.25`);

    // a model whose name cannot be read: reported once, nothing thrown, nothing buffered
    const strict = new InferenceLogger({ endpoint: receiver.url, sampleRate: 1, onReport: (l) => reports.push(l) });
    const broken = {
      get name(): string {
        throw new Error("no name");
      },
    };
    assert.doesNotThrow(() => strict.offerError("x", { model: broken, status: 500 }, 1));
    assert.doesNotThrow(() => strict.offerError("y", { model: broken, status: 500 }, 1));
    assert.equal(strict.stats().buffered, 0);
    assert.equal(reports.length, 1, reports.join("\n"));
    assert.match(reports[0]!, /a failed request could not be logged: no name/);
    await strict.close();

    const none = new InferenceLogger({ endpoint: receiver.url, sampleRate: 0 });
    for (let i = 0; i < 100; i++) none.offerError(`n${i}`, { model: { name: "spam" }, status: 500 }, 1);
    assert.equal(none.stats().buffered, 0);
    await none.close();
  });

  it("refuses bad options", () => {
    const endpoint = "http://127.0.0.1:1/api/2.0/slipway/inference-log";
    assert.throws(() => new InferenceLogger({ endpoint, sampleRate: 1.5 }), /sampleRate must be from 0 to 1/);
    assert.throws(() => new InferenceLogger({ endpoint, sampleRate: NaN }), /sampleRate must be from 0 to 1/);
    assert.throws(() => new InferenceLogger({ endpoint, sampleRate: 1, maxBatch: 6000 }), /at most 5000/);
    assert.throws(() => new InferenceLogger({ endpoint, sampleRate: 1, maxBuffer: 0 }), /maxBuffer must be/);
    assert.throws(() => new InferenceLogger({ endpoint: "file:///x", sampleRate: 1 }), /http\(s\) URL/);
  });
});
