/**
 * The pipeline scheduler: cron firings claimed on the machine's real Redis so that several schedulers start
 * each scheduled run once; alert triggers against a small HTTP server answering the alerts API's shape (one
 * run per alert incident); registry triggers against a real tracking server's event stream, and the lookup
 * among recorded runs that keeps a restarted scheduler from repeating a firing.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { redisAnswers } from "../testing/processes.js";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import {
  definePipeline,
  runPipeline,
  Slipway,
  step,
  TrackingClient,
  type Pipeline,
  type PipelineTrigger,
} from "@slipway/sdk";
import { parseCron } from "@slipway/server";
import { startServerProcess, type ServerProcess } from "../testing/harness.js";
import { fetchFiringAlerts } from "./alerts.js";
import type { LoadedPipelines } from "./load-pipelines.js";
import { PipelineScheduler } from "./scheduler.js";
import { MemoryClaims, RedisClaims, type TriggerClaims } from "./trigger-claims.js";

const REDIS = "redis://127.0.0.1:6379";

const noRedis = (await redisAnswers()) ? false : "Redis is not reachable at 127.0.0.1:6379 (start redis-server)";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nothing = step({ run: () => null });

function loaded(...pipelines: Pipeline[]): LoadedPipelines {
  return {
    file: "test.mjs",
    pipelines: new Map(pipelines.map((p) => [p.name, p])),
    schedules: new Map(pipelines.map((p) => [p.name, p.schedules.map((s) => parseCron(s))])),
  };
}

interface Started {
  pipeline: string;
  trigger: PipelineTrigger;
  by: number;
}

describe("cron triggers", () => {
  it("several schedulers on Redis start each scheduled run once", { skip: noRedis }, async () => {
    const id = randomUUID().slice(0, 8);
    const a = definePipeline({ name: `cron-a-${id}`, schedule: "* * * * *", steps: { s: nothing } });
    const b = definePipeline({ name: `cron-b-${id}`, schedule: ["*/1 * * * *", "* * * * *"], steps: { s: nothing } });
    // a clock 400 ms before a minute boundary, the same for every scheduler
    const offset = 60_000 - (Date.now() % 60_000) - 400;
    const now = () => Date.now() + offset;
    const tick = Math.ceil(now() / 60_000) * 60_000;
    const started: Started[] = [];
    const claims: TriggerClaims[] = [];
    const schedulers: PipelineScheduler[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const c = await RedisClaims.open(REDIS);
        claims.push(c);
        schedulers.push(
          new PipelineScheduler({
            pipelines: loaded(a, b),
            client: new TrackingClient({ trackingUri: "http://127.0.0.1:9", maxRetries: 0 }),
            claims: c,
            start: (pipeline, trigger) => started.push({ pipeline: pipeline.name, trigger, by: i }),
            log: () => undefined,
            now,
          }),
        );
      }
      for (const s of schedulers) s.start();
      await sleep(1200);
      assert.deepEqual(
        started.map((s) => [s.pipeline, s.trigger]).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
        [
          [a.name, { kind: "schedule", schedule: "* * * * *", time: tick }],
          [b.name, { kind: "schedule", schedule: "* * * * *", time: tick }],
          [b.name, { kind: "schedule", schedule: "*/1 * * * *", time: tick }],
        ],
      );
      assert.equal(
        schedulers.reduce((n, s) => n + s.started, 0),
        3,
      );
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()));
      await Promise.all(claims.map((c) => c.close()));
      // the claims live a day: remove this test's
      const redis = new Redis(REDIS);
      const keys = await redis.keys(`slipway:pipeline-trigger:cron-?-${id}:*`);
      assert.equal(keys.length, 3);
      await redis.del(...keys);
      await redis.quit();
    }
  });

  it("claims: the first caller wins until the claim expires (memory and Redis)", { skip: noRedis }, async () => {
    const key = `test:${randomUUID()}`;
    const redis = [await RedisClaims.open(REDIS), await RedisClaims.open(REDIS)];
    const memory = new MemoryClaims();
    // four claims at once from two connections: one wins
    const wins = await Promise.all([...redis, ...redis].map((c) => c.claim(key, 300)));
    assert.equal(wins.filter(Boolean).length, 1);
    await sleep(400);
    assert.equal(await redis[1]!.claim(key, 300), true, "claimable again once expired");
    assert.equal(await memory.claim(key, 100), true);
    assert.equal(await memory.claim(key, 100), false);
    await sleep(150);
    assert.equal(await memory.claim(key, 100), true);
    await Promise.all(redis.map((c) => c.close()));
    await assert.rejects(RedisClaims.open("redis://127.0.0.1:9"), /cannot reach Redis at redis:\/\/127.0.0.1:9/);
  });
});

