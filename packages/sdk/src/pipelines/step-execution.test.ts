/**
 * One step on its run (`executeStep`), against the SDK's fake tracking server: retries with exponential
 * backoff, non-retryable errors, timeouts (a step that ignores its signal is abandoned), outputs that are
 * not JSON, cancellation, and what the step run records (tags, outputs.json, step.log, metrics, status).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Run } from "@slipway/protocol";
import { TrackingClient } from "../client.js";
import { Slipway } from "../slipway.js";
import { FakeMlflow } from "../testing/fake-mlflow.js";
import { definePipeline, type StepOptions } from "./definition.js";
import { NonRetryableError, PipelineCancelledError } from "./errors.js";
import { readStepLog } from "./pipeline-runs.js";
import { readOutputs } from "./step-cache.js";
import { backoffDelay, executeStep, type ExecuteStepOptions } from "./step-execution.js";
import { PIPELINE_TAGS } from "./tags.js";

const server = new FakeMlflow();
let client: TrackingClient;
let slipway: Slipway;

before(async () => {
  await server.start();
  client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  slipway = new Slipway({ client, handleProcessExit: false });
});
after(() => server.close());

async function runStep(
  options: StepOptions<never, unknown>,
  extra: Partial<ExecuteStepOptions> = {},
): Promise<{ result: Awaited<ReturnType<typeof executeStep>>; run: Run; log: string; ms: number }> {
  const pipeline = definePipeline({ name: "p", params: { lr: 0.5 }, steps: { s: options } });
  const { run: created } = await client.createRun({ experiment_id: "0", run_name: "s" });
  const t0 = performance.now();
  const result = await executeStep({
    slipway,
    pipeline,
    step: "s",
    runId: created.info.run_id,
    pipelineRunId: "parent",
    params: { lr: 0.5 },
    inputs: {},
    trigger: { kind: "manual" },
    logFlushMs: 0,
    graceMs: 50,
    ...extra,
  });
  const ms = performance.now() - t0;
  const { run } = await client.getRun({ run_id: created.info.run_id });
  return { result, run, log: await readStepLog(client, run), ms };
}

const tag = (run: Run, key: string) => run.data.tags?.find((t) => t.key === key)?.value;

describe("executeStep", () => {
  it("backoff doubles from backoffMs up to maxBackoffMs", () => {
    const s = { backoffMs: 100, maxBackoffMs: 350 };
    assert.deepEqual(
      [2, 3, 4, 5].map((n) => backoffDelay(s, n)),
      [100, 200, 350, 350],
    );
  });

  it("retries with exponential backoff and records the run", async () => {
    const starts: number[] = [];
    const echoed: string[] = [];
    const { result, run, log } = await runStep(
      {
        retries: 3,
        backoffMs: 40,
        run: async (ctx) => {
          starts.push(performance.now());
          ctx.log("attempt", ctx.attempt, "with lr", ctx.params.lr, "trigger", ctx.trigger.kind);
          await ctx.run.logMetric("loss", 1 / ctx.attempt, { step: ctx.attempt });
          if (ctx.attempt < 3) throw new Error(`flaky ${ctx.attempt}`);
          return { ok: true, attempt: ctx.attempt };
        },
      },
      { echo: (line) => echoed.push(line) },
    );
    assert.deepEqual(result, { status: "FINISHED", outputs: { ok: true, attempt: 3 }, attempts: 3 });
    assert.equal(starts.length, 3);
    assert.ok(starts[1]! - starts[0]! >= 38, `first wait ${starts[1]! - starts[0]!}`);
    assert.ok(starts[2]! - starts[1]! >= 78, `second wait ${starts[2]! - starts[1]!}`);
    assert.equal(run.info.status, "FINISHED");
    assert.equal(tag(run, PIPELINE_TAGS.attempts), "3");
    assert.equal(tag(run, PIPELINE_TAGS.error), undefined);
    assert.match(tag(run, PIPELINE_TAGS.worker)!, /:\d+$/);
    assert.deepEqual(await readOutputs(client, run.info.artifact_uri), { ok: true, attempt: 3 });
    assert.match(log, /attempt 1 failed after [\d.]+ s: Error: flaky 1\n/);
    assert.match(log, /retrying in 40 ms/);
    assert.match(log, /retrying in 80 ms/);
    assert.match(log, /\[attempt 3\] attempt 3 with lr 0.5 trigger manual/);
    assert.match(log, /attempt 3 finished in/);
    assert.ok(echoed.includes("[s] [attempt 2] attempt 2 with lr 0.5 trigger manual"), echoed.join("\n"));
    const losses = await client.getMetricHistoryAll(run.info.run_id, "loss");
    assert.deepEqual(
      losses.map((m) => m.step),
      [1, 2, 3],
    );
  });

  it("fails after the last retry, and at once on a NonRetryableError", async () => {
    let calls = 0;
    const failed = await runStep({
      retries: 2,
      backoffMs: 1,
      run: () => {
        calls++;
        throw new Error("always broken");
      },
    });
    assert.equal(calls, 3);
    assert.deepEqual(failed.result, { status: "FAILED", attempts: 3, error: "always broken" });
    assert.equal(failed.run.info.status, "FAILED");
    assert.equal(tag(failed.run, PIPELINE_TAGS.error), "always broken");
    assert.equal(await readOutputs(client, failed.run.info.artifact_uri), undefined);

    calls = 0;
    const fatal = await runStep({
      retries: 5,
      backoffMs: 1,
      run: () => {
        calls++;
        throw new NonRetryableError("bad data: column 'text' missing");
      },
    });
    assert.equal(calls, 1);
    assert.deepEqual(fatal.result, { status: "FAILED", attempts: 1, error: "bad data: column 'text' missing" });
  });

  it("times out an attempt: a cooperative step stops, one that ignores its signal is abandoned", async () => {
    let sawAbort = false;
    const cooperative = await runStep({
      timeoutMs: 60,
      run: (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => {
            sawAbort = true;
            reject(new Error("stopped"));
          }),
        ),
    });
    assert.ok(sawAbort);
    assert.deepEqual(cooperative.result, {
      status: "FAILED",
      attempts: 1,
      error: "step 's' timed out after 60 ms (attempt 1)",
    });

    const starts: number[] = [];
    const stubborn = await runStep({
      timeoutMs: 60,
      retries: 1,
      backoffMs: 10,
      run: () => {
        starts.push(performance.now());
        return new Promise(() => undefined); // never settles, ignores the signal
      },
    });
    assert.equal(starts.length, 2, "a timeout is retried like any failure");
    assert.deepEqual(stubborn.result, {
      status: "FAILED",
      attempts: 2,
      error: "step 's' timed out after 60 ms (attempt 2)",
    });
    // 2 × (60 ms timeout + 50 ms grace) + 10 ms backoff, plus the tracking calls
    assert.ok(stubborn.ms < 1500, `took ${stubborn.ms} ms`);
    assert.equal(stubborn.run.info.status, "FAILED");
    assert.match(stubborn.log, /attempt 1 failed after [\d.]+ s: step 's' timed out after 60 ms \(attempt 1\)/);
  });

  it("refuses outputs that are not plain JSON, without retrying", async () => {
    let calls = 0;
    const { result } = await runStep({
      retries: 3,
      run: () => {
        calls++;
        return { model: new Map([["a", 1]]) };
      },
    });
    assert.equal(calls, 1);
    assert.deepEqual(result, {
      status: "FAILED",
      attempts: 1,
      error: "step 's' returned outputs that are not plain JSON: outputs.model is a Map, not a plain object",
    });
    const empty = await runStep({ run: () => undefined });
    assert.deepEqual(empty.result, { status: "FINISHED", outputs: null, attempts: 1 });
  });

  it("is KILLED when the run is cancelled mid-attempt or during a backoff", async () => {
    const controller = new AbortController();
    let reason: unknown;
    const mid = await runStep(
      {
        retries: 3,
        run: (ctx) => {
          setTimeout(() => controller.abort(), 30);
          return new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => {
              reason = ctx.signal.reason;
              reject(new Error("aborted"));
            }),
          );
        },
      },
      { signal: controller.signal },
    );
    assert.ok(reason instanceof PipelineCancelledError);
    assert.deepEqual(mid.result, { status: "KILLED", attempts: 1, error: "pipeline run cancelled" });
    assert.equal(mid.run.info.status, "KILLED");

    const later = new AbortController();
    let calls = 0;
    const backoff = await runStep(
      {
        retries: 3,
        backoffMs: 10_000,
        run: () => {
          calls++;
          setTimeout(() => later.abort(), 20);
          throw new Error("flaky");
        },
      },
      { signal: later.signal },
    );
    assert.equal(calls, 1);
    assert.equal(backoff.result.status, "KILLED");
    assert.ok(backoff.ms < 2000, `the backoff wait was cut short (${backoff.ms} ms)`);
  });
});
