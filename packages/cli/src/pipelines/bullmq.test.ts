/**
 * Pipelines on BullMQ, end to end against the machine's real Redis and a real tracking server, with every
 * process real: `slipway pipeline run --executor bullmq` as the coordinator and `slipway worker --pipelines`
 * processes. A worker killed (SIGKILL) mid-step: another runs the step again and the pipeline finishes. A
 * worker with other code for a step refuses it. A cancel stops the step on its worker.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { getPipelineRun, readStepLog, TrackingClient } from "@slipway/sdk";
import { redisAnswers, startSlipway, type SlipwayProcess } from "../testing/processes.js";
import { runSlipway, startServerProcess, type ServerProcess } from "../testing/harness.js";

const REDIS = "redis://127.0.0.1:6379";
const SDK = new URL(import.meta.resolve("@slipway/sdk")).href;

const skip = (await redisAnswers()) ? false : "Redis is not reachable at 127.0.0.1:6379 (start redis-server)";

/** `nap` sleeps `ms` (stopping early on its signal); the other steps are instant. */
const pipelinesFile = (napBody: string) => `
import { definePipeline, step } from ${JSON.stringify(SDK)};
export const slow = definePipeline({
  name: "slow",
  params: { ms: 3000 },
  steps: {
    first: step({ run: () => ({ v: 1 }) }),
    nap: step({
      needs: ["first"],
      run: (ctx, inputs) => ${napBody},
    }),
    last: step({ needs: ["nap"], run: (ctx, inputs) => ({ v: inputs.nap.v + 1, pid: process.pid }) }),
  },
});
`;
const NAP = `new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ v: inputs.first.v + 1, pid: process.pid }), Number(ctx.params.ms));
        ctx.signal.addEventListener("abort", () => { clearTimeout(timer); reject(ctx.signal.reason); });
      })`;

/** `slipway ARGS` in a child process; stopping it kills it (SIGKILL), as a dead machine would. */
function start(args: readonly string[], env: Record<string, string>): SlipwayProcess {
  const child = startSlipway(args, env);
  return { ...child, stop: () => child.stop("SIGKILL") };
}

let server: ServerProcess;
let client: TrackingClient;
let env: Record<string, string>;
let file: string;
let other: string;
const queues: string[] = [];

