/**
 * The tracing contract: `TraceService` over each database its SQL store runs on (SQLite, PostgreSQL) must pass it.
 * Every test works in its own experiment, so the tests share one database.
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { SqlDb, SqlExecutor } from "../../platform/db/sql-db.js";
import { backendSuite, rejectsWith, unique } from "../../testing/contract.js";
import { TrackingService } from "../tracking/tracking-service.js";
import { TraceService } from "./trace-service.js";
import { SqlTraceStore } from "./trace-store.js";
import type { ArtifactRepository } from "../../artifacts/artifact-repository.js";

export interface TracingContractSubject {
  db: SqlDb;
  artifacts: ArtifactRepository;
  cleanup(): Promise<void>;
}

const T0 = Date.parse("2026-11-27T10:00:00.000Z");

interface TraceOptions {
  id?: string;
  time?: number;
  state?: string;
  duration?: string;
  tags?: Record<string, string>;
  metadata?: Record<string, string>;
  spans?: Record<string, unknown>[];
  clientRequestId?: string;
}

function body(experimentId: string, o: TraceOptions = {}) {
  const id = o.id ?? unique("tr");
  return {
    trace: {
      trace_info: {
        trace_id: id,
        ...(o.clientRequestId === undefined ? {} : { client_request_id: o.clientRequestId }),
        trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
        request_preview: '{"messages":[{"role":"user","content":"hi"}]}',
        response_preview: "hello",
        request_time: new Date(o.time ?? T0).toISOString(),
        execution_duration: o.duration ?? "0.25s",
        state: o.state ?? "OK",
        trace_metadata: o.metadata ?? { "mlflow.trace.tokenUsage": '{"input_tokens":3}' },
        tags: o.tags ?? {},
      },
      ...(o.spans === undefined ? {} : { data: { spans: o.spans } }),
    },
  };
}

function span(traceId: string, name: string, parent?: string) {
  return {
    trace_id: traceId,
    span_id: unique("s"),
    ...(parent === undefined ? {} : { parent_span_id: parent }),
    name,
    start_time_unix_nano: 1_700_000_000_000_000_000,
    end_time_unix_nano: 1_700_000_000_250_000_000,
    attributes: { "mlflow.spanType": '"LLM"' },
    status: { code: "STATUS_CODE_OK", message: "" },
    events: [],
  };
}

/** A database whose transactions fail on their `failAt`-th statement (1-based): a crash half way through a write. */
function failingDb(db: SqlDb, failAt: number): SqlDb {
  const wrap = (tx: SqlExecutor): SqlExecutor => {
    let n = 0;
    const step = () => {
      n += 1;
      if (n === failAt) throw new Error("injected failure");
    };
    return {
      dialect: tx.dialect,
      all: (sql, params) => (step(), tx.all(sql, params)),
      get: (sql, params) => (step(), tx.get(sql, params)),
      run: (sql, params) => (step(), tx.run(sql, params)),
    };
  };
  return Object.assign(Object.create(db) as SqlDb, {
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => db.transaction((tx) => fn(wrap(tx))),
  });
}

