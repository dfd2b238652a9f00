/**
 * `runPipeline` with the local executor against the SDK's fake tracking server: the tracked parent and
 * child runs, outputs flowing along the graph, parallelism, caching, failures, cancellation (by the tag
 * `slipway pipeline cancel` sets, and by the caller's signal), and reading a run back. The same runner
 * against the real server (and on BullMQ workers) is tested in the CLI package.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Run } from "@slipway/protocol";
import { TrackingClient } from "../client.js";
import { Slipway } from "../slipway.js";
import { FakeMlflow } from "../testing/fake-mlflow.js";
import { requestPipelineCancel } from "./cancellation.js";
import { definePipeline, step, type PipelineOptions } from "./definition.js";
import { PipelineParamError } from "./errors.js";
import { getPipelineRun, readStepLog } from "./pipeline-runs.js";
import { runPipeline, type PipelineEvent, type RunPipelineOptions } from "./runner.js";
import { readOutputs } from "./step-cache.js";
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tag = (run: Run, key: string) => run.data.tags?.find((t) => t.key === key)?.value;
const run = (pipeline: ReturnType<typeof definePipeline>, options: RunPipelineOptions = {}) =>
  runPipeline(pipeline, { slipway, captureEnvironment: false, cancelPollMs: 30, ...options });
const childrenOf = (parentId: string) =>
  [...server.runs.values()].map((s) => s.run).filter((r) => tag(r, "mlflow.parentRunId") === parentId);

describe("runPipeline", () => {
  it("records a parent run and a child run per step, passing outputs along the graph", async () => {
    const events: PipelineEvent[] = [];
    const p = definePipeline({
      name: "flow",
      params: { n: 3, label: "x" },
      steps: {
        prepare: step({ run: (ctx) => ({ rows: Array.from({ length: Number(ctx.params.n) }, (_, i) => i) }) }),
        train: step({
          needs: ["prepare"],
          run: async (ctx, inputs: { prepare: { rows: number[] } }) => {
            await ctx.run.logMetric("rows", inputs.prepare.rows.length);
            ctx.log("training on", inputs.prepare.rows.length, "rows");
            return { model: `m-${inputs.prepare.rows.length}` };
          },
        }),
        report: step({
          needs: ["train", "prepare"],
          run: (_ctx, inputs: { train: { model: string }; prepare: { rows: number[] } }) =>
            `${inputs.train.model} from ${inputs.prepare.rows.join(",")}`,
        }),
      },
    });
    const result = await run(p, { params: { n: "4" }, onEvent: (e) => events.push(e) });
    assert.equal(result.status, "FINISHED", JSON.stringify(result));
    assert.equal(result.steps.report!.outputs, "m-4 from 0,1,2,3");
    assert.deepEqual(Object.keys(result.steps), ["prepare", "train", "report"]);
    assert.deepEqual(
      events.map((e) => `${e.type}${"step" in e ? ` ${e.step}` : ""}`),
      [
        "run-started",
        "step-started prepare",
        "step-finished prepare",
        "step-started train",
        "step-finished train",
        "step-started report",
        "step-finished report",
        "run-finished",
      ],
    );

    const { run: parent } = await client.getRun({ run_id: result.runId });
    assert.equal(parent.info.status, "FINISHED");
    assert.equal(
      (await client.getExperiment({ experiment_id: parent.info.experiment_id })).experiment.name,
      "pipelines/flow",
    );
    assert.equal(tag(parent, PIPELINE_TAGS.pipeline), "flow");
    assert.equal(tag(parent, PIPELINE_TAGS.trigger), "manual");
    assert.equal(tag(parent, PIPELINE_TAGS.executor), "local");
    assert.deepEqual(parent.data.params, [
      { key: "n", value: "4" },
      { key: "label", value: "x" },
    ]);
    const children = childrenOf(result.runId);
    assert.deepEqual(children.map((c) => c.info.run_name).sort(), ["prepare", "report", "train"]);
    for (const child of children) {
      assert.equal(child.info.status, "FINISHED");
      assert.equal(child.info.experiment_id, parent.info.experiment_id);
      assert.equal(tag(child, PIPELINE_TAGS.pipeline), "flow");
      assert.equal(tag(child, PIPELINE_TAGS.step), child.info.run_name);
      assert.equal(tag(child, PIPELINE_TAGS.cached), "false");
      assert.match(tag(child, PIPELINE_TAGS.codeDigest)!, /^[0-9a-f]{64}$/);
      assert.equal(tag(child, PIPELINE_TAGS.cacheKey), undefined, "no caching asked for");
      assert.deepEqual(child.data.params, parent.data.params);
    }
    const train = children.find((c) => c.info.run_name === "train")!;
    assert.deepEqual(await readOutputs(client, train.info.artifact_uri), { model: "m-4" });
    assert.deepEqual(
      (await client.getMetricHistoryAll(train.info.run_id, "rows")).map((m) => m.value),
      [4],
    );

    const info = await getPipelineRun(client, result.runId);
    assert.equal(info.pipeline, "flow");
    assert.deepEqual(
      info.steps.map((s) => [s.name, s.status, s.cached, s.attempts, s.needs]),
      [
        ["prepare", "FINISHED", false, 1, []],
        ["train", "FINISHED", false, 1, ["prepare"]],
        ["report", "FINISHED", false, 1, ["train", "prepare"]],
      ],
    );
    assert.match(await readStepLog(client, info.steps[1]!.run!), /\[attempt 1\] training on 4 rows\n/);
    await assert.rejects(getPipelineRun(client, train.info.run_id), /is the run of step 'train'; its pipeline run is /);
  });

  it("runs independent steps concurrently, at most `parallelism` at once", async () => {
    let now = 0;
    let peak = 0;
    const busy = () => async () => {
      peak = Math.max(peak, ++now);
      await sleep(120);
      now--;
      return null;
    };
    const options: PipelineOptions = {
      name: "wide",
      steps: { a: step({ run: busy() }), b: step({ run: busy() }), c: step({ run: busy() }), d: step({ run: busy() }) },
    };
    const all = await run(definePipeline(options));
    assert.equal(all.status, "FINISHED");
    assert.equal(peak, 4);
    peak = 0;
    const t0 = performance.now();
    const two = await run(definePipeline({ ...options, parallelism: 2 }));
    assert.equal(two.status, "FINISHED");
    assert.equal(peak, 2);
    assert.ok(performance.now() - t0 >= 240, "two rounds of two");
  });

  it("reuses the outputs of a cached step whose code, inputs and parameters did not change", async () => {
    const calls: string[] = [];
    const p = definePipeline({
      name: "cached",
      params: { seed: 1, C: 10 },
      steps: {
        prepare: step({
          cache: { params: ["seed"] },
          run: (ctx) => {
            calls.push("prepare");
            return { seed: ctx.params.seed };
          },
        }),
        train: step({
          needs: ["prepare"],
          cache: true,
          run: (ctx, inputs: { prepare: { seed: number } }) => {
            calls.push("train");
            return { score: inputs.prepare.seed * Number(ctx.params.C) };
          },
        }),
        publish: step({
          needs: ["train"],
          run: () => {
            calls.push("publish");
            return null;
          },
        }),
      },
    });
    const first = await run(p);
    assert.equal(first.status, "FINISHED");
    assert.deepEqual(calls, ["prepare", "train", "publish"]);

    calls.length = 0;
    const second = await run(p);
    assert.equal(second.status, "FINISHED");
    assert.deepEqual(calls, ["publish"], "only the uncached step ran");
    assert.equal(second.steps.train!.cached, true);
    assert.equal(second.steps.train!.cacheSource, first.steps.train!.runId);
    assert.deepEqual(second.steps.train!.outputs, { score: 10 });
    const { run: reused } = await client.getRun({ run_id: second.steps.train!.runId! });
    assert.equal(reused.info.status, "FINISHED");
    assert.equal(tag(reused, PIPELINE_TAGS.cached), "true");
    assert.equal(tag(reused, PIPELINE_TAGS.cacheSource), first.steps.train!.runId);
    assert.equal(
      tag(reused, PIPELINE_TAGS.cacheKey),
      tag((await client.getRun({ run_id: first.steps.train!.runId! })).run, PIPELINE_TAGS.cacheKey),
    );
    assert.deepEqual(await readOutputs(client, reused.info.artifact_uri), { score: 10 });
    assert.match(await readStepLog(client, reused), /reused the outputs of run /);

    // C is not part of prepare's key: prepare is reused, train (all params) reruns
    calls.length = 0;
    const changed = await run(p, { params: { C: "20" } });
    assert.deepEqual(calls, ["train", "publish"]);
    assert.deepEqual(changed.steps.train!.outputs, { score: 20 });
    assert.equal(changed.steps.prepare!.cached, true);

    // a changed input reruns the step that takes it
    calls.length = 0;
    await run(p, { params: { seed: "2" } });
    assert.deepEqual(calls, ["prepare", "train", "publish"]);

    calls.length = 0;
    const fresh = await run(p, { cache: false });
    assert.deepEqual(calls, ["prepare", "train", "publish"]);
    assert.equal(fresh.steps.train!.cached, false);
  });

  it("a failed step stops what depends on it; running steps finish; the run is FAILED", async () => {
    const done: string[] = [];
    const p = definePipeline({
      name: "failing",
      steps: {
        bad: step({
          run: async () => {
            await sleep(20);
            throw new Error("no data");
          },
        }),
        slow: step({
          run: async () => {
            await sleep(150);
            done.push("slow");
            return 1;
          },
        }),
        after_bad: step({ needs: ["bad"], run: () => done.push("after_bad") }),
        after_slow: step({ needs: ["slow"], run: () => done.push("after_slow") }),
      },
    });
    const result = await run(p);
    assert.equal(result.status, "FAILED");
    assert.equal(result.error, "step 'bad' failed: no data");
    assert.deepEqual(done, ["slow"]);
    assert.deepEqual(
      Object.values(result.steps).map((s) => [s.name, s.status, s.error]),
      [
        ["bad", "FAILED", "no data"],
        ["slow", "FINISHED", undefined],
        ["after_bad", "SKIPPED", "not started: step 'bad' did not finish"],
        ["after_slow", "SKIPPED", "not started: another step failed first"],
      ],
    );
    const { run: parent } = await client.getRun({ run_id: result.runId });
    assert.equal(parent.info.status, "FAILED");
    assert.equal(tag(parent, PIPELINE_TAGS.error), "step 'bad' failed: no data");
    const info = await getPipelineRun(client, result.runId);
    assert.deepEqual(
      info.steps.map((s) => [s.name, s.status]),
      [
        ["bad", "FAILED"],
        ["slow", "FINISHED"],
        ["after_bad", "SKIPPED"],
        ["after_slow", "SKIPPED"],
      ],
    );
  });

  it("cancellation by the run's tag aborts running steps and starts nothing more", async () => {
    let started!: (runId: string) => void;
    const running = new Promise<string>((resolve) => (started = resolve));
    let reason: unknown;
    const p = definePipeline({
      name: "cancelled",
      steps: {
        long: step({
          run: (ctx) =>
            new Promise((_, reject) => {
              started(ctx.pipelineRunId);
              ctx.signal.addEventListener("abort", () => {
                reason = ctx.signal.reason;
                reject(new Error("stopped"));
              });
            }),
        }),
        next: step({ needs: ["long"], run: () => null }),
      },
    });
    const pending = run(p);
    const runId = await running;
    await requestPipelineCancel(client, runId, "by the test");
    const result = await pending;
    assert.equal(result.status, "KILLED");
    assert.match(String(reason), /pipeline run cancelled \(.* by the test\)/);
    assert.deepEqual(
      Object.values(result.steps).map((s) => [s.name, s.status]),
      [
        ["long", "KILLED"],
        ["next", "SKIPPED"],
      ],
    );
    const { run: parent } = await client.getRun({ run_id: runId });
    assert.equal(parent.info.status, "KILLED");
    const info = await getPipelineRun(client, runId);
    assert.match(info.cancelRequested!, /by the test/);
    await assert.rejects(requestPipelineCancel(client, runId), /has already ended: KILLED/);
    await assert.rejects(requestPipelineCancel(client, info.steps[0]!.run!.info.run_id), /is not a pipeline run/);
  });

  it("cancellation by the caller's signal; a step that ignores it is abandoned", async () => {
    const controller = new AbortController();
    const p = definePipeline({
      name: "abandoned",
      steps: {
        stubborn: step({
          run: () => {
            setTimeout(() => controller.abort(), 30);
            return new Promise(() => undefined);
          },
        }),
      },
    });
    const t0 = performance.now();
    const result = await run(p, { signal: controller.signal });
    assert.equal(result.status, "KILLED");
    assert.equal(result.steps.stubborn!.status, "KILLED");
    assert.ok(performance.now() - t0 < 3000);
  });

  it("refuses bad parameters before recording anything", async () => {
    const before = server.runs.size;
    const p = definePipeline({ name: "strict", params: { C: 1 }, steps: { a: step({ run: () => null }) } });
    await assert.rejects(run(p, { params: { D: "1" } }), PipelineParamError);
    await assert.rejects(run(p, { parallelism: 0 }), /parallelism must be a whole number ≥ 1, got 0/);
    assert.equal(server.runs.size, before);
  });
});
