/**
 * The SDK's pipeline runner against the real tracking server (a `slipway server` process): the parent run and
 * one child run per step with their tags, params, metrics and artifacts; the cache lookup through the server's
 * run search (its filter language); reading the run back. Also prints the runner's overhead per step.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  definePipeline,
  getPipelineRun,
  PIPELINE_TAGS,
  readOutputs,
  readStepLog,
  runPipeline,
  Slipway,
  step,
  TrackingClient,
} from "@slipway/sdk";
import type { Run } from "@slipway/protocol";
import { startServerProcess, type ServerProcess } from "../testing/harness.js";

let server: ServerProcess;
let client: TrackingClient;
let slipway: Slipway;

before(async () => {
  server = await startServerProcess("slipway-pipelines-");
  client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  slipway = new Slipway({ client, handleProcessExit: false });
});
after(() => server.stop());

const tags = (run: Run) => Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));

describe("pipeline runs on a real tracking server", () => {
  it("records parent and child runs, and reuses cached steps found by run search", async () => {
    let trained = 0;
    const pipeline = definePipeline({
      name: "tracked",
      params: { C: 2, seed: 1 },
      steps: {
        prepare: step({ cache: { params: ["seed"] }, run: (ctx) => ({ rows: 10 * Number(ctx.params.seed) }) }),
        train: step({
          needs: ["prepare"],
          cache: true,
          run: async (ctx, inputs: { prepare: { rows: number } }) => {
            trained++;
            await ctx.run.logMetrics({ rows: inputs.prepare.rows, C: Number(ctx.params.C) });
            await ctx.run.logText("weights", "model/weights.txt");
            ctx.log("trained on", inputs.prepare.rows);
            return { score: inputs.prepare.rows * Number(ctx.params.C) };
          },
        }),
      },
    });
    const first = await runPipeline(pipeline, { slipway, captureEnvironment: false });
    assert.equal(first.status, "FINISHED", JSON.stringify(first));
    const { run: parent } = await client.getRun({ run_id: first.runId });
    assert.equal(parent.info.status, "FINISHED");
    assert.equal(tags(parent)[PIPELINE_TAGS.pipeline], "tracked");
    const { runs } = await client.searchRuns({
      experiment_ids: [parent.info.experiment_id],
      filter: `tags.\`mlflow.parentRunId\` = '${first.runId}'`,
    });
    assert.equal(runs?.length, 2);
    const train = runs.find((r) => r.info.run_name === "train")!;
    const t = tags(train);
    assert.equal(t[PIPELINE_TAGS.step], "train");
    assert.equal(t[PIPELINE_TAGS.cached], "false");
    assert.match(t[PIPELINE_TAGS.cacheKey]!, /^[0-9a-f]{64}$/);
    assert.equal(t[PIPELINE_TAGS.attempts], "1");
    assert.deepEqual(Object.fromEntries((train.data.metrics ?? []).map((m) => [m.key, m.value])), { rows: 10, C: 2 });
    assert.deepEqual((train.data.params ?? []).map((p) => `${p.key}=${p.value}`).sort(), ["C=2", "seed=1"]);
    assert.deepEqual((await client.artifacts.listArtifacts(train.info.artifact_uri)).map((f) => f.path).sort(), [
      "model",
      "outputs.json",
      "step.log",
    ]);
    assert.deepEqual(await readOutputs(client, train.info.artifact_uri), { score: 20 });

    const second = await runPipeline(pipeline, { slipway, captureEnvironment: false });
    assert.equal(trained, 1, "train was reused");
    assert.equal(second.steps.train!.cacheSource, first.steps.train!.runId);
    const changed = await runPipeline(pipeline, { slipway, captureEnvironment: false, params: { C: "3" } });
    assert.equal(trained, 2);
    assert.equal(changed.steps.prepare!.cached, true);
    assert.deepEqual(changed.steps.train!.outputs, { score: 30 });

    const info = await getPipelineRun(client, second.runId);
    assert.deepEqual(
      info.steps.map((s) => [s.name, s.status, s.cached]),
      [
        ["prepare", "FINISHED", true],
        ["train", "FINISHED", true],
      ],
    );
    assert.match(
      await readStepLog(client, info.steps[1]!.run!),
      new RegExp(`reused the outputs of run ${first.steps.train!.runId}`),
    );
  });

  it("measures the runner's overhead per step (tracking calls, no work)", async () => {
    const steps: Record<string, ReturnType<typeof step>> = {};
    for (let i = 0; i < 10; i++) steps[`s${i}`] = step({ needs: i === 0 ? [] : [`s${i - 1}`], run: () => i });
    const pipeline = definePipeline({ name: "overhead", steps });
    await runPipeline(pipeline, { slipway, captureEnvironment: false }); // warm up
    const result = await runPipeline(pipeline, { slipway, captureEnvironment: false });
    assert.equal(result.status, "FINISHED");
    const perStep = Object.values(result.steps).reduce((sum, s) => sum + (s.durationMs ?? 0), 0) / 10;
    process.stdout.write(
      `# pipeline overhead: ${perStep.toFixed(1)} ms per step, ${result.durationMs.toFixed(0)} ms for 10 sequential steps\n`,
    );
    assert.ok(perStep < 1000, `${perStep} ms per step`);
  });
});
