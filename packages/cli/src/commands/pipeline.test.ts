/**
 * `slipway pipeline` end to end: the real command in child processes against a real `slipway server`, with
 * the example pipeline (examples/pipelines/retrain.mjs: prepare → train → gate → promote) and small pipelines
 * of the test's own: list, run (caching, parameters, failures, SIGINT), status, logs, cancel, the scheduler
 * process, and the usage errors (exit 2).
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { TrackingClient } from "@slipway/sdk";
import { runSlipway, startServerProcess, type ServerProcess } from "../testing/harness.js";
import { startSlipway, type SlipwayProcess } from "../testing/processes.js";

const EXAMPLE = fileURLToPath(new URL("../../../../examples/pipelines/retrain.mjs", import.meta.url));
const SDK = new URL(import.meta.resolve("@slipway/sdk")).href;

let server: ServerProcess;
let client: TrackingClient;
let env: Record<string, string>;
let own: string;

before(async () => {
  server = await startServerProcess("slipway-pipeline-cli-");
  client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  env = { SLIPWAY_TRACKING_URI: server.url };
  own = join(server.dir, "pipelines.mjs");
  await writeFile(
    own,
    `import { definePipeline, step } from ${JSON.stringify(SDK)};
export const broken = definePipeline({
  name: "broken",
  steps: {
    ok: step({ run: () => 1 }),
    bad: step({ needs: ["ok"], retries: 1, backoffMs: 10, run: () => { throw new Error("the data is gone"); } }),
    after: step({ needs: ["bad"], run: () => 2 }),
  },
});
export const sleepy = definePipeline({
  name: "sleepy",
  on: { registry: { model: "watched", event: "alias.set" } },
  steps: {
    nap: step({ run: (ctx) => new Promise((resolve, reject) => {
      ctx.log("napping");
      const t = setTimeout(() => resolve("rested"), 30000);
      ctx.signal.addEventListener("abort", () => { clearTimeout(t); reject(ctx.signal.reason); });
    }) }),
  },
});
export const quick = definePipeline({
  name: "quick",
  on: { registry: { model: "watched", event: "alias.set" } },
  steps: { only: step({ run: (ctx) => ctx.trigger.kind }) },
});
export const manual = definePipeline({ name: "manual", steps: { only: step({ run: () => null }) } });
`,
  );
});
// a test that fails half-way leaves no process behind
const children: SlipwayProcess[] = [];
const started = (args: readonly string[]) => {
  const child = startSlipway(args, env);
  children.push(child);
  return child;
};
after(async () => {
  await Promise.all(children.map((c) => c.stop("SIGKILL")));
  await server.stop();
});

interface RunJson {
  run_id: string;
  status: string;
  steps: { name: string; status: string; cached: boolean; outputs?: Record<string, unknown> }[];
}

describe("slipway pipeline", () => {
  it("list: the pipelines of a file, as a table and as JSON", async () => {
    const r = await runSlipway(["pipeline", "list", "--pipelines", EXAMPLE], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME +STEPS +PARAMS +SCHEDULE +TRIGGERS\n/);
    assert.match(
      r.stdout,
      /retrain +prepare → train → gate → promote +model=spam-pipeline .*C=10.* +0 3 \* \* \* \(next .*\) +alert spam-pipeline-drift/,
    );
    const json = await runSlipway(["pipeline", "list", "--pipelines", EXAMPLE, "--json"], env);
    const [p] = JSON.parse(json.stdout) as {
      name: string;
      steps: { name: string; needs: string[]; cache: boolean }[];
      schedules: { next: string }[];
    }[];
    assert.equal(p!.name, "retrain");
    assert.deepEqual(
      p!.steps.map((s) => [s.name, s.needs, s.cache]),
      [
        ["prepare", [], true],
        ["train", ["prepare"], true],
        ["gate", ["train"], false],
        ["promote", ["train", "gate"], false],
      ],
    );
    assert.match(p!.schedules[0]!.next, /T03:00:00.000Z$/);
  });

  it("run: the example trains, gates and promotes; a second run reuses the cached steps", async () => {
    const first = await runSlipway(["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--json"], env);
    assert.equal(first.code, 0, first.stderr);
    const one = JSON.parse(first.stdout) as RunJson;
    assert.equal(one.status, "FINISHED");
    assert.deepEqual(one.steps.find((s) => s.name === "promote")!.outputs, {
      promoted: true,
      version: "1",
      reason: "no champion yet",
    });
    assert.match(first.stderr, /\[train\] \[attempt 1\] F1 [\d.]+, model runs:\/\w+\/model/);
    const { model_version: champion } = await client.getModelVersionByAlias({
      name: "spam-pipeline",
      alias: "champion",
    });
    assert.equal(champion.version, "1");

    const second = await runSlipway(["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--json", "--quiet"], env);
    assert.equal(second.code, 0, second.stderr);
    const two = JSON.parse(second.stdout) as RunJson;
    assert.deepEqual(
      two.steps.map((s) => [s.name, s.cached]),
      [
        ["prepare", true],
        ["train", true],
        ["gate", false],
        ["promote", false],
      ],
    );
    assert.match(String(two.steps[3]!.outputs!.reason), /the champion already is this model \(version 1\)/);
    assert.doesNotMatch(second.stderr, /\[train\]/, "--quiet: no step log lines");
    assert.match(second.stderr, /train: cached, reusing run \w+/);

    // another C: prepare is reused, train reruns, the gate compares with the champion
    const third = await runSlipway(
      ["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--param", "C=0.5", "--json", "--quiet"],
      env,
    );
    assert.equal(third.code, 0, third.stderr);
    const three = JSON.parse(third.stdout) as RunJson;
    assert.deepEqual(
      three.steps.map((s) => s.cached),
      [true, false, false, false],
    );
    assert.match(String(three.steps[2]!.outputs!.reason), /candidate F1 [\d.]+ vs champion [\d.]+/);

    // status and logs of the first run
    const status = await runSlipway(["pipeline", "status", one.run_id], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^pipeline retrain: run ${one.run_id} FINISHED\n`));
    assert.match(
      status.stdout,
      /trigger: manual +executor: local +params: model=spam-pipeline alias=champion seed=7 rows=400 C=10 min_delta=0/,
    );
    assert.match(
      status.stdout,
      /\nprepare +FINISHED +1 .*\ntrain +FINISHED +1 .*\ngate +FINISHED +1 .*\npromote +FINISHED +1 /,
    );
    const json = JSON.parse((await runSlipway(["pipeline", "status", two.run_id, "--json"], env)).stdout) as {
      steps: { name: string; cached: boolean; cache_source?: string }[];
    };
    assert.equal(json.steps[1]!.cached, true);
    assert.equal(json.steps[1]!.cache_source, one.steps[1] && (await runIdOf(one, "train")));
    const logs = await runSlipway(["pipeline", "logs", one.run_id], env);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(
      logs.stdout,
      /==> prepare \(FINISHED, run \w+\) <==\n.*attempt 1 of 1 started\n.*300 training and 100 test messages/,
    );
    assert.match(
      logs.stdout,
      /==> promote \(FINISHED, run \w+\) <==\n[\s\S]*models:\/spam-pipeline@champion → version 1/,
    );
    const trainLog = await runSlipway(["pipeline", "logs", one.run_id, "--step", "train"], env);
    assert.match(trainLog.stdout, /^\S+ attempt 1 of 2 started\n\S+ \[attempt 1\] F1 /);
  });

  it("run: a failing step fails the run (exit 1) and skips what depends on it", async () => {
    const r = await runSlipway(["pipeline", "run", "broken", "--pipelines", own], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad: FAILED in [\d.]+s after 2 attempts: the data is gone/);
    assert.match(r.stderr, /slipway: pipeline run \w+ FAILED: step 'bad' failed: the data is gone\n$/);
    assert.match(
      r.stdout,
      /\nok +FINISHED .*\nbad +FAILED +2 .* the data is gone\nafter +SKIPPED +0 .*not started: step 'bad' did not finish/,
    );
  });

  it("SIGINT cancels a local run: the step is aborted, the run KILLED", async () => {
    const child = started(["pipeline", "run", "sleepy", "--pipelines", own]);
    const [, runId] = await child.waitFor(/pipeline sleepy: run (\w+) started/);
    await child.waitFor(/napping/);
    child.process.kill("SIGINT");
    assert.equal(await child.exitCode(), 1, child.output());
    assert.match(child.output(), /SIGINT: cancelling the run/);
    assert.match(child.output(), /nap: KILLED in/);
    const status = JSON.parse((await runSlipway(["pipeline", "status", runId!, "--json"], env)).stdout) as {
      status: string;
    };
    assert.equal(status.status, "KILLED");
  });

  it("cancel: from another process; refused for a run that has ended", async () => {
    const child = started(["pipeline", "run", "sleepy", "--pipelines", own, "--json"]);
    const [, runId] = await child.waitFor(/pipeline sleepy: run (\w+) started/);
    await child.waitFor(/napping/);
    const cancel = await runSlipway(["pipeline", "cancel", runId!, "--json"], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.deepEqual(JSON.parse(cancel.stdout), { run_id: runId, pipeline: "sleepy", cancel_requested: true });
    assert.equal(await child.exitCode(), 1, child.output());
    assert.equal((JSON.parse(child.stdout()) as RunJson).status, "KILLED");
    const again = await runSlipway(["pipeline", "cancel", runId!], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`pipeline run ${runId} \\(sleepy\\) has already ended: KILLED`));
  });

  it("scheduler: starts a run on a registry event, stops on SIGTERM", async () => {
    await client.createRegisteredModel({ name: "watched" });
    await client.createModelVersion({ name: "watched", source: "s3://bucket/watched" });
    const child = started(["pipeline", "scheduler", "--pipelines", own]);
    await child.waitFor(
      /scheduler: 4 pipeline\(s\) from .*: 0 schedule\(s\), 0 alert trigger\(s\), 2 registry trigger\(s\)/,
    );
    await client.setRegisteredModelAlias({ name: "watched", alias: "prod", version: "1" });
    await child.waitFor(/quick: pipeline run \w+: FINISHED/);
    await child.waitFor(/sleepy: starting a run for registry:\d+/);
    child.process.kill("SIGTERM");
    // the sleepy run is still going: a second signal stops at once
    await child.waitFor(/SIGTERM: no new runs; waiting for 1 run\(s\) in progress/);
    child.process.kill("SIGTERM");
    assert.equal(await child.exitCode(), 143, child.output());
  });

  it("usage errors exit 2 with a precise message", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["pipeline", "run", "nope", "--pipelines", own],
        /no pipeline 'nope' in .* \(its pipelines: broken, manual, quick, sleepy\)/,
      ],
      [["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--param", "C"], /--param: 'C' is not KEY=VALUE/],
      [
        ["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--param", "D=1"],
        /pipeline 'retrain' has no parameter 'D' \(its parameters: model, alias, seed, rows, C, min_delta\)/,
      ],
      [
        ["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--param", "C=lots"],
        /parameter 'C' must be a number \(its default is 10\), got "lots"/,
      ],
      [
        ["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--executor", "bullmq"],
        /--executor bullmq needs --redis URL/,
      ],
      [
        ["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--executor", "k8s"],
        /--executor: 'k8s' is not one of local, bullmq/,
      ],
      [
        ["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--executor", "bullmq", "--redis", "http://x"],
        /--redis: 'http:\/\/x' is not a redis:\/\/ or rediss:\/\/ URL/,
      ],
      [
        ["pipeline", "run", "retrain", "--pipelines", EXAMPLE, "--parallelism", "0"],
        /--parallelism: '0' is not a whole number ≥ 1/,
      ],
      [["pipeline", "list", "--pipelines", join(server.dir, "none.mjs")], /none\.mjs does not exist/],
      [["pipeline", "list"], /\.\/pipelines\.mjs does not exist/],
      [
        ["pipeline", "scheduler", "--pipelines", EXAMPLE, "--alert-poll", "soon"],
        /--alert-poll: 'soon' is not a duration/,
      ],
    ];
    for (const [args, pattern] of cases) {
      // a directory without a pipelines.mjs
      const r = await runSlipway(args, env, join(server.dir, "db"));
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
    const manualOnly = join(server.dir, "manual.mjs");
    await writeFile(manualOnly, `export { manual } from ${JSON.stringify(`file://${own}`)};\n`);
    const nothing = await runSlipway(["pipeline", "scheduler", "--pipelines", manualOnly], env);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /nothing to schedule: no pipeline in .*manual\.mjs has a schedule or 'on' triggers/);
    const first = JSON.parse(
      (await runSlipway(["pipeline", "run", "manual", "--pipelines", own, "--json"], env)).stdout,
    ) as RunJson;
    const logs = await runSlipway(["pipeline", "logs", first.run_id, "--step", "nope"], env);
    assert.equal(logs.code, 2);
    assert.match(logs.stderr, /--step: pipeline 'manual' has no step 'nope' \(its steps: only\)/);
  });
});

async function runIdOf(result: RunJson, step: string): Promise<string | undefined> {
  const status = JSON.parse((await runSlipway(["pipeline", "status", result.run_id, "--json"], env)).stdout) as {
    steps: { name: string; run_id?: string }[];
  };
  return status.steps.find((s) => s.name === step)?.run_id;
}