describe("pipelines on BullMQ workers", { skip }, () => {
  before(async () => {
    server = await startServerProcess("slipway-pipeline-bullmq-");
    client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
    env = { SLIPWAY_TRACKING_URI: server.url };
    file = join(server.dir, "pipelines.mjs");
    other = join(server.dir, "other.mjs");
    await writeFile(file, pipelinesFile(NAP));
    await writeFile(other, pipelinesFile(`({ v: 42 })`));
  });
  after(async () => {
    for (const name of queues) {
      const queue = new Queue(name, { connection: { url: REDIS } });
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await server?.stop();
  });

  const workerArgs = (pipelines: string, queue: string) => {
    queues.push(queue, `${queue}-batch`);
    return [
      "worker",
      "--redis",
      REDIS,
      "--queue",
      `${queue}-batch`,
      "--pipelines",
      pipelines,
      "--pipeline-queue",
      queue,
      "--threads",
      "1",
      "--lock-duration",
      "2s",
    ];
  };
  const runArgs = (queue: string, ...more: string[]) => [
    "pipeline",
    "run",
    "slow",
    "--pipelines",
    file,
    "--executor",
    "bullmq",
    "--redis",
    REDIS,
    "--queue",
    queue,
    "--json",
    ...more,
  ];

  it("a worker killed mid-step: another runs the step again and the pipeline finishes", async () => {
    const queue = `slipway-test-steps-${randomUUID()}`;
    const a = start(workerArgs(file, queue), env);
    const b = start(workerArgs(file, queue), env);
    try {
      await Promise.all([a.waitFor(/running steps of slow/), b.waitFor(/running steps of slow/)]);
      const coordinator = runSlipway(runArgs(queue), env);
      // whichever worker takes `nap` is killed as soon as it has it
      const [holder, survivor] = await Promise.race([
        a.waitFor(/slow\/nap \(step run \w+\): started/).then(() => [a, b] as const),
        b.waitFor(/slow\/nap \(step run \w+\): started/).then(() => [b, a] as const),
      ]);
      holder.process.kill("SIGKILL");
      const r = await coordinator;
      assert.equal(r.code, 0, `${r.stderr}\n--- survivor:\n${survivor.output()}`);
      const result = JSON.parse(r.stdout) as {
        run_id: string;
        status: string;
        steps: { name: string; outputs: { v: number; pid: number } }[];
      };
      assert.equal(result.status, "FINISHED");
      const nap = result.steps.find((s) => s.name === "nap")!;
      assert.equal(nap.outputs.v, 2);
      assert.equal(nap.outputs.pid, survivor.process.pid, "the surviving worker ran the step");
      assert.deepEqual(result.steps.find((s) => s.name === "last")!.outputs.v, 3);
      assert.match(survivor.output(), /slow\/nap \(step run \w+\): started again/);
      const info = await getPipelineRun(client, result.run_id);
      assert.deepEqual(
        info.steps.map((s) => s.status),
        ["FINISHED", "FINISHED", "FINISHED"],
      );
      assert.equal(info.run.data.tags?.find((t) => t.key === "slipway.pipeline.executor")?.value, "bullmq");
      const log = await readStepLog(client, info.steps[1]!.run!);
      assert.match(log, /run again on .*: the worker that had this step stopped/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("a worker with other code for a step refuses it: the step fails with the reason", async () => {
    const queue = `slipway-test-steps-${randomUUID()}`;
    const worker = start(workerArgs(other, queue), env);
    try {
      await worker.waitFor(/running steps of slow/);
      const r = await runSlipway(runArgs(queue), env);
      assert.equal(r.code, 1, r.stderr);
      const result = JSON.parse(r.stdout) as {
        status: string;
        steps: { name: string; status: string; error?: string }[];
      };
      assert.equal(result.status, "FAILED");
      assert.deepEqual(
        result.steps.map((s) => [s.name, s.status]),
        [
          ["first", "FINISHED"],
          ["nap", "FAILED"],
          ["last", "SKIPPED"],
        ],
      );
      assert.match(
        result.steps[1]!.error!,
        /worker: this worker's step 'nap' of pipeline 'slow' is other code than the runner's/,
      );
    } finally {
      await worker.stop();
    }
  });

  it("cancel with no worker: the waiting job is removed from the queue, the step KILLED", async () => {
    const queue = `slipway-test-steps-${randomUUID()}`;
    queues.push(queue);
    const coordinator = start(runArgs(queue), env);
    const [, runId] = await coordinator.waitFor(/pipeline slow: run (\w+) started/);
    await coordinator.waitFor(/first: started/);
    const cancel = await runSlipway(["pipeline", "cancel", runId!], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal((await coordinator.exited).code, 1, coordinator.output());
    assert.match(coordinator.output(), /first: KILLED in [\d.]+s: cancelled before a worker took it/);
    const q = new Queue(queue, { connection: { url: REDIS } });
    try {
      const counts = await q.getJobCounts("waiting", "active", "completed", "failed", "delayed");
      assert.deepEqual(Object.values(counts), [0, 0, 0, 0, 0]);
    } finally {
      await q.close();
    }
    const info = await getPipelineRun(client, runId!);
    assert.deepEqual(
      info.steps.map((s) => s.status),
      ["KILLED", "SKIPPED", "SKIPPED"],
    );
    assert.equal(info.steps[0]!.error, "cancelled before a worker took it");
  });

  it("cancel: the worker stops the running step, nothing more starts, the run is KILLED", async () => {
    const queue = `slipway-test-steps-${randomUUID()}`;
    const worker = start(workerArgs(file, queue), env);
    try {
      await worker.waitFor(/running steps of slow/);
      const coordinator = start(runArgs(queue, "--param", "ms=30000"), env);
      const [, runId] = await coordinator.waitFor(/pipeline slow: run (\w+) started/);
      await worker.waitFor(/slow\/nap \(step run \w+\): started/);
      const cancel = await runSlipway(["pipeline", "cancel", runId!], env);
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.match(cancel.stdout, new RegExp(`cancel requested for pipeline run ${runId} \\(slow\\)`));
      assert.equal((await coordinator.exited).code, 1, coordinator.output());
      await worker.waitFor(/slow\/nap \(step run \w+\): KILLED after 1 attempt/);
      const status = await runSlipway(["pipeline", "status", runId!, "--json"], env);
      const view = JSON.parse(status.stdout) as {
        status: string;
        cancel_requested?: string;
        steps: { status: string }[];
      };
      assert.equal(view.status, "KILLED");
      assert.match(view.cancel_requested!, /by slipway pipeline cancel/);
      assert.deepEqual(
        view.steps.map((s) => s.status),
        ["FINISHED", "KILLED", "SKIPPED"],
      );
    } finally {
      await worker.stop();
    }
  });
});
