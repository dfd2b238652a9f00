/**
 * The inference-log contract: `InferenceLogService` over each database its SQL store runs on (SQLite, PostgreSQL)
 * must pass it. Every test logs under its own model name, so the tests share one database.
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { InferenceLogRecord, InferenceLogRecordInput } from "@slipway/protocol";
import type { SqlDb, SqlExecutor } from "../../platform/db/sql-db.js";
import { backendSuite, rejectsWith, unique } from "../../testing/contract.js";
import { InferenceLogService } from "./inference-log-service.js";
import { SqlInferenceLogStore } from "./inference-log-store.js";

export interface InferenceLogContractSubject {
  db: SqlDb;
  cleanup(): Promise<void>;
}

const T0 = 1_700_000_000_000;

function rec(model: string, id: string, extra: Partial<InferenceLogRecordInput> = {}): InferenceLogRecordInput {
  return {
    request_id: id,
    model_name: model,
    model_version: "1",
    timestamp_ms: T0,
    inputs: { x: 1 },
    outputs: 0,
    ...extra,
  };
}

/** Compares strings by Unicode code point, as SQLite's BINARY and PostgreSQL's "C" collation do on UTF-8. */
function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function keyOrder(a: InferenceLogRecord, b: InferenceLogRecord): number {
  return a.timestamp_ms - b.timestamp_ms || byCodePoint(a.request_id, b.request_id) || a.row_index - b.row_index;
}

const keyOf = (r: { request_id: string; row_index?: number }): string => `${r.request_id}#${r.row_index ?? 0}`;

