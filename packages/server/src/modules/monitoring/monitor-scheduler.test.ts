/**
 * The monitor scheduler with two server replicas on one PostgreSQL database: each (monitor, window_end) is
 * evaluated exactly once however the replicas' ticks interleave; after downtime only the latest missed tick is
 * evaluated; a claim left behind by a replica that died is taken over once it is stale; disabled monitors and ticks
 * before a monitor existed are skipped.
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import { backendSuite, unique } from "../../testing/contract.js";
import { call, seedModel, startMonitorServer, type MonitorTestServer } from "../../testing/monitors.js";
import { createTempDatabase } from "../../testing/postgres.js";
import { MonitorScheduler, type TickOutcome } from "./monitor-scheduler.js";

const HOUR = 3_600_000;
const MINUTE = 60_000;

describe("monitor scheduler: two replicas on PostgreSQL", () => {
  const { test, subject } = backendSuite(async () => {
    const temp = await createTempDatabase();
    if ("skip" in temp) return temp;
    // the first replica upgrades the empty database; the second opens it as it is
    const a = await startMonitorServer({ backendStoreUri: temp.url });
    const b = await startMonitorServer({ backendStoreUri: temp.url });
    return {
      a,
      b,
      async cleanup() {
        await a.stop();
        await b.stop();
        await temp.drop();
      },
    };
  });

  async function windowEnds(server: MonitorTestServer, monitor: string): Promise<number[]> {
    const answer = await call(server.url, "GET", `/api/2.0/slipway/monitors/${monitor}/windows?max_results=1000`);
    assert.equal(answer.status, 200, answer.text);
    return (answer.json.windows as { end_ms: number }[]).map((w) => w.end_ms).reverse();
  }

  test("each window is evaluated once, missed ticks collapse to the latest, stale claims are taken over", async () => {
    const { a, b } = subject();
    const model = await seedModel(a.client, unique("sched"));
    const names = [0, 1, 2].map((i) => `${model.name}-m${i}`);
    for (const name of names) {
      const created = await call(a.url, "POST", "/api/2.0/slipway/monitors", {
        name,
        model_name: model.name,
        model_alias: "champion",
        window_ms: HOUR,
        schedule: "*/10 * * * *",
      });
      assert.equal(created.status, 200, created.text);
    }
    const disabled = `${model.name}-off`;
    await call(a.url, "POST", "/api/2.0/slipway/monitors", {
      name: disabled,
      model_name: model.name,
      model_version: "1",
      window_ms: HOUR,
      schedule: "* * * * *",
      enabled: false,
    });

    let clock = Math.ceil(Date.now() / (10 * MINUTE)) * 10 * MINUTE + 10 * MINUTE + 5_000;
    // two schedulers per replica: four claimants ticking at the same instant
    const replicas = [a, b, a, b].map(
      (server) => new MonitorScheduler({ monitors: server.monitors, now: () => clock }),
    );
    const mine = (outcomes: TickOutcome[][]): TickOutcome[] =>
      outcomes.flat().filter((o) => o.monitor.startsWith(model.name));

    // the latest tick is before the monitors were created: nothing to evaluate
    const early = Date.now() - 11 * MINUTE;
    const earlyOutcomes = await new MonitorScheduler({ monitors: a.monitors, now: () => early }).tick();
    assert.deepEqual(mine([earlyOutcomes]), []);

    const expected: number[] = [];
    for (let round = 0; round < 4; round++) {
      // all tick at once: each monitor's window is evaluated by exactly one of them
      const outcomes = await Promise.all(replicas.map((r) => r.tick()));
      const due = Math.floor(clock / (10 * MINUTE)) * 10 * MINUTE;
      expected.push(due);
      const evaluated = mine(outcomes).filter((o) => o.result === "evaluated");
      assert.deepEqual(
        evaluated.map((o) => o.monitor).sort(),
        names,
        `round ${round}: ${JSON.stringify(mine(outcomes))}`,
      );
      assert.ok(evaluated.every((o) => o.window_end === due));
      clock += 10 * MINUTE;
    }
    // a scheduler that just started (no memory of what it did) skips what is done too
    const fresh = new MonitorScheduler({ monitors: b.monitors, now: () => clock - 10 * MINUTE });
    assert.deepEqual(
      mine([await fresh.tick()]).map((o) => o.result),
      names.map(() => "claimed"),
    );

    // down for 5 hours: only the latest tick is evaluated
    clock += 5 * HOUR;
    const after = mine(await Promise.all(replicas.map((r) => r.tick()))).filter((o) => o.result === "evaluated");
    const latest = Math.floor(clock / (10 * MINUTE)) * 10 * MINUTE;
    expected.push(latest);
    assert.deepEqual(
      after.map((o) => o.window_end),
      names.map(() => latest),
    );

    for (const name of names) {
      const ends = await windowEnds(a, name);
      assert.deepEqual(ends, expected, name);
      const onB = await windowEnds(b, name);
      assert.deepEqual(onB, expected);
    }
    assert.deepEqual(await windowEnds(a, disabled), []);

    // a replica died holding a claim: once stale (15 minutes by default), the next tick takes it over
    clock += 10 * MINUTE;
    const next = Math.floor(clock / (10 * MINUTE)) * 10 * MINUTE;
    const monitorId = (await a.db.get<{ monitor_id: string }>("SELECT monitor_id FROM monitors WHERE name = ?", [
      names[0]!,
    ]))!.monitor_id;
    await a.db.run(
      `INSERT INTO monitor_windows (monitor_id, window_start, window_end, triggered_by, status, claimed_at)
       VALUES (?, ?, ?, 'schedule', 'running', ?)`,
      [monitorId, next - HOUR, next, Date.now() - 60_000],
    );
    const held = mine([await replicas[0]!.tick()]);
    assert.deepEqual(
      held.filter((o) => o.monitor === names[0]).map((o) => o.result),
      ["claimed"],
      "a fresh claim is respected",
    );
    await a.db.run("UPDATE monitor_windows SET claimed_at = ? WHERE monitor_id = ? AND window_end = ?", [
      Date.now() - 16 * MINUTE,
      monitorId,
      next,
    ]);
    const takeover = mine([await replicas[1]!.tick()]);
    assert.deepEqual(
      takeover.filter((o) => o.monitor === names[0]).map((o) => o.result),
      ["evaluated"],
    );
    const row = await a.db.get<{ status: string; n: number }>(
      "SELECT status, (SELECT COUNT(*) FROM monitor_windows WHERE monitor_id = ? AND window_end = ?) AS n FROM monitor_windows WHERE monitor_id = ? AND window_end = ?",
      [monitorId, next, monitorId, next],
    );
    assert.deepEqual([row!.status, Number(row!.n)], ["empty", 1]);
    for (const r of replicas) await r.stop();
  });
});
