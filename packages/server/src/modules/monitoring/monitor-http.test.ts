/**
 * Monitors through the real server, on SQLite and on PostgreSQL: definitions and their errors, evaluation of clean,
 * drifted and concept-drifted windows (feature and prediction drift, performance against the run's metrics,
 * latency), error rates of failed requests (left out of drift, performance and latency), the report, the gauges on
 * /metrics, bad windows as findings or errors (never a crash, never stopping the other monitors), and alerts that fire
 * once per incident and resolve, delivered signed to a real HTTP receiver.
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import fc from "fast-check";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { Monitor, MonitorAlert, MonitorWindow, MonitorWindowInfo } from "@slipway/protocol";
import { verifyWebhookSignature } from "@slipway/sdk";
import { backendSuite, unique } from "../../testing/contract.js";
import {
  call,
  logFailures,
  logTraffic,
  seedModel,
  startMonitorServer,
  startReceiver,
  syntheticRows,
  type Answer,
  type MonitorTestServer,
} from "../../testing/monitors.js";
import { createTempDatabase } from "../../testing/postgres.js";
import type { AlertTransition } from "./monitor-service.js";
import { MonitorScheduler } from "./monitor-scheduler.js";

const API = "/api/2.0/slipway";
const HOUR = 3_600_000;
/** Windows end on whole hours in the past (alias history says nothing then: the alias's current version is used). */
const T = Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR;
const SECRET = "alert-secret";