describe("alert triggers", () => {
  let http: Server;
  let url: string;
  let alerts: Record<string, unknown>[] = [];
  const alert = (id: number, monitor: string, rule: string, state = "firing") => ({
    alert_id: id,
    monitor,
    rule,
    when: "psi > 0.2",
    state,
    started_at: 1_700_000_000_000 + id,
    start_window_id: 1,
    last_window_id: 1,
    last_value: 0.3,
    message: `${monitor}/${rule} fired`,
  });

  before(async () => {
    http = createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://x");
      res.setHeader("content-type", "application/json");
      if (u.pathname === "/api/2.0/slipway/alerts") {
        assert.equal(u.searchParams.get("state"), "firing");
        // two pages
        const first = u.searchParams.get("page_token") === null;
        const page = first ? alerts.slice(0, 2) : alerts.slice(2);
        res.end(JSON.stringify({ alerts: page, ...(first && alerts.length > 2 ? { next_page_token: "p2" } : {}) }));
        return;
      }
      if (u.pathname === "/api/2.0/mlflow/experiments/get-by-name") {
        res.statusCode = 404;
        res.end(JSON.stringify({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "no such experiment" }));
        return;
      }
      res.statusCode = 404;
      res.end("{}");
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => http.close(() => r())));

  it("reads every page of firing alerts in the documented shape", async () => {
    alerts = [alert(1, "m", "r"), alert(2, "m", "r", "ok"), alert(3, "n", "r")];
    assert.deepEqual(
      (await fetchFiringAlerts(url)).map((a) => [a.id, a.monitor, a.rule, a.startedAt, a.message]),
      [
        [1, "m", "r", 1_700_000_000_001, "m/r fired"],
        [3, "n", "r", 1_700_000_000_003, "n/r fired"],
      ],
    );
    alerts = [{ id: 1, monitor: "m" }];
    await assert.rejects(fetchFiringAlerts(url), /unexpected shape: alerts\[0\].alert_id is not a number/);
  });

  it("starts one run per matching alert incident", async () => {
    const p = definePipeline({
      name: "on-alert",
      on: { alert: [{ monitor: "spam-drift", rule: "psi" }, { monitor: "latency" }] },
      steps: { s: nothing },
    });
    alerts = [alert(1, "spam-drift", "psi"), alert(2, "spam-drift", "volume"), alert(3, "other", "psi")];
    const started: Started[] = [];
    const lines: string[] = [];
    const scheduler = new PipelineScheduler({
      pipelines: loaded(p),
      client: new TrackingClient({ trackingUri: url, maxRetries: 0 }),
      claims: new MemoryClaims(),
      start: (pipeline, trigger) => started.push({ pipeline: pipeline.name, trigger, by: 0 }),
      log: (line) => lines.push(line),
      alertPollMs: 30,
    });
    try {
      scheduler.start();
      await sleep(200);
      assert.deepEqual(
        started.map((s) => s.trigger),
        [
          {
            kind: "alert",
            alert: {
              id: 1,
              monitor: "spam-drift",
              rule: "psi",
              message: "spam-drift/psi fired",
              startedAt: 1_700_000_000_001,
            },
          },
        ],
      );
      alerts = [...alerts, alert(4, "latency", "p99")];
      await sleep(200);
      assert.deepEqual(
        started.map((s) => s.trigger.kind === "alert" && s.trigger.alert.id),
        [1, 4],
      );
      assert.ok(
        lines.some((l) => l === "on-alert: starting a run for alert:4"),
        lines.join("\n"),
      );
    } finally {
      await scheduler.stop();
    }
  });
});