async function all(service: InferenceLogService, model: string, extra: Record<string, unknown> = {}) {
  const out: InferenceLogRecord[] = [];
  let page_token: string | undefined;
  do {
    const page = await service.search({ model_name: model, max_results: 10_000, page_token, ...extra });
    out.push(...page.records);
    page_token = page.next_page_token;
  } while (page_token !== undefined);
  return out;
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

export function inferenceLogContract(
  name: string,
  make: () => Promise<InferenceLogContractSubject | { skip: string }>,
) {
  describe(`inference log contract: ${name}`, () => {
    const { test, subject } = backendSuite(make);
    let clock = T0 + 1_000_000;
    const service = () => new InferenceLogService({ db: subject().db, now: () => clock });

    test("round trip: records come back with defaults applied and their JSON values intact", async () => {
      const model = unique("round-trip");
      const records: InferenceLogRecordInput[] = [
        rec(model, "r1", {
          row_index: 0,
          inputs: { text: "héllo 😀", n: 3, f: 0.1, flag: true, none: null, nested: { a: [1, "b"] }, nan: NaN },
          outputs: { label: "spam", scores: [0.25, 0.75] },
          latency_ms: 12.3,
          server: "replica-1",
        }),
        rec(model, "r1", { row_index: 1, outputs: "ham", timestamp_ms: T0 }),
        rec(model, "r2", { outputs: null, inputs: {}, timestamp_ms: T0 + 5, model_version: "2" }),
        rec(model, "r3", { outputs: [1, 2, 3], timestamp_ms: T0 + 1, latency_ms: 0 }),
      ];
      assert.deepEqual(await service().append({ records }), { inserted: 4, duplicates: 0 });
      const got = await all(service(), model);
      assert.deepEqual(got, [
        {
          request_id: "r1",
          row_index: 0,
          model_name: model,
          model_version: "1",
          timestamp_ms: T0,
          inputs: { text: "héllo 😀", n: 3, f: 0.1, flag: true, none: null, nested: { a: [1, "b"] }, nan: NaN },
          outputs: { label: "spam", scores: [0.25, 0.75] },
          status: 200,
          latency_ms: 12.3,
          server: "replica-1",
        },
        {
          request_id: "r1",
          row_index: 1,
          model_name: model,
          model_version: "1",
          timestamp_ms: T0,
          inputs: { x: 1 },
          outputs: "ham",
          status: 200,
        },
        {
          request_id: "r3",
          row_index: 0,
          model_name: model,
          model_version: "1",
          timestamp_ms: T0 + 1,
          inputs: { x: 1 },
          outputs: [1, 2, 3],
          status: 200,
          latency_ms: 0,
        },
        {
          request_id: "r2",
          row_index: 0,
          model_name: model,
          model_version: "2",
          timestamp_ms: T0 + 5,
          inputs: {},
          outputs: null,
          status: 200,
        },
      ]);
      assert.deepEqual(await service().stats({ model_name: model }), {
        records: 4,
        labelled: 0,
        first_timestamp_ms: T0,
        last_timestamp_ms: T0 + 5,
      });
      assert.deepEqual(await service().stats({ model_name: unique("nothing") }), { records: 0, labelled: 0 });
    });

    test("status: given, defaulted to 200, read back; a failed request's record has no inputs or outputs", async () => {
      const model = unique("status");
      const records: InferenceLogRecordInput[] = [
        rec(model, "ok-default"),
        rec(model, "ok-explicit", { status: 200, timestamp_ms: T0 + 1 }),
        rec(model, "bad-request", { status: 400, inputs: {}, outputs: null, latency_ms: 0.5, timestamp_ms: T0 + 2 }),
        rec(model, "overloaded", { status: 503, inputs: {}, outputs: null, timestamp_ms: T0 + 3 }),
        rec(model, "lowest", { status: 100, timestamp_ms: T0 + 4 }),
        rec(model, "highest", { status: 599, timestamp_ms: T0 + 5 }),
      ];
      assert.deepEqual(await service().append({ records }), { inserted: 6, duplicates: 0 });
      const got = await all(service(), model);
      assert.deepEqual(
        got.map((r) => [r.request_id, r.status]),
        [
          ["ok-default", 200],
          ["ok-explicit", 200],
          ["bad-request", 400],
          ["overloaded", 503],
          ["lowest", 100],
          ["highest", 599],
        ],
      );
      assert.deepEqual(got[2], {
        request_id: "bad-request",
        row_index: 0,
        model_name: model,
        model_version: "1",
        timestamp_ms: T0 + 2,
        inputs: {},
        outputs: null,
        status: 400,
        latency_ms: 0.5,
      });
      // the window iterator carries it too
      const statuses: number[] = [];
      for await (const page of service().window({ model_name: model, start_ms: T0, end_ms: T0 + 10 })) {
        statuses.push(...page.map((r) => r.status));
      }
      assert.deepEqual(statuses, [200, 200, 400, 503, 100, 599]);
      // a row written without the column (as before migration 0008) reads back as 200
      await subject().db.run(
        "INSERT INTO inference_log (request_id, row_index, model_name, model_version, timestamp_ms, inputs, outputs) VALUES (?, 0, ?, '1', ?, '{}', '0')",
        [`legacy-${model}`, model, T0 + 6],
      );
      assert.equal((await all(service(), model)).at(-1)!.status, 200);
    });

    test("an invalid status is refused naming the field, and nothing of its batch is stored", async () => {
      const model = unique("bad-status");
      const cases: [unknown, RegExp][] = [
        [99, /'records\[1\]\.status': it must be an integer from 100 to 599/],
        [600, /'records\[1\]\.status': it must be an integer from 100 to 599/],
        [-200, /'records\[1\]\.status': it must be an integer from 100 to 599/],
        [200.5, /parameter 'records\[1\]\.status'/],
        ["OK", /parameter 'records\[1\]\.status'/],
        [true, /parameter 'records\[1\]\.status'/],
        [[500], /parameter 'records\[1\]\.status'/],
      ];
      for (const [status, message] of cases) {
        const records: unknown[] = [rec(model, "fine"), { ...rec(model, "bad"), status }];
        await rejectsWith(service().append({ records }), "INVALID_PARAMETER_VALUE", 400, message);
      }
      assert.equal((await service().stats({ model_name: model })).records, 0);
      // null is "not given": the default
      await service().append({ records: [{ ...rec(model, "null-status"), status: null }] });
      assert.equal((await all(service(), model))[0]!.status, 200);
    });

    test("retries are idempotent: a key already logged, or repeated in the batch, is kept as first written", async () => {
      const model = unique("retry");
      const batch = [rec(model, "a"), rec(model, "b"), rec(model, "b", { row_index: 1 })];
      assert.deepEqual(await service().append({ records: batch }), { inserted: 3, duplicates: 0 });
      assert.deepEqual(await service().append({ records: batch }), { inserted: 0, duplicates: 3 });
      const mixed = [rec(model, "a", { outputs: "changed" }), rec(model, "c"), rec(model, "c", { outputs: "again" })];
      assert.deepEqual(await service().append({ records: mixed }), { inserted: 1, duplicates: 2 });
      const got = await all(service(), model);
      assert.deepEqual(
        got.map((r) => [keyOf(r), r.outputs]),
        [
          ["a#0", 0],
          ["b#0", 0],
          ["b#1", 0],
          ["c#0", 0],
        ],
      );
    });

    test("concurrent retries of one batch store each record once", async () => {
      const model = unique("concurrent");
      const batch = Array.from({ length: 300 }, (_, i) => rec(model, `req-${i}`, { timestamp_ms: T0 + i }));
      const results = await Promise.all(Array.from({ length: 4 }, () => service().append({ records: batch })));
      assert.equal(
        results.reduce((n, r) => n + r.inserted, 0),
        300,
      );
      assert.equal(
        results.reduce((n, r) => n + r.duplicates, 0),
        900,
      );
      assert.equal((await service().stats({ model_name: model })).records, 300);
    });

    test("a batch with one invalid record stores nothing", async () => {
      const model = unique("atomic");
      const records: unknown[] = Array.from({ length: 10 }, (_, i) => rec(model, `ok-${i}`));
      records[7] = { ...rec(model, "bad"), timestamp_ms: "yesterday" };
      await rejectsWith(service().append({ records }), "INVALID_PARAMETER_VALUE", 400, /'records\[7\]\.timestamp_ms'/);
      assert.equal((await service().stats({ model_name: model })).records, 0);
    });

    test("a write that fails half way through the transaction stores nothing", async () => {
      const model = unique("rollback");
      // 1200 records are three INSERT statements; the second one fails
      const records = Array.from({ length: 1200 }, (_, i) => rec(model, `row-${i}`));
      const broken = new InferenceLogService({
        db: subject().db,
        store: new SqlInferenceLogStore(failingDb(subject().db, 2)),
      });
      await assert.rejects(broken.append({ records }), /injected failure/);
      assert.equal((await service().stats({ model_name: model })).records, 0);
      assert.deepEqual(await service().append({ records }), { inserted: 1200, duplicates: 0 });
    });

    test("labels join their rows whether they arrive before or after them; the last label wins", async () => {
      const model = unique("labels");
      const early = `early-${model}`;
      const late = `late-${model}`;
      clock = T0 + 2_000_000;
      assert.deepEqual(await service().addFeedback({ request_id: early, label: "spam" }), { accepted: 1 });
      await service().append({ records: [rec(model, early), rec(model, late), rec(model, late, { row_index: 1 })] });
      assert.deepEqual(
        await service().addFeedback({
          labels: [
            { request_id: late, row_index: 1, label: { y: 1 }, timestamp_ms: T0 + 7 },
            { request_id: late, label: "first" },
            { request_id: late, label: "second" },
          ],
        }),
        { accepted: 3 },
      );
      let got = await all(service(), model);
      assert.deepEqual(
        got.map((r) => [keyOf(r), r.label, r.label_timestamp_ms]),
        [
          [`${early}#0`, "spam", T0 + 2_000_000],
          [`${late}#0`, "second", T0 + 2_000_000],
          [`${late}#1`, { y: 1 }, T0 + 7],
        ],
      );
      clock = T0 + 3_000_000;
      await service().addFeedback({ request_id: early, row_index: 0, label: "ham" });
      got = await all(service(), model);
      assert.deepEqual([got[0]!.label, got[0]!.label_timestamp_ms], ["ham", T0 + 3_000_000]);
      assert.deepEqual(await service().stats({ model_name: model }), {
        records: 3,
        labelled: 3,
        first_timestamp_ms: T0,
        last_timestamp_ms: T0,
      });
    });

    test("search filters by version, time range [start, end) and labelled rows; stats agree", async () => {
      const model = unique("filters");
      const records = Array.from({ length: 20 }, (_, i) =>
        rec(model, `f-${String(i).padStart(2, "0")}`, {
          timestamp_ms: T0 + i * 10,
          model_version: String(1 + (i % 2)),
        }),
      );
      await service().append({ records });
      await service().addFeedback({
        labels: records.filter((_, i) => i % 3 === 0).map((r) => ({ request_id: r.request_id, label: 1 })),
      });
      const ids = (rs: InferenceLogRecord[]) => rs.map((r) => Number(r.request_id.slice(2)));
      assert.deepEqual(ids(await all(service(), model, { model_version: "2" })), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
      assert.deepEqual(ids(await all(service(), model, { start_ms: T0 + 50, end_ms: T0 + 100 })), [5, 6, 7, 8, 9]);
      assert.deepEqual(ids(await all(service(), model, { start_ms: T0 + 150 })), [15, 16, 17, 18, 19]);
      assert.deepEqual(ids(await all(service(), model, { end_ms: T0 + 20 })), [0, 1]);
      assert.deepEqual(ids(await all(service(), model, { labelled_only: true })), [0, 3, 6, 9, 12, 15, 18]);
      assert.deepEqual(
        ids(await all(service(), model, { labelled_only: true, model_version: "1", start_ms: T0 + 10 })),
        [6, 12, 18],
      );
      assert.deepEqual(ids(await all(service(), model, { start_ms: T0 + 50, end_ms: T0 + 50 })), []);
      assert.deepEqual(
        await service().stats({ model_name: model, model_version: "1", start_ms: T0 + 10, end_ms: T0 + 130 }),
        {
          records: 6,
          labelled: 2,
          first_timestamp_ms: T0 + 20,
          last_timestamp_ms: T0 + 120,
        },
      );
      assert.deepEqual(await service().stats({ model_name: model, model_version: "3" }), { records: 0, labelled: 0 });
    });

    test("keyset pages cover every row exactly once, in (timestamp, request_id by code point, row) order", async () => {
      const model = unique("pages");
      const ids = ["Z", "a", "é", "😀", "\uff5a", "a b", "A", "req-10", "req-9"];
      const records: InferenceLogRecordInput[] = [];
      for (let t = 0; t < 30; t++) {
        for (const id of ids) {
          for (let row = 0; row < 3; row++) {
            records.push(rec(model, `${id}/${t % 7}`, { row_index: row, timestamp_ms: T0 + (t % 10) }));
          }
        }
      }
      const { inserted } = await service().append({ records });
      const seen: InferenceLogRecord[] = [];
      let page_token: string | undefined;
      let pages = 0;
      do {
        const page = await service().search({ model_name: model, max_results: 37, page_token });
        assert.ok(page.records.length <= 37);
        if (page.next_page_token !== undefined) assert.equal(page.records.length, 37);
        seen.push(...page.records);
        page_token = page.next_page_token;
        pages += 1;
      } while (page_token !== undefined);
      assert.equal(seen.length, inserted);
      assert.equal(pages, Math.ceil(inserted / 37));
      assert.equal(new Set(seen.map(keyOf)).size, inserted);
      assert.deepEqual(seen.map(keyOf), [...seen].sort(keyOrder).map(keyOf));
      // an exact multiple of the page size ends without an empty extra page
      const exact = await service().search({ model_name: model, max_results: inserted });
      assert.equal(exact.records.length, inserted);
      assert.equal(exact.next_page_token, undefined);
    });

    test("window yields every row of the range, one bounded page at a time", async () => {
      const model = unique("window");
      await service().append({
        records: Array.from({ length: 50 }, (_, i) => rec(model, `w-${i}`, { timestamp_ms: T0 + i })),
      });
      await service().append({ records: [rec(model, "other-version", { model_version: "9", timestamp_ms: T0 + 3 })] });
      const sizes: number[] = [];
      const rows: InferenceLogRecord[] = [];
      for await (const page of service().window({
        model_name: model,
        model_version: "1",
        start_ms: T0 + 5,
        end_ms: T0 + 40,
        page_size: 7,
      })) {
        sizes.push(page.length);
        rows.push(...page);
      }
      assert.deepEqual(sizes, [7, 7, 7, 7, 7]);
      assert.deepEqual(
        rows.map((r) => r.timestamp_ms - T0),
        Array.from({ length: 35 }, (_, i) => i + 5),
      );
      let total = 0;
      for await (const page of service().window({ model_name: model, start_ms: 0, end_ms: T0 + 1000 }))
        total += page.length;
      assert.equal(total, 51);
      const empty = service().window({ model_name: model, start_ms: 0, end_ms: 1 });
      assert.equal((await empty.next()).done, true);
      await rejectsWith(
        service().window({ model_name: model, start_ms: 10, end_ms: 5 }).next(),
        "INVALID_PARAMETER_VALUE",
        400,
        /'end_ms'/,
      );
      await rejectsWith(
        service().window({ model_name: model, start_ms: 0, end_ms: 5, page_size: 0 }).next(),
        "INVALID_PARAMETER_VALUE",
        400,
        /'page_size'/,
      );
    });

    test("deleteBefore removes old rows with their labels and old unmatched labels, in batches", async () => {
      const model = unique("retention");
      const records = Array.from({ length: 25 }, (_, i) => rec(model, `old-${model}-${i}`, { timestamp_ms: 100 + i }));
      records.push(...Array.from({ length: 5 }, (_, i) => rec(model, `new-${model}-${i}`, { timestamp_ms: T0 + i })));
      await service().append({ records });
      await service().addFeedback({
        labels: [
          ...records.map((r) => ({ request_id: r.request_id, label: 1, timestamp_ms: T0 + 10 })),
          // labels that match no row: one older than the cutoff, one newer
          { request_id: `orphan-old-${model}`, label: 1, timestamp_ms: 50 },
          { request_id: `orphan-new-${model}`, label: 1, timestamp_ms: T0 + 10 },
        ],
      });
      // batches of 4 rows: several transactions
      const store = new SqlInferenceLogStore(subject().db);
      const deleted = await store.deleteBefore(T0, 4);
      assert.ok(deleted.records >= 25, JSON.stringify(deleted));
      assert.ok(deleted.labels >= 26, JSON.stringify(deleted));
      assert.deepEqual(await service().stats({ model_name: model }), {
        records: 5,
        labelled: 5,
        first_timestamp_ms: T0,
        last_timestamp_ms: T0 + 4,
      });
      const labels = await subject().db.all<{ request_id: string }>(
        "SELECT request_id FROM inference_feedback WHERE request_id LIKE ? OR request_id LIKE ?",
        [`old-${model}-%`, `orphan-%-${model}`],
      );
      assert.deepEqual(
        labels.map((l) => l.request_id),
        [`orphan-new-${model}`],
      );
      // the service's own batches, and an idempotent second run
      const again = await service().deleteBefore(T0 + 3);
      assert.ok(again.records >= 3);
      assert.equal((await service().stats({ model_name: model })).records, 2);
      await rejectsWith(service().deleteBefore(-1), "INVALID_PARAMETER_VALUE", 400, /'timestamp_ms'/);
    });

    test("bad arguments are refused before anything is written, naming the field", async () => {
      const model = unique("invalid");
      const cases: [Promise<unknown>, RegExp][] = [
        [service().append({}), /Missing value for required parameter 'records'/],
        [service().append({ records: [] }), /'records': it must hold at least 1 record/],
        [service().append({ records: [{ ...rec(model, "x"), inputs: [1, 2] }] }), /'records\[0\]\.inputs'/],
        [service().append({ records: [{ ...rec(model, "x"), model_version: 3 }] }), /'records\[0\]\.model_version'/],
        [service().append({ records: [{ ...rec(model, "x"), request_id: "a\u0000b" }] }), /NUL/],
        [service().addFeedback({ request_id: "x" }), /Missing value for required parameter 'label'/],
        [service().addFeedback({ labels: [{ request_id: "x", label: 1, row_index: -1 }] }), /'labels\[0\]\.row_index'/],
        [service().search({}), /Missing value for required parameter 'model_name'/],
        [service().search({ model_name: model, page_token: "nope" }), /'page_token'/],
        [service().stats({ model_name: model, start_ms: "x" }), /'start_ms'/],
      ];
      for (const [call, message] of cases) await rejectsWith(call, "INVALID_PARAMETER_VALUE", 400, message);
      assert.equal((await service().stats({ model_name: model })).records, 0);
    });
  });
}