function conforms(schema: TSchema, value: unknown): void {
  const errors = [...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`);
  assert.deepEqual(errors, [], JSON.stringify(value).slice(0, 400));
}

interface WindowJson {
  window_id: number;
  status: string;
  rows: number;
  labelled: number;
  versions: string[];
  dataset_drift?: boolean;
  share?: number;
  error?: string;
  metrics: Record<string, number>;
  summary: {
    findings: { column?: string; kind: string; message: string }[];
    feature_drift?: {
      dataset_drift: boolean;
      share: number;
      current_rows: number;
      columns: { column: string; drift: boolean | null; test?: string }[];
    };
    prediction_drift?: { columns: { column: string }[] };
    performance?: {
      labelled: number;
      metrics: Record<string, { value: number | null; baseline: number | null; degraded: boolean | null }>;
    };
    latency?: { rows: number; p50_ms: number; p99_ms: number };
    errors?: {
      requests: number;
      server_errors: number;
      client_errors: number;
      error_rate: number;
      client_error_rate: number;
    };
    alerts: { rule: string; active: boolean | null }[];
    reference?: { uri: string };
  };
}

function httpSuite(name: string, make: () => Promise<MonitorTestServer | { skip: string }>): void {
  describe(`monitors over HTTP: ${name}`, () => {
    const { test, subject } = backendSuite(async () => {
      const server = await make();
      return "skip" in server ? server : { server, cleanup: () => server.stop() };
    });
    const server = () => subject().server;
    const req = (method: string, path: string, body?: unknown): Promise<Answer> =>
      call(server().url, method, `${API}${path}`, body);
    const run = async (monitor: string, end: number): Promise<WindowJson> => {
      const answer = await req("POST", `/monitors/${monitor}/run`, { end_ms: end });
      assert.equal(answer.status, 200, answer.text);
      conforms(MonitorWindow, answer.json.window);
      return answer.json.window as WindowJson;
    };
    const create = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const answer = await req("POST", "/monitors", body);
      assert.equal(answer.status, 200, answer.text);
      conforms(Monitor, answer.json.monitor);
      return answer.json.monitor as Record<string, unknown>;
    };

    test("creates, gets, lists, updates and deletes monitors; bad definitions name the field", async () => {
      const model = unique("crud");
      const base = { model_name: model, model_alias: "champion", window_ms: HOUR, schedule: "*/5 * * * *" };
      const a = await create({ name: `${model}-a`, ...base, webhook: { url: "http://127.0.0.1:9/x", secret: "s" } });
      assert.equal(a.enabled, true);
      assert.deepEqual(a.reference, { source: "model" });
      assert.deepEqual(a.webhook, { url: "http://127.0.0.1:9/x", has_secret: true });
      assert.equal(typeof a.next_run_ms, "number");
      assert.equal(JSON.stringify(a).includes('"s"'), false);
      await create({ name: `${model}-b`, ...base, model_alias: undefined, model_version: "2", enabled: false });
      await create({ name: `${model}-c`, ...base });

      const again = await req("POST", "/monitors", { name: `${model}-a`, ...base });
      assert.equal(again.status, 400);
      assert.equal(again.json.error_code, "RESOURCE_ALREADY_EXISTS");

      const got = await req("GET", `/monitors/${model}-b`);
      assert.equal((got.json.monitor as Record<string, unknown>).model_version, "2");
      assert.equal("next_run_ms" in (got.json.monitor as object), false);

      const page1 = await req("GET", `/monitors?model_name=${model}&max_results=2`);
      const names1 = (page1.json.monitors as { name: string }[]).map((m) => m.name);
      assert.deepEqual(names1, [`${model}-a`, `${model}-b`]);
      const page2 = await req(
        "GET",
        `/monitors?model_name=${model}&max_results=2&page_token=${String(page1.json.next_page_token)}`,
      );
      assert.deepEqual(
        (page2.json.monitors as { name: string }[]).map((m) => m.name),
        [`${model}-c`],
      );
      assert.equal(page2.json.next_page_token, undefined);

      const updated = await req("PATCH", `/monitors/${model}-a`, {
        schedule: "0 */2 * * *",
        alerts: [{ name: "share", when: "drift_share", threshold: 0.3 }],
        webhook: null,
      });
      assert.equal(updated.status, 200, updated.text);
      const u = updated.json.monitor as Record<string, unknown>;
      assert.equal(u.schedule, "0 */2 * * *");
      assert.equal(u.webhook, undefined);
      assert.equal((u.alerts as unknown[]).length, 1);

      const bad: [Record<string, unknown>, RegExp][] = [
        [{ ...base }, /Missing value for required parameter 'name'/],
        [{ name: "n1", ...base, window_ms: 5 }, /parameter 'window_ms': expected an integer from 60000/],
        [{ name: "n1", ...base, schedule: "*/5 * * *" }, /parameter 'schedule': expected 5 fields/],
        [{ name: "n1", ...base, schedule: "61 * * * *" }, /parameter 'schedule': minute field '61'/],
        [
          { name: "n1", ...base, model_version: "3" },
          /Exactly one of the parameters 'model_alias' and 'model_version'/,
        ],
        [{ name: "n1", ...base, windw_ms: 1 }, /Unknown parameter 'windw_ms'/],
        [{ name: "n1", ...base, alerts: [{ name: "a", when: "drift_share" }] }, /'alerts\[0\]\.threshold'/],
        [
          { name: "n1", ...base, alerts: [{ name: "a", when: "nope" }] },
          /parameter 'alerts\[0\]\.when': expected one of dataset_drift/,
        ],
        [{ name: "n1", ...base, alerts: [{ name: "a", when: "metric_drop" }] }, /'alerts\[0\]\.metric'/],
        [{ name: "n1", ...base, alerts: [{ name: "a", when: "error_rate" }] }, /'alerts\[0\]\.threshold'/],
        [{ name: "n1", ...base, reference: { source: "artifact" } }, /'reference\.uri'/],
        [{ name: "n1", ...base, reference: { uri: "s3://x/y.csv" } }, /parameter 'reference\.uri': expected runs:\//],
        [{ name: "n1", ...base, drift: { method: "magic" } }, /parameter 'drift\.method': expected one of/],
        [{ name: "n1", ...base, drift: { drift_share: 2 } }, /'drift\.drift_share': expected a number from 0 to 1/],
        [{ name: "n1", ...base, webhook: { url: "ftp://x" } }, /'webhook\.url': only http and https/],
        [{ name: "a/b", ...base }, /parameter 'name'/],
      ];
      for (const [body, message] of bad) {
        const answer = await req("POST", "/monitors", body);
        assert.equal(answer.status, 400, `${JSON.stringify(body)} → ${answer.text}`);
        assert.equal(answer.json.error_code, "INVALID_PARAMETER_VALUE");
        assert.match(answer.json.message as string, message);
      }
      const badPatch = await req("PATCH", `/monitors/${model}-a`, { enabled: "yes" });
      assert.equal(badPatch.status, 400);
      assert.match(badPatch.json.message as string, /parameter 'enabled': expected true or false/);
      assert.equal((await req("GET", "/monitors/none-such")).json.error_code, "RESOURCE_DOES_NOT_EXIST");

      assert.equal((await req("DELETE", `/monitors/${model}-c`)).status, 200);
      assert.equal((await req("GET", `/monitors/${model}-c`)).status, 404);
      assert.equal((await req("DELETE", `/monitors/${model}-c`)).status, 404);
    });

    test("never answers 500 to arbitrary definitions (property test)", async () => {
      const name = unique("fuzz");
      await create({ name, model_name: name, model_version: "1", window_ms: HOUR, schedule: "@hourly" });
      const scalar = fc.oneof(
        fc.string(),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constantFrom("*/5 * * * *", "runs:/x/y.csv", "dataset_drift", "metric_drop", "accuracy", ">=", "ks"),
      );
      const value = fc.oneof(
        scalar,
        fc.array(scalar, { maxLength: 3 }),
        fc.dictionary(
          fc.constantFrom(
            "name",
            "when",
            "metric",
            "feature",
            "threshold",
            "op",
            "source",
            "uri",
            "url",
            "secret",
            "method",
            "thresholds",
            "baseline",
            "positive_label",
          ),
          scalar,
          { maxKeys: 4 },
        ),
        fc.array(
          fc.dictionary(fc.constantFrom("name", "when", "metric", "threshold", "op", "feature"), scalar, {
            maxKeys: 4,
          }),
          { maxLength: 2 },
        ),
      );
      const fields = fc.constantFrom(
        "name",
        "model_name",
        "model_alias",
        "model_version",
        "window_ms",
        "schedule",
        "reference",
        "drift",
        "metrics",
        "alerts",
        "webhook",
        "enabled",
        "end_ms",
      );
      const body = fc.oneof(fc.dictionary(fields, value, { maxKeys: 7 }), fc.jsonValue());
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("POST /monitors", `PATCH /monitors/${name}`, `POST /monitors/${name}/run`),
          body,
          async (route, b) => {
            const [method, path] = route.split(" ") as [string, string];
            const answer = await req(method, path, b);
            assert.ok(answer.status < 500, `${route} ${JSON.stringify(b)} → ${answer.status} ${answer.text}`);
            if (answer.status >= 400) assert.equal(typeof answer.json.message, "string");
          },
        ),
        { numRuns: 300, seed: 11 },
      );
    });

    test("evaluates clean, drifted and concept-drifted windows, with report and gauges", async () => {
      const model = await seedModel(server().client, unique("eval"));
      const name = `${model.name}-mon`;
      await logTraffic(server().url, model, syntheticRows(400, "clean", 1), {
        start: T,
        end: T + HOUR,
        labelShare: 0.6,
      });
      await logTraffic(server().url, model, syntheticRows(400, "drifted", 2), {
        start: T + HOUR,
        end: T + 2 * HOUR,
        labelShare: 0.5,
      });
      await logTraffic(server().url, model, syntheticRows(400, "concept", 3), {
        start: T + 2 * HOUR,
        end: T + 3 * HOUR,
        labelShare: 0.8,
        latencyMs: 900,
      });
      await create({
        name,
        model_name: model.name,
        model_alias: "champion",
        window_ms: HOUR,
        schedule: "0 * * * *",
        alerts: [
          { name: "drift", when: "dataset_drift" },
          { name: "accuracy", when: "metric_drop", metric: "accuracy" },
          { name: "slow", when: "latency_p99_ms", threshold: 500 },
        ],
      });

      const clean = await run(name, T + HOUR);
      assert.equal(clean.status, "ok");
      assert.equal(clean.rows, 400);
      assert.equal(clean.labelled, 240);
      assert.deepEqual(clean.versions, ["1"]);
      assert.equal(clean.dataset_drift, false);
      assert.equal(clean.summary.reference?.uri, `models:/${model.name}/1/reference_data.jsonl`);
      assert.deepEqual(clean.summary.feature_drift!.columns.map((c) => c.column).sort(), ["channel", "color", "x"]);
      assert.deepEqual(clean.summary.prediction_drift!.columns.map((c) => c.column).sort(), [
        "prediction.label",
        "prediction.p",
      ]);
      const acc = clean.summary.performance!.metrics.accuracy!;
      assert.equal(acc.baseline, model.baselineAccuracy);
      assert.equal(acc.degraded, false);
      assert.equal(clean.summary.performance!.metrics.f1!.baseline, 0.85, "test_f1 is the f1 baseline");
      assert.ok(clean.metrics.roc_auc! > 0.8, JSON.stringify(clean.metrics));
      assert.equal(clean.metrics.latency_p50_ms, 9.5);
      assert.ok(clean.summary.findings.some((f) => f.kind === "constant_column" && f.column === "channel"));
      assert.deepEqual(
        clean.summary.alerts.map((a) => [a.rule, a.active]),
        [
          ["drift", false],
          ["accuracy", false],
          ["slow", false],
        ],
      );

      const drifted = await run(name, T + 2 * HOUR);
      assert.equal(drifted.dataset_drift, true);
      assert.equal(drifted.share, 2 / 3, "x and color of x, color, channel");
      const byColumn = Object.fromEntries(drifted.summary.feature_drift!.columns.map((c) => [c.column, c.drift]));
      assert.deepEqual(byColumn, { x: true, color: true, channel: false });

      const concept = await run(name, T + 3 * HOUR);
      assert.equal(concept.dataset_drift, false);
      const drop = concept.summary.performance!.metrics.accuracy!;
      assert.equal(drop.degraded, true, JSON.stringify(drop));
      assert.ok(drop.value! < model.baselineAccuracy - 0.1);
      assert.ok(concept.metrics.latency_p99_ms! > 900);
      assert.deepEqual(
        concept.summary.alerts.map((a) => [a.rule, a.active]),
        [
          ["drift", false],
          ["accuracy", true],
          ["slow", true],
        ],
      );

      // windows: newest first, paged
      const page = await req("GET", `/monitors/${name}/windows?max_results=2`);
      assert.equal(page.status, 200);
      const windows = page.json.windows as { window_id: number; end_ms: number }[];
      for (const w of windows) conforms(MonitorWindowInfo, w);
      assert.deepEqual(
        windows.map((w) => w.end_ms),
        [T + 3 * HOUR, T + 2 * HOUR],
      );
      const rest = await req(
        "GET",
        `/monitors/${name}/windows?max_results=2&page_token=${String(page.json.next_page_token)}`,
      );
      assert.deepEqual(
        (rest.json.windows as { end_ms: number }[]).map((w) => w.end_ms),
        [T + HOUR],
      );
      const latest = await req("GET", `/monitors/${name}/windows/latest`);
      assert.equal((latest.json.window as WindowJson).window_id, concept.window_id);
      const one = await req("GET", `/monitors/${name}/windows/${drifted.window_id}`);
      assert.equal((one.json.window as WindowJson).dataset_drift, true);
      assert.equal((await req("GET", `/monitors/${name}/windows/99999999`)).status, 404);
      assert.equal((await req("GET", `/monitors/${name}/windows/abc`)).status, 400);

      const report = await req("GET", `/monitors/${name}/windows/${concept.window_id}/report`);
      assert.equal(report.status, 200);
      assert.match(report.type, /text\/html/);
      assert.match(report.text, new RegExp(`Monitor ${name}`));
      assert.match(report.text, /Trend over the last 3 window/);
      assert.match(report.text, /<svg/);
      assert.match(report.text, /degraded/);
      assert.doesNotMatch(report.text, /<script/);

      // the gauges, read from the database at scrape time
      const metrics = await fetch(`${server().url}/metrics`).then((r) => r.text());
      const labels = `monitor="${name}",model="${model.name}",version="1"`;
      assert.match(metrics, new RegExp(`slipway_feature_drift_score\\{${labels},feature="x"\\} [0-9.e-]+`));
      assert.match(metrics, new RegExp(`slipway_feature_drift\\{${labels},feature="x"\\} 0`));
      assert.match(metrics, new RegExp(`slipway_dataset_drift\\{${labels}\\} 0`));
      assert.match(metrics, new RegExp(`slipway_drift_share\\{${labels}\\} 0`));
      assert.match(metrics, new RegExp(`slipway_model_metric\\{${labels},metric="accuracy"\\} 0\\.[0-9]+`));
      assert.match(metrics, new RegExp(`slipway_model_metric\\{${labels},metric="latency_p99_ms"\\} 9[0-9][0-9]`));
      assert.match(metrics, new RegExp(`slipway_model_metric_baseline\\{${labels},metric="accuracy"\\} 0\\.[0-9]+`));
      assert.match(metrics, new RegExp(`slipway_monitor_window_rows\\{${labels}\\} 400`));
      assert.match(metrics, new RegExp(`slipway_prediction_drift_score\\{${labels},column="prediction.p"\\}`));
      assert.match(metrics, new RegExp(`slipway_monitor_evaluations_total\\{monitor="${name}",status="ok"\\} 3`));
    });

    test("bad windows are findings or errors, and one failing monitor does not stop the others", async () => {
      const model = await seedModel(server().client, unique("bad"));
      const noRef = await seedModel(server().client, unique("noref"), { reference: false });
      const base = { window_ms: HOUR, schedule: "0 * * * *", model_alias: "champion" };
      const name = `${model.name}-mon`;
      await create({
        name,
        model_name: model.name,
        ...base,
        alerts: [{ name: "rows", when: "min_rows", threshold: 10 }],
      });

      const empty = await run(name, T + 10 * HOUR);
      assert.equal(empty.status, "empty");
      assert.equal(empty.rows, 0);
      assert.deepEqual(
        empty.summary.findings.map((f) => f.kind),
        ["empty_window"],
      );
      assert.deepEqual(
        empty.summary.alerts.map((a) => [a.rule, a.active]),
        [["rows", true]],
      );
      const alerts = await req("GET", `/monitors/${name}/alerts?state=firing`);
      assert.deepEqual(
        (alerts.json.alerts as { rule: string }[]).map((a) => a.rule),
        ["rows"],
      );

      // x all missing, color absent, channel constant, an input the reference never had, and a non-object output
      const broken = Array.from({ length: 50 }, (_, i) => ({
        inputs: { x: i % 2 === 0 ? null : NaN, channel: "web", extra: i },
        output: [1, 2],
      }));
      await logTraffic(server().url, model, broken, { start: T + 11 * HOUR - HOUR, end: T + 11 * HOUR });
      const bad = await run(name, T + 11 * HOUR);
      assert.equal(bad.status, "ok", bad.error);
      const kinds = bad.summary.findings.map((f) => `${f.column ?? ""}:${f.kind}`);
      for (const expected of [
        "x:no_values_in_current",
        "color:column_missing_in_current",
        "channel:constant_column",
        "extra:column_missing_in_reference",
        ":no_labels",
      ]) {
        assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(", ")}`);
      }
      assert.deepEqual(
        bad.summary.alerts.map((a) => [a.rule, a.active]),
        [["rows", false]],
      );
      assert.equal(
        ((await req("GET", `/monitors/${name}/alerts`)).json.alerts as { state: string }[])[0]!.state,
        "resolved",
      );

      // a reference that is not there: an error with a precise message
      const missing = `${noRef.name}-mon`;
      await create({ name: missing, model_name: noRef.name, ...base });
      await logTraffic(server().url, noRef, syntheticRows(30, "clean", 4), { start: T, end: T + HOUR });
      const failed = await run(missing, T + HOUR);
      assert.equal(failed.status, "error");
      assert.equal(failed.rows, 30);
      assert.match(
        failed.error!,
        /reference: models:\/.*\/1\/reference_data\.jsonl: no file reference_data\.jsonl in the artifacts of model/,
      );
      const failedReport = await req("GET", `/monitors/${missing}/windows/${failed.window_id}/report`);
      assert.match(failedReport.text, /Evaluation failed: reference/);

      // an artifact reference (CSV without predictions) works; a wrong path is an error naming it
      const csv = `${noRef.name}-csv`;
      await create({
        name: csv,
        model_name: noRef.name,
        ...base,
        reference: { uri: `runs:/${noRef.runId}/ref/reference.csv` },
      });
      const fromCsv = await run(csv, T + HOUR);
      assert.equal(fromCsv.status, "ok", fromCsv.error);
      assert.ok(fromCsv.summary.findings.some((f) => f.kind === "reference_without_predictions"));
      const wrong = `${noRef.name}-wrong`;
      await create({
        name: wrong,
        model_name: noRef.name,
        ...base,
        reference: { source: "artifact", uri: `runs:/${noRef.runId}/ref/nope.jsonl` },
      });
      const wrongRun = await run(wrong, T + HOUR);
      assert.equal(wrongRun.status, "error");
      assert.match(wrongRun.error!, /ref\/nope\.jsonl: no such file/);
      const unknownModel = `${noRef.name}-ghost`;
      await create({ name: unknownModel, model_name: unique("ghost"), ...base });
      const ghost = await run(unknownModel, T + HOUR);
      assert.equal(ghost.status, "error");
      assert.match(ghost.error!, /model models:\/ghost-.*@champion: /);

      // through the scheduler: the broken monitors fail, the good ones are evaluated all the same
      const future = Math.floor(Date.now() / HOUR) * HOUR + 3 * HOUR + 60_000;
      const scheduler = new MonitorScheduler({ monitors: server().monitors, now: () => future });
      const outcomes = (await scheduler.tick()).filter((o) =>
        [name, missing, csv, wrong, unknownModel].includes(o.monitor),
      );
      assert.deepEqual(
        outcomes.map((o) => o.result),
        outcomes.map(() => "evaluated"),
      );
      assert.equal(outcomes.length, 5);
      const statuses: Record<string, string> = {};
      for (const monitor of [name, missing, csv, wrong, unknownModel]) {
        const latest = await req("GET", `/monitors/${monitor}/windows/latest`);
        const w = latest.json.window as WindowJson & { end_ms: number };
        assert.equal(w.end_ms, future - 60_000);
        statuses[monitor] = w.status;
      }
      assert.deepEqual(statuses, {
        [name]: "empty",
        [missing]: "empty",
        [csv]: "empty",
        [wrong]: "empty",
        [unknownModel]: "error",
      });
      await scheduler.stop();
    });

    test("failed requests: error rates, drift / performance / latency on the 200 rows only, an error_rate alert", async () => {
      const model = await seedModel(server().client, unique("errors"));
      const name = `${model.name}-mon`;
      // window 1: 300 labelled requests answered 200, one batched request of 4 rows, 10 × 5xx and 20 × 4xx
      // (slow, and some labelled: if they counted, latency, labelled rows and accuracy would show it)
      const clean = syntheticRows(300, "clean", 21);
      await logTraffic(server().url, model, clean, { start: T, end: T + HOUR / 2, labelShare: 1 });
      const batched = syntheticRows(4, "clean", 22);
      const batch = await call(server().url, "POST", `${API}/inference-log`, {
        records: batched.map((row, i) => ({
          request_id: `batch-${model.name}`,
          row_index: i,
          model_name: model.name,
          model_version: model.version,
          timestamp_ms: T + HOUR / 2,
          inputs: row.inputs,
          outputs: row.output,
          latency_ms: 7,
        })),
      });
      assert.equal(batch.status, 200, batch.text);
      const statuses = [...Array<number>(6).fill(503), ...Array<number>(4).fill(500), ...Array<number>(20).fill(400)];
      const failed = await logFailures(server().url, model, statuses, {
        start: T + HOUR / 2,
        end: T + HOUR,
        latencyMs: 5000,
      });
      const labels = await call(server().url, "POST", `${API}/feedback`, {
        labels: failed.slice(0, 5).map((request_id) => ({ request_id, label: 1 })),
      });
      assert.equal(labels.status, 200, labels.text);
      // window 2: still failing (8 × 502 of 308 requests); window 3: recovered (1 × 500, 50 × 429 of 351)
      await logTraffic(server().url, model, syntheticRows(300, "clean", 23), { start: T + HOUR, end: T + 2 * HOUR });
      await logFailures(server().url, model, Array<number>(8).fill(502), { start: T + HOUR, end: T + 2 * HOUR });
      await logTraffic(server().url, model, syntheticRows(300, "clean", 24), {
        start: T + 2 * HOUR,
        end: T + 3 * HOUR,
      });
      await logFailures(server().url, model, [500, ...Array<number>(50).fill(429)], {
        start: T + 2 * HOUR,
        end: T + 3 * HOUR,
      });
      await create({
        name,
        model_name: model.name,
        model_alias: "champion",
        window_ms: HOUR,
        schedule: "0 * * * *",
        alerts: [
          { name: "errors", when: "error_rate", threshold: 0.01 },
          { name: "slow", when: "latency_p99_ms", threshold: 1000 },
        ],
      });

      const w1 = await run(name, T + HOUR);
      assert.equal(w1.status, "ok", w1.error);
      assert.equal(w1.rows, 300 + 4 + 30, "rows: every logged row");
      assert.equal(w1.labelled, 300, "labels of failed requests are not counted");
      assert.deepEqual(w1.summary.errors, {
        requests: 331,
        server_errors: 10,
        client_errors: 20,
        error_rate: 10 / 331,
        client_error_rate: 20 / 331,
      });
      assert.equal(w1.metrics.error_rate, 10 / 331);
      assert.equal(w1.metrics.client_error_rate, 20 / 331);
      // drift on the 304 successful rows: the failed requests' empty inputs are not missing values
      assert.equal(w1.dataset_drift, false);
      assert.equal(w1.summary.feature_drift!.current_rows, 304);
      assert.ok(
        !w1.summary.findings.some((f) => f.kind === "missing_values_changed" || f.kind === "no_predicted_class"),
        JSON.stringify(w1.summary.findings),
      );
      // performance on the 300 labelled successful rows
      const accuracy = clean.filter((r) => r.truth === r.output.label).length / clean.length;
      assert.equal(w1.summary.performance!.labelled, 300);
      assert.ok(Math.abs(w1.metrics.accuracy! - accuracy) < 1e-12, `${w1.metrics.accuracy} vs ${accuracy}`);
      // latency of the successful rows: the failed requests took 5 s
      assert.equal(w1.summary.latency!.rows, 304);
      assert.ok(w1.metrics.latency_p99_ms! < 100, JSON.stringify(w1.metrics));
      assert.deepEqual(
        w1.summary.alerts.map((a) => [a.rule, a.active]),
        [
          ["errors", true],
          ["slow", false],
        ],
      );

      const w2 = await run(name, T + 2 * HOUR);
      assert.deepEqual(
        [w2.rows, w2.summary.errors?.requests, w2.metrics.error_rate, w2.metrics.client_error_rate],
        [308, 308, 8 / 308, 0],
      );
      assert.equal(w2.summary.alerts[0]!.active, true);
      const w3 = await run(name, T + 3 * HOUR);
      assert.deepEqual(
        [w3.summary.errors?.requests, w3.metrics.error_rate, w3.metrics.client_error_rate],
        [351, 1 / 351, 50 / 351],
      );
      assert.equal(w3.summary.alerts[0]!.active, false, "4xx answers do not count in error_rate");

      const incidents = (await req("GET", `/monitors/${name}/alerts`)).json.alerts as {
        rule: string;
        state: string;
        started_at: number;
        resolved_at?: number;
        last_value: number;
        message: string;
      }[];
      for (const incident of incidents) conforms(MonitorAlert, incident);
      assert.deepEqual(
        incidents.map((a) => [a.rule, a.state, a.started_at, a.resolved_at]),
        [["errors", "resolved", T + HOUR, T + 3 * HOUR]],
        "one incident: fired by window 1, kept by window 2, resolved by window 3",
      );
      assert.match(incidents[0]!.message, /5xx error rate \(1 of 351 requests\) is 0\.002849 \(alert when > 0\.01\)/);

      // the gauges (a scrape within 500 ms of another reuses its database read) and the report
      await new Promise((resolve) => setTimeout(resolve, 600));
      const metrics = await fetch(`${server().url}/metrics`).then((r) => r.text());
      const labelsOf = `monitor="${name}",model="${model.name}",version="1"`;
      assert.match(metrics, new RegExp(`slipway_model_metric\\{${labelsOf},metric="error_rate"\\} ${1 / 351}\n`));
      assert.match(
        metrics,
        new RegExp(`slipway_model_metric\\{${labelsOf},metric="client_error_rate"\\} ${50 / 351}\n`),
      );
      const report = await req("GET", `/monitors/${name}/windows/${w3.window_id}/report`);
      assert.match(report.text, /Requests: 351 · 5xx 1 \(error rate 0\.00285\) · 4xx 50/);
      assert.match(report.text, /Error rates/);
      assert.match(report.text, /error rate \(5xx\)/);

      // a window of failed requests only: ok, with the rates, and nothing else to compute
      const down = `${model.name}-down`;
      await create({
        name: down,
        model_name: model.name,
        model_version: "1",
        window_ms: HOUR,
        schedule: "0 * * * *",
        alerts: [
          { name: "errors", when: "error_rate", threshold: 0.01 },
          { name: "drift", when: "dataset_drift" },
        ],
      });
      await logFailures(server().url, model, [503, 503, 400], { start: T + 5 * HOUR, end: T + 6 * HOUR });
      const outage = await run(down, T + 6 * HOUR);
      assert.equal(outage.status, "ok", outage.error);
      assert.equal(outage.rows, 3);
      assert.deepEqual([outage.metrics.error_rate, outage.metrics.client_error_rate], [2 / 3, 1 / 3]);
      assert.equal(outage.summary.feature_drift, undefined);
      assert.equal(outage.summary.latency, undefined);
      assert.deepEqual(
        outage.summary.findings.map((f) => f.kind),
        ["no_successful_rows"],
      );
      assert.deepEqual(
        outage.summary.alerts.map((a) => [a.rule, a.active]),
        [
          ["errors", true],
          ["drift", null],
        ],
      );
      // and an empty window says nothing about errors: the alert keeps its state
      const quiet = await run(down, T + 8 * HOUR);
      assert.equal(quiet.status, "empty");
      assert.equal(quiet.metrics.error_rate, undefined);
      assert.equal(quiet.summary.alerts[0]!.active, null);
      const open = (await req("GET", `/monitors/${down}/alerts?state=firing`)).json.alerts as unknown[];
      assert.equal(open.length, 1);
    });

    test("an alert fires once per incident and resolves; both transitions reach the signed webhook", async () => {
      const receiver = await startReceiver((n) => n === 0);
      const transitions: AlertTransition[] = [];
      const unsubscribe = server().monitors.onAlert((t) => {
        transitions.push(t);
      });
      try {
        const model = await seedModel(server().client, unique("alert"));
        const kinds = ["clean", "drifted", "drifted", "clean"] as const;
        for (let k = 0; k < kinds.length; k++) {
          await logTraffic(server().url, model, syntheticRows(300, kinds[k]!, 10 + k), {
            start: T + k * HOUR,
            end: T + (k + 1) * HOUR,
          });
        }
        const name = `${model.name}-mon`;
        await create({
          name,
          model_name: model.name,
          model_alias: "champion",
          window_ms: HOUR,
          schedule: "0 * * * *",
          alerts: [{ name: "drift", when: "dataset_drift" }],
          webhook: { url: receiver.url, secret: SECRET },
        });
        const states: (boolean | null)[] = [];
        for (let k = 1; k <= 4; k++) {
          const w = await run(name, T + k * HOUR);
          states.push(w.summary.alerts[0]!.active);
          if (k === 3) {
            const firing = await req("GET", "/alerts?state=firing");
            const mine = (firing.json.alerts as { monitor: string }[]).filter((a) => a.monitor === name);
            assert.equal(mine.length, 1, "one incident while the condition holds");
            for (const a of mine) conforms(MonitorAlert, a);
          }
        }
        assert.deepEqual(states, [false, true, true, false]);
        // an older window evaluated again does not move the alert state back
        const rerun = await run(name, T + 2 * HOUR);
        assert.equal(rerun.dataset_drift, true);

        await receiver.waitFor(2);
        assert.ok(receiver.refused >= 1, "the first attempt was refused and retried");
        assert.deepEqual(
          receiver.received.map((d) => d.headers["x-slipway-event"]),
          ["monitor.alert.firing", "monitor.alert.resolved"],
        );
        for (const d of receiver.received) {
          assert.ok(
            verifyWebhookSignature(
              SECRET,
              String(d.headers["x-slipway-timestamp"]),
              d.raw,
              String(d.headers["x-slipway-signature"]),
            ),
            "signature",
          );
          assert.equal(d.body.monitor, name);
          assert.equal(d.body.model_uri, `models:/${model.name}@champion`);
        }
        const firing = receiver.received[0]!.body as {
          alert: { state: string; started_at: number; rule_definition: { when: string } };
          window: { end_ms: number };
        };
        assert.equal(firing.alert.state, "firing");
        assert.equal(firing.alert.started_at, T + 2 * HOUR);
        assert.equal(firing.alert.rule_definition.when, "dataset_drift");
        const resolved = receiver.received[1]!.body as { alert: { state: string; resolved_at: number } };
        assert.equal(resolved.alert.state, "resolved");
        assert.equal(resolved.alert.resolved_at, T + 4 * HOUR);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(receiver.received.length, 2, "no delivery for the windows that only kept the state");

        const history = await req("GET", `/monitors/${name}/alerts`);
        const incidents = history.json.alerts as { state: string; started_at: number; resolved_at: number }[];
        assert.equal(incidents.length, 1);
        assert.deepEqual(
          [incidents[0]!.state, incidents[0]!.started_at, incidents[0]!.resolved_at],
          ["resolved", T + 2 * HOUR, T + 4 * HOUR],
        );
        assert.deepEqual(
          transitions.filter((t) => t.monitor === name).map((t) => [t.kind, t.window.end_ms]),
          [
            ["firing", T + 2 * HOUR],
            ["resolved", T + 4 * HOUR],
          ],
        );
      } finally {
        unsubscribe();
        await receiver.close();
      }
    });
  });
}

httpSuite("SQLite", () => startMonitorServer());
httpSuite("PostgreSQL", async () => {
  const temp = await createTempDatabase();
  if ("skip" in temp) return temp;
  const server = await startMonitorServer({ backendStoreUri: temp.url });
  return {
    ...server,
    async stop() {
      await server.stop();
      await temp.drop();
    },
  };
});