export function tracingContract(name: string, make: () => Promise<TracingContractSubject | { skip: string }>) {
  describe(`tracing contract: ${name}`, () => {
    const { test, subject } = backendSuite(make);
    const services = () => {
      const { db, artifacts } = subject();
      const tracking = new TrackingService({ db, artifacts });
      return { tracking, traces: new TraceService({ db, tracking, artifacts }) };
    };
    const experiment = async (tracking: TrackingService) =>
      (await tracking.createExperiment({ name: unique("traces") })).experiment_id;
    const search = (traces: TraceService, experimentId: string, extra: Record<string, unknown> = {}) =>
      traces.searchTracesV3({
        locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } }],
        ...extra,
      });

    test("start → get info → get with spans round-trips MLflow 3's fields", async () => {
      const { tracking, traces } = services();
      const e = await experiment(tracking);
      const id = unique("tr");
      const root = span(id, "chat");
      const spans = [root, span(id, "decode", root.span_id)];
      const started = await traces.startTraceV3(
        body(e, { id, spans, clientRequestId: "req-1", tags: { "mlflow.traceName": "chat" } }),
      );
      const info = started.trace.trace_info;
      assert.equal(info.trace_id, id);
      assert.equal(info.client_request_id, "req-1");
      assert.deepEqual(info.trace_location, { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: e } });
      assert.equal(info.request_time, new Date(T0).toISOString());
      assert.equal(info.execution_duration, "0.25s");
      assert.equal(info.state, "OK");
      assert.equal(info.tags?.["mlflow.traceName"], "chat");
      assert.equal(info.tags?.["mlflow.artifactLocation"], `mlflow-artifacts:/${e}/traces/${id}/artifacts`);
      assert.equal(info.trace_metadata?.["mlflow.trace.tokenUsage"], '{"input_tokens":3}');
      assert.deepEqual((await traces.getTraceInfoV3(id)).trace.trace_info, info);
      const full = await traces.getTrace({ trace_id: id });
      assert.deepEqual(full.trace.trace_info, info);
      assert.deepEqual(full.trace.data?.spans, spans);
      const batch = await traces.batchGetTraces({ trace_ids: [id, "tr-missing"] });
      assert.equal(batch.traces.length, 1);
      assert.deepEqual(batch.traces[0]!.data?.spans, spans);
    });

    test("a trace without inline spans reads the traces.json an MLflow client uploaded", async () => {
      const { tracking, traces } = services();
      const e = await experiment(tracking);
      const id = unique("tr");
      await traces.startTraceV3(body(e, { id }));
      assert.deepEqual((await traces.getTrace({ trace_id: id })).trace.data?.spans, []);
      const spans = [span(id, "uploaded")];
      await subject().artifacts.put(`${e}/traces/${id}/artifacts/traces.json`, Buffer.from(JSON.stringify({ spans })));
      assert.deepEqual((await traces.getTrace({ trace_id: id })).trace.data?.spans, spans);
    });

    test("starting a trace again replaces its info and keeps its spans unless new ones come", async () => {
      const { tracking, traces } = services();
      const e = await experiment(tracking);
      const id = unique("tr");
      const spans = [span(id, "first")];
      await traces.startTraceV3(body(e, { id, state: "IN_PROGRESS", spans, tags: { a: "1" } }));
      await traces.startTraceV3(body(e, { id, state: "OK", tags: { b: "2" } }));
      const full = (await traces.getTrace({ trace_id: id })).trace;
      assert.equal(full.trace_info.state, "OK");
      assert.equal(full.trace_info.tags?.a, undefined);
      assert.equal(full.trace_info.tags?.b, "2");
      assert.deepEqual(full.data?.spans, spans);
      const other = await experiment(tracking);
      await rejectsWith(traces.startTraceV3(body(other, { id })), "INVALID_PARAMETER_VALUE", 400, /another experiment/);
    });

    test("a write is atomic: a failure half way leaves no trace behind", async () => {
      const { db, artifacts } = subject();
      const tracking = new TrackingService({ db, artifacts });
      const e = await experiment(tracking);
      const broken = new TraceService({ db, tracking, store: new SqlTraceStore(failingDb(db, 4)) });
      const id = unique("tr");
      await assert.rejects(broken.startTraceV3(body(e, { id, tags: { a: "1" }, spans: [span(id, "x")] })), /injected/);
      const traces = new TraceService({ db, tracking });
      await rejectsWith(traces.getTraceInfoV3(id), "RESOURCE_DOES_NOT_EXIST", 404);
      const rows = await db.all(`SELECT 1 AS x FROM trace_tags WHERE trace_id = ?`, [id]);
      assert.equal(rows.length, 0);
    });

    test("search: newest first by default, pages, order_by, experiments kept apart", async () => {
      const { tracking, traces } = services();
      const e = await experiment(tracking);
      const f = await experiment(tracking);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = `tr-${i}-${unique("p")}`;
        ids.push(id);
        await traces.startTraceV3(body(e, { id, time: T0 + i * 1000, duration: `${5 - i}s` }));
      }
      await traces.startTraceV3(body(f, { time: T0 + 99_000 }));
      const seen: string[] = [];
      let page_token: string | undefined;
      let pages = 0;
      do {
        const page = await search(traces, e, { max_results: 2, ...(page_token ? { page_token } : {}) });
        seen.push(...(page.traces ?? []).map((t) => t.trace_id));
        page_token = page.next_page_token;
        pages++;
      } while (page_token !== undefined);
      assert.deepEqual(seen, [...ids].reverse());
      assert.equal(pages, 3);
      const ascending = await search(traces, e, { order_by: ["timestamp_ms ASC"] });
      assert.deepEqual(
        (ascending.traces ?? []).map((t) => t.trace_id),
        ids,
      );
      const byDuration = await search(traces, e, { order_by: ["execution_time_ms ASC"] });
      assert.equal(byDuration.traces?.[0]?.trace_id, ids[4]);
      const both = await traces.searchTracesV3({
        locations: [e, f].map((experiment_id) => ({ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id } })),
      });
      assert.equal(both.traces?.length, 6);
      const v2 = await traces.searchTraces({ experiment_ids: [e], max_results: "1" });
      assert.equal(v2.traces?.[0]?.request_id, ids[4]);
      assert.equal(v2.traces?.[0]?.timestamp_ms, T0 + 4000);
      assert.equal(v2.traces?.[0]?.execution_time_ms, 1000);
      assert.equal(v2.traces?.[0]?.status, "OK");
      assert.ok(v2.next_page_token);
    });

    test("search filters: status, timestamp, execution time, tags, metadata, AND", async () => {
      const { tracking, traces } = services();
      const e = await experiment(tracking);
      await traces.startTraceV3(
        body(e, {
          id: "tr-a-" + unique("f"),
          state: "OK",
          time: T0,
          duration: "0.1s",
          tags: { model: "tiny" },
          metadata: { k: "x" },
        }),
      );
      await traces.startTraceV3(
        body(e, {
          id: "tr-b-" + unique("f"),
          state: "ERROR",
          time: T0 + 1000,
          duration: "2s",
          tags: { model: "tiny" },
          metadata: { k: "y" },
        }),
      );
      await traces.startTraceV3(
        body(e, {
          id: "tr-c-" + unique("f"),
          state: "OK",
          time: T0 + 2000,
          duration: "3s",
          tags: { model: "big" },
          metadata: {},
        }),
      );
      const count = async (filter: string) => ((await search(traces, e, { filter })).traces ?? []).length;
      assert.equal(await count("trace.status = 'OK'"), 2);
      assert.equal(await count("status != 'OK'"), 1);
      assert.equal(await count("trace.state = 'ERROR'"), 1);
      assert.equal(await count(`trace.timestamp_ms > ${T0}`), 2);
      assert.equal(await count(`timestamp_ms <= ${T0 + 1000}`), 2);
      assert.equal(await count("trace.execution_time_ms >= 2000"), 2);
      assert.equal(await count("execution_time_ms < 1000"), 1);
      assert.equal(await count("tag.model = 'tiny'"), 2);
      assert.equal(await count("tags.`model` != 'tiny'"), 1);
      assert.equal(await count("metadata.k = 'y'"), 1);
      assert.equal(await count("request_metadata.k = 'x'"), 1);
      assert.equal(await count("tag.model = 'tiny' AND trace.status = 'OK'"), 1);
      assert.equal(await count(`tag.model = 'tiny' and trace.timestamp_ms >= ${T0 + 1000} AND metadata.k = 'y'`), 1);
      for (const [filter, message] of [
        ["trace.status = 'OK' OR tag.model = 'big'", /OR/],
        ["tag.model LIKE 'ti%'", /LIKE/],
        ["trace.name = 'x'", /trace\.name/],
        ["trace.status = 'FINE'", /FINE/],
        ["trace.timestamp_ms > 'soon'", /number/],
        ["tag.model > 'a'", /'>'/],
      ] as const) {
        await rejectsWith(search(traces, e, { filter }), "INVALID_PARAMETER_VALUE", 400, message);
      }
      await rejectsWith(search(traces, e, { order_by: ["name DESC"] }), "INVALID_PARAMETER_VALUE", 400, /order_by/);
      await rejectsWith(search(traces, e, { page_token: "garbage!" }), "INVALID_PARAMETER_VALUE", 400, /page token/);
      await rejectsWith(search(traces, e, { max_results: 0 }), "INVALID_PARAMETER_VALUE", 400, /max_results/);
      await rejectsWith(traces.searchTracesV3({}), "INVALID_PARAMETER_VALUE", 400, /locations/);
    });

    test("tags: set, replace, delete; unknown trace or tag is RESOURCE_DOES_NOT_EXIST", async () => {
      const { tracking, traces } = services();
      const e = await experiment(tracking);
      const id = unique("tr");
      await traces.startTraceV3(body(e, { id }));
      await traces.setTraceTag(id, { key: "reviewed", value: "no" });
      await traces.setTraceTag(id, { key: "reviewed", value: "yes" });
      assert.equal((await traces.getTraceInfoV3(id)).trace.trace_info.tags?.reviewed, "yes");
      await traces.deleteTraceTag(id, { key: "reviewed" });
      assert.equal((await traces.getTraceInfoV3(id)).trace.trace_info.tags?.reviewed, undefined);
      await rejectsWith(traces.deleteTraceTag(id, { key: "reviewed" }), "RESOURCE_DOES_NOT_EXIST", 404, /reviewed/);
      await rejectsWith(traces.setTraceTag("tr-nope", { key: "a", value: "b" }), "RESOURCE_DOES_NOT_EXIST", 404);
      await rejectsWith(traces.setTraceTag(id, { key: "", value: "b" }), "INVALID_PARAMETER_VALUE", 400, /'key'/);
    });

    test("delete: by ids within the experiment, or the oldest up to a time, at most max_traces", async () => {
      const { tracking, traces } = services();
      const e = await experiment(tracking);
      const f = await experiment(tracking);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const id = `tr-${i}-${unique("d")}`;
        ids.push(id);
        await traces.startTraceV3(body(e, { id, time: T0 + i * 1000, tags: { t: "x" } }));
      }
      const elsewhere = unique("tr");
      await traces.startTraceV3(body(f, { id: elsewhere }));
      // an id of another experiment is not deleted through this one
      assert.deepEqual(await traces.deleteTraces({ experiment_id: e, request_ids: [ids[0], elsewhere] }), {
        traces_deleted: 1,
      });
      await traces.getTraceInfoV3(elsewhere);
      assert.deepEqual(
        await traces.deleteTraces({ experiment_id: e, max_timestamp_millis: T0 + 3000, max_traces: 1 }),
        { traces_deleted: 1 },
      );
      await rejectsWith(traces.getTraceInfoV3(ids[1]!), "RESOURCE_DOES_NOT_EXIST", 404);
      assert.equal(((await search(traces, e)).traces ?? []).length, 2);
      assert.deepEqual(await traces.deleteTraces({ experiment_id: e, max_timestamp_millis: T0 + 3000 }), {
        traces_deleted: 2,
      });
      await rejectsWith(traces.deleteTraces({ experiment_id: e }), "INVALID_PARAMETER_VALUE", 400, /Exactly one/);
    });

    test("bad traces are refused naming the field; an unknown experiment is RESOURCE_DOES_NOT_EXIST", async () => {
      const { tracking, traces } = services();
      const e = await experiment(tracking);
      await rejectsWith(traces.startTraceV3({}), "INVALID_PARAMETER_VALUE", 400, /'trace'/);
      await rejectsWith(traces.startTraceV3(body("987654321")), "RESOURCE_DOES_NOT_EXIST", 404);
      const bad = (mutate: (info: Record<string, unknown>) => void) => {
        const b = body(e);
        mutate(b.trace.trace_info);
        return traces.startTraceV3(b);
      };
      await rejectsWith(
        bad((i) => (i.request_time = "yesterday")),
        "INVALID_PARAMETER_VALUE",
        400,
        /request_time/,
      );
      await rejectsWith(
        bad((i) => (i.execution_duration = "5 min")),
        "INVALID_PARAMETER_VALUE",
        400,
        /execution_duration/,
      );
      await rejectsWith(
        bad((i) => (i.state = "DONE")),
        "INVALID_PARAMETER_VALUE",
        400,
        /state/,
      );
      await rejectsWith(
        bad((i) => (i.trace_id = "../etc")),
        "INVALID_PARAMETER_VALUE",
        400,
        /trace_id/,
      );
      await rejectsWith(
        bad((i) => (i.tags = { a: 1 })),
        "INVALID_PARAMETER_VALUE",
        400,
        /tags\.a/,
      );
      const withSpans = body(e, { spans: [span("x", "ok")] });
      (withSpans.trace as { data: { spans: unknown[] } }).data.spans.push("not a span");
      await rejectsWith(traces.startTraceV3(withSpans), "INVALID_PARAMETER_VALUE", 400, /spans\[1\]/);
      const huge = body(e, { spans: [{ name: "big", attributes: { blob: "x".repeat(13 * 1024 * 1024) } }] });
      await rejectsWith(traces.startTraceV3(huge), "INVALID_PARAMETER_VALUE", 400, /at most \d+ bytes/);
      await rejectsWith(traces.getTraceInfoV3("tr-unknown"), "RESOURCE_DOES_NOT_EXIST", 404, /tr-unknown/);
      await rejectsWith(traces.getTrace({}), "INVALID_PARAMETER_VALUE", 400, /trace_id/);
    });
  });
}
