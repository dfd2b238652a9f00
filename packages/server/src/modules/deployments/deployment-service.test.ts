/**
 * Deployments through the service, on SQLite and on PostgreSQL, with a clock the tests move: a canary stepped up and
 * promoted (the alias moves, the alias history has the reason), rolled back on errors, on latency, on a version that
 * failed to load and after doing worse than the primary for three intervals (alias untouched, no history row), by
 * hand (and after a promotion: the alias moves back); stale and repeated reports; two replicas deciding at once;
 * a new canary on an existing deployment; a shadow that failed to load.
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import {
  DEPLOYMENT_LATENCY_BOUNDS_MS,
  emptyLatencyBuckets,
  latencyBucket,
  type DeploymentStatsReport,
  type VersionStatsEntry,
} from "@slipway/protocol";
import { backendSuite, rejectsWith, unique } from "../../testing/contract.js";
import { openPostgresTestDatabase, openSqliteTestDatabase, type TestDatabase } from "../../testing/databases.js";
import { RegistryService } from "../registry/registry-service.js";
import { DeploymentService } from "./deployment-service.js";

interface Subject {
  t: TestDatabase;
  registry: RegistryService;
  clock: { now: number };
  service: DeploymentService;
  cleanup(): Promise<void>;
}

async function subject(open: () => Promise<TestDatabase | { skip: string }>): Promise<Subject | { skip: string }> {
  const t = await open();
  if ("skip" in t) return t;
  const clock = { now: 1_800_000_000_000 };
  const registry = new RegistryService({ db: t.db, now: () => clock.now });
  const service = new DeploymentService({ db: t.db, registry, now: () => clock.now });
  return { t, registry, clock, service, cleanup: () => t.cleanup() };
}

function buckets(ms: number, n: number): number[] {
  const b = emptyLatencyBuckets();
  b[latencyBucket(ms)] = n;
  return b;
}

function entry(
  revision: number,
  role: VersionStatsEntry["role"],
  version: string,
  requests: number,
  options: { errors?: number; ms?: number; lastError?: string } = {},
): VersionStatsEntry {
  return {
    revision,
    role,
    version,
    requests,
    errors: options.errors ?? 0,
    client_errors: 0,
    latency_ms: buckets(options.ms ?? 2, requests),
    ...(options.lastError === undefined ? {} : { last_error: options.lastError }),
  };
}

let reports = 0;
function report(entries: VersionStatsEntry[], models: DeploymentStatsReport["models"] = []): DeploymentStatsReport {
  return { server: "test:1", report_id: `r${++reports}`, entries, models };
}

function suite(name: string, open: () => Promise<TestDatabase | { skip: string }>): void {
  describe(`deployments service: ${name}`, () => {
    const { test, subject: s } = backendSuite(() => subject(open));

    /** A model with versions 1..n, `champion` → 1, `challenger` → 2. */
    async function model(n = 3): Promise<string> {
      const m = unique("spam");
      const { registry } = s();
      await registry.createRegisteredModel({ name: m });
      for (let i = 0; i < n; i++) await registry.createModelVersion({ name: m, source: `s3://b/${m}/${i}` });
      await registry.setRegisteredModelAlias({ name: m, alias: "champion", version: "1" });
      await registry.setRegisteredModelAlias({ name: m, alias: "challenger", version: "2" });
      return m;
    }

    async function canary(m: string, extra: Record<string, unknown> = {}): Promise<string> {
      const name = unique("dep");
      await s().service.create({
        name,
        model_uri: `models:/${m}@champion`,
        canary: {
          model_uri: `models:/${m}@challenger`,
          weight: 10,
          step: 45,
          interval_ms: 1000,
          min_requests: 20,
          ...extra,
        },
      });
      return name;
    }

    async function championHistory(m: string) {
      return (await s().registry.getAliasHistory({ name: m, alias: "champion" })).history;
    }

    test("a canary doing well is stepped up every interval and promoted at 100%, with the reason in the alias history", async () => {
      const { service, clock } = s();
      const m = await model();
      const name = await canary(m);
      let d = await service.get(name);
      assert.equal(d.strategy, "canary");
      assert.equal(d.primary_version, "1");
      assert.deepEqual([d.canary?.version, d.canary?.weight, d.canary?.state, d.revision], ["2", 10, "running", 1]);
      assert.equal(d.report_interval_ms, 250);
      await service.report(name, report([entry(1, "primary", "1", 180), entry(1, "canary", "2", 20, { ms: 3 })]));
      clock.now += 500;
      assert.equal(await service.evaluate((await service.activeCanaries()).find((r) => r.name === name)!), "none");
      clock.now += 500;
      const row = (await service.activeCanaries()).find((r) => r.name === name)!;
      assert.equal(await service.evaluate(row), "step");
      d = await service.get(name);
      assert.deepEqual([d.canary?.weight, d.revision], [55, 2]);
      assert.match(d.canary!.reason!, /^canary: 0% errors, p99 \d+(\.\d)? ms over 20 requests at 10% \(primary: /);
      assert.deepEqual(d.stats, [], "the new revision starts with no traffic");
      // a late report of the old revision is not counted for the new one; a repeated report counts once
      const r = report([entry(1, "canary", "2", 500, { errors: 500 }), entry(2, "canary", "2", 1200, { ms: 12 })]);
      await service.report(name, r);
      await service.report(name, r);
      await service.report(name, report([entry(2, "primary", "1", 1000, { ms: 12 })]));
      d = await service.get(name);
      assert.deepEqual(
        d.stats?.map((x) => [x.role, x.version, x.requests, x.errors]),
        [
          ["primary", "1", 1000, 0],
          ["canary", "2", 1200, 0],
        ],
      );
      clock.now += 1000;
      await service.evaluate((await service.activeCanaries()).find((x) => x.name === name)!);
      d = await service.get(name);
      assert.deepEqual([d.canary?.state, d.canary?.weight, d.primary_version, d.revision], ["promoted", 100, "2", 3]);
      const [moved] = await championHistory(m);
      assert.equal(moved?.to_version, "2");
      assert.equal(moved?.from_version, "1");
      assert.match(moved.reason!, /^canary: 0% errors, p99 1\d(\.\d)? ms over 1,200 requests at 55%$/);
      const { events } = await service.events(name, {});
      assert.deepEqual(
        events.map((e) => [e.kind, e.from_weight, e.to_weight]),
        [
          ["promoted", 55, 100],
          ["step", 10, 55],
          ["created", undefined, 10],
        ],
      );
      assert.match(events[0]!.reason, /champion moved from version 1 to 2$/);
      assert.equal(events[0]!.stats?.find((x) => x.role === "canary")?.requests, 1200);
      assert.equal(
        (await service.activeCanaries()).some((x) => x.name === name),
        false,
      );
    });

    test("errors above the limit roll the canary back at once: weight 0, alias untouched, reason in the event log", async () => {
      const { service } = s();
      const m = await model();
      const name = await canary(m);
      const before = await championHistory(m);
      await service.report(
        name,
        report([
          entry(1, "primary", "1", 50),
          entry(1, "canary", "2", 3, { errors: 3, lastError: "predictor exploded" }),
        ]),
      );
      assert.equal(await service.evaluate((await service.activeCanaries()).find((r) => r.name === name)!), "rollback");
      const d = await service.get(name);
      assert.deepEqual([d.canary?.state, d.canary?.weight, d.primary_version], ["rolled_back", 0, "1"]);
      assert.match(
        d.canary!.reason!,
        /^canary: 100% errors, p99 .* over 3 requests at 10%: error rate above the limit of 1% \(3 failed\); last error: predictor exploded$/,
      );
      assert.deepEqual(await championHistory(m), before, "no alias moved, so no alias history row");
      const { events } = await service.events(name, { max_results: 1 });
      assert.equal(events[0]?.kind, "rolled_back");
    });

    test("one error within the allowance does not roll back", async () => {
      const { service } = s();
      const m = await model();
      const name = await canary(m, { max_error_rate: 0.05 });
      await service.report(name, report([entry(1, "canary", "2", 5, { errors: 1 })]));
      assert.equal(await service.evaluate((await service.activeCanaries()).find((r) => r.name === name)!), "none");
    });

    test("a p99 above the limit rolls back once there are enough requests", async () => {
      const { service } = s();
      const m = await model();
      const name = await canary(m, { max_latency_p99_ms: 50 });
      await service.report(name, report([entry(1, "canary", "2", 10, { ms: 400 })]));
      const row = () => service.activeCanaries().then((rows) => rows.find((r) => r.name === name)!);
      assert.equal(await service.evaluate(await row()), "none", "10 requests are too few to judge a p99");
      await service.report(name, report([entry(1, "canary", "2", 10, { ms: 400 })]));
      assert.equal(await service.evaluate(await row()), "rollback");
      assert.match((await service.get(name)).canary!.reason!, /p99 above the limit of 50 ms$/);
    });

    test("a canary worse than the primary is held, then rolled back after three intervals", async () => {
      const { service, clock } = s();
      const m = await model();
      const name = await canary(m);
      await service.report(
        name,
        report([entry(1, "primary", "1", 200, { ms: 2 }), entry(1, "canary", "2", 120, { ms: 40 })]),
      );
      const row = () => service.activeCanaries().then((rows) => rows.find((r) => r.name === name)!);
      clock.now += 1000;
      assert.equal(await service.evaluate(await row()), "hold");
      assert.equal(await service.evaluate(await row()), "none", "held once per interval");
      clock.now += 1000;
      assert.equal(await service.evaluate(await row()), "hold");
      clock.now += 1000;
      assert.equal(await service.evaluate(await row()), "rollback");
      const d = await service.get(name);
      assert.match(d.canary!.reason!, /worse than the primary for 3 intervals \(p99 .* against the primary's .*\)/);
      const { events } = await service.events(name, {});
      assert.deepEqual(
        events.map((e) => e.kind),
        ["rolled_back", "hold", "hold", "created"],
      );
    });

    test("a canary version that failed to load on a server is rolled back with the server's message", async () => {
      const { service } = s();
      const m = await model();
      const name = await canary(m);
      const d = await service.report(
        name,
        report(
          [],
          [{ role: "canary", version: "2", state: "failed", error: "Cannot load 'models:/x/2': bad pipeline" }],
        ),
      );
      assert.deepEqual([d.canary?.state, d.canary?.weight, d.revision], ["rolled_back", 0, 2]);
      assert.equal(
        d.canary?.reason,
        "canary version 2 failed to load on test:1: Cannot load 'models:/x/2': bad pipeline",
      );
      const got = await service.get(name);
      assert.deepEqual(got.servers?.[0]?.models, [
        { role: "canary", version: "2", state: "failed", error: "Cannot load 'models:/x/2': bad pipeline" },
      ]);
    });

    test("promote and roll back by hand; a rollback after the promotion moves the alias back", async () => {
      const { service } = s();
      const m = await model();
      const name = await canary(m);
      await service.report(name, report([entry(1, "canary", "2", 40)]));
      let d = await service.promote(name, { reason: "looks good to me" });
      assert.deepEqual([d.canary?.state, d.primary_version], ["promoted", "2"]);
      assert.match(
        (await championHistory(m))[0]!.reason!,
        /^looks good to me; canary: 0% errors, .* over 40 requests at 10%$/,
      );
      await rejectsWith(
        service.promote(name, {}),
        "INVALID_STATE_TRANSITION",
        400,
        /has no running canary .*was promoted/,
      );
      d = await service.rollback(name, { reason: "complaints" });
      assert.deepEqual([d.canary?.state, d.primary_version], ["rolled_back", "1"]);
      assert.match((await championHistory(m))[0]!.reason!, /complaints \(canary version 2 was promoted\)/);
      await rejectsWith(service.rollback(name, {}), "INVALID_STATE_TRANSITION", 400, /nothing to roll back/);
      // a second canary (version 3) on the same deployment, then rolled back by hand
      d = await service.update(name, { canary: { model_uri: `models:/${m}/3`, weight: 20 } });
      assert.deepEqual([d.canary?.version, d.canary?.state, d.canary?.weight], ["3", "running", 20]);
      await rejectsWith(
        service.update(name, { canary: { model_uri: `models:/${m}/2`, weight: 20 } }),
        "INVALID_STATE_TRANSITION",
        400,
        /is running a canary \(version 3 at 20%\); promote it or roll it back first/,
      );
      d = await service.rollback(name, {});
      assert.deepEqual([d.canary?.state, d.primary_version], ["rolled_back", "1"]);
    });

    test("two replicas deciding at once: one step, one event", async () => {
      const { service, clock, t, registry } = s();
      const other = new DeploymentService({ db: t.db, registry, now: () => clock.now });
      const m = await model();
      const name = await canary(m);
      await service.report(name, report([entry(1, "canary", "2", 30)]));
      clock.now += 1000;
      const row = (await service.activeCanaries()).find((r) => r.name === name)!;
      await Promise.all([service.evaluate(row), other.evaluate(row)]);
      const { events } = await service.events(name, {});
      assert.deepEqual(
        events.map((e) => e.kind),
        ["step", "created"],
      );
      assert.equal((await service.get(name)).revision, 2);
    });

    test("a shadow that failed to load is marked failed; shadow statistics are summed", async () => {
      const { service } = s();
      const m = await model();
      const name = unique("dep");
      await service.create({ name, model_uri: `models:/${m}@champion`, shadow: { model_uri: `models:/${m}/3` } });
      await service.report(
        name,
        report([{ ...entry(1, "shadow", "3", 10), compared_rows: 10, agreed_rows: 9, dropped: 2 }]),
      );
      let d = await service.get(name);
      assert.equal(d.strategy, "shadow");
      const shadow = d.stats?.find((x) => x.role === "shadow");
      assert.deepEqual(
        [shadow?.compared_rows, shadow?.agreed_rows, shadow?.agreement, shadow?.dropped],
        [10, 9, 0.9, 2],
      );
      d = await service.report(name, report([], [{ role: "shadow", version: "3", state: "failed", error: "no" }]));
      assert.deepEqual([d.shadow?.state, d.shadow?.error], ["failed", "version 3 failed to load on test:1: no"]);
      assert.equal((await service.events(name, {})).events[0]?.kind, "shadow_failed");
    });

    test("old statistics rows are folded together, with the same totals", async () => {
      const { service, clock, t } = s();
      const m = await model();
      const name = unique("dep");
      await service.create({ name, model_uri: `models:/${m}@champion`, shadow: { model_uri: `models:/${m}/3` } });
      for (let i = 0; i < 5; i++) {
        await service.report(name, report([entry(1, "primary", "1", 10, { ms: 1 + i }), entry(1, "shadow", "3", 2)]));
      }
      clock.now += 61_000;
      await service.report(name, report([entry(1, "primary", "1", 1)]));
      const before = (await service.get(name)).stats;
      assert.equal(await service.compact(), 8);
      const after = (await service.get(name)).stats!;
      assert.deepEqual(after, before);
      assert.deepEqual(
        after.map((x) => [x.role, x.requests]),
        [
          ["primary", 51],
          ["shadow", 10],
        ],
      );
      const { id } = (await t.db.get<{ id: string }>(`SELECT deployment_id AS id FROM deployments WHERE name = ?`, [
        name,
      ]))!;
      const rows = await t.db.all(`SELECT report_id FROM deployment_stats WHERE deployment_id = ?`, [id]);
      assert.equal(rows.length, 3);
    });

    test("the latency bounds are increasing", () => {
      const b = DEPLOYMENT_LATENCY_BOUNDS_MS;
      for (let i = 1; i < b.length; i++) assert.ok(b[i]! > b[i - 1]!);
      return Promise.resolve();
    });
  });
}

suite("sqlite", () => openSqliteTestDatabase("slipway-deployments-"));
suite("postgres", () => openPostgresTestDatabase("slipway-deployments-"));