describe("registry triggers on a real tracking server", () => {
  let server: ServerProcess;
  let client: TrackingClient;

  before(async () => {
    server = await startServerProcess("slipway-scheduler-");
    client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  });
  after(() => server.stop());

  it("the real alerts API answers in the shape the scheduler reads", async () => {
    assert.deepEqual(await fetchFiringAlerts(server.url), []);
  });

  it("starts a run on a matching registry event, once, and not again after a restart", async () => {
    const model = `m-${randomUUID().slice(0, 8)}`;
    await client.createRegisteredModel({ name: model });
    await client.createModelVersion({ name: model, source: "s3://bucket/model-1" });
    await client.createModelVersion({ name: model, source: "s3://bucket/model-2" });
    // longer before the scheduler starts than the clock skew it allows (2 s): not a trigger
    await client.setRegisteredModelAlias({ name: model, alias: "champion", version: "1" });
    await sleep(2100);
    const p = definePipeline({
      name: "on-champion",
      on: { registry: { model, event: "alias.set", alias: "champion" } },
      steps: {
        s: step({ run: (ctx) => (ctx.trigger.kind === "registry" ? (ctx.trigger.event.version ?? null) : null) }),
      },
    });
    const slipway = new Slipway({ client, handleProcessExit: false });
    const runs: Promise<unknown>[] = [];
    const started: Started[] = [];
    const startRun = (pipeline: Pipeline, trigger: PipelineTrigger) => {
      started.push({ pipeline: pipeline.name, trigger, by: 0 });
      runs.push(runPipeline(pipeline, { slipway, trigger, captureEnvironment: false }));
    };
    const t0 = Date.now();
    const first = new PipelineScheduler({
      pipelines: loaded(p),
      client,
      claims: new MemoryClaims(),
      start: startRun,
      log: () => undefined,
    });
    first.start();
    try {
      await sleep(300);
      assert.equal(started.length, 0, "an event from before the scheduler started is no trigger");
      await client.setRegisteredModelAlias({ name: model, alias: "challenger", version: "2" });
      await client.setRegisteredModelAlias({ name: model, alias: "champion", version: "2" });
      for (let i = 0; i < 50 && started.length === 0; i++) await sleep(50);
      await sleep(200);
      assert.equal(started.length, 1);
      const trigger = started[0]!.trigger;
      assert.ok(trigger.kind === "registry" && trigger.event.alias === "champion" && trigger.event.version === "2");
      const [result] = (await Promise.all(runs)) as Awaited<ReturnType<typeof runPipeline>>[];
      assert.equal(result!.status, "FINISHED");
      assert.equal(result!.steps.s!.outputs, "2", "the step sees the event that started it");
      const { run } = await client.getRun({ run_id: result!.runId });
      const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
      assert.equal(tags["slipway.pipeline.trigger"], "registry");
      assert.equal(tags["slipway.pipeline.trigger_id"], `registry:${trigger.event.event_id}`);
    } finally {
      await first.stop();
    }

    // a restarted scheduler (no Redis, fresh memory) sees the event again but finds its run
    const lines: string[] = [];
    const again = new PipelineScheduler({
      pipelines: loaded(p),
      client,
      claims: new MemoryClaims(),
      start: startRun,
      log: (line) => lines.push(line),
      now: () => t0,
    });
    again.start();
    try {
      for (let i = 0; i < 50 && !lines.some((l) => l.includes("already has a run")); i++) await sleep(50);
      assert.equal(started.length, 1, lines.join("\n"));
      assert.ok(
        lines.some((l) => /on-champion: registry:\d+ already has a run/.test(l)),
        lines.join("\n"),
      );
    } finally {
      await again.stop();
    }
  });
});
