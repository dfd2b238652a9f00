/**
 * Registry events: the rows written with each registry change and their query (SQLite and PostgreSQL, through
 * the service), and the event stream `GET /api/2.0/slipway/events` end to end over HTTP (replay, live delivery,
 * resume with the SDK's subscriber, filters, bad ids, disconnects and server close).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  TrackingClient,
  readServerSentEvents,
  subscribeRegistryEvents,
  withReason,
  type RegistryEvent,
} from "@slipway/sdk";
import { upgrade } from "../../platform/db/migrate.js";
import { PostgresDb } from "../../platform/db/postgres-db.js";
import type { SqlDb } from "../../platform/db/sql-db.js";
import { SqliteDb } from "../../platform/db/sqlite-db.js";
import { createTempDatabase } from "../../testing/postgres.js";
import { startTestServer, type TestServer } from "../../testing/server.js";
import { openEventStreams } from "./events-routes.js";
import { RegistryEvents, eventsAfter, recordEvent } from "./registry-events.js";
import { RegistryService } from "./registry-service.js";

interface Backend {
  db: SqlDb;
  cleanup(): Promise<void>;
}

async function sqlite(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-registry-events-"));
  const db = SqliteDb.open(join(dir, "slipway.db"));
  await upgrade(db);
  return {
    db,
    async cleanup() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgres(): Promise<Backend | { skip: string }> {
  const temp = await createTempDatabase();
  if ("skip" in temp) return temp;
  const db = await PostgresDb.open(temp.url);
  await upgrade(db);
  return {
    db,
    async cleanup() {
      await db.close();
      await temp.drop();
    },
  };
}

/** What a test compares: the event without its id and time. */
function shape(event: { [key: string]: unknown }): Record<string, unknown> {
  const { event_id: _id, created_at: _at, ...rest } = event;
  return rest;
}

/** The changes every suite makes, and the events they must produce, in order. */
async function makeChanges(api: {
  createRegisteredModel(req: { name: string }): Promise<unknown>;
  createModelVersion(req: { name: string; source: string }): Promise<unknown>;
}): Promise<void> {
  await api.createRegisteredModel({ name: "ev" });
  await api.createModelVersion({ name: "ev", source: "s3://bucket/ev/1" });
  await api.createModelVersion({ name: "ev", source: "s3://bucket/ev/2" });
}

const CREATED = [
  { kind: "model_version.created", name: "ev", version: "1", source: "s3://bucket/ev/1" },
  { kind: "model_version.created", name: "ev", version: "2", source: "s3://bucket/ev/2" },
];
const CHANGED = [
  { kind: "alias.set", name: "ev", alias: "champion", version: "1", to_version: "1", reason: "baseline" },
  { kind: "alias.set", name: "ev", alias: "champion", version: "2", from_version: "1", to_version: "2" },
  { kind: "alias.deleted", name: "ev", alias: "champion", version: "2", from_version: "2", reason: "retired" },
  {
    kind: "model_version.stage_changed",
    name: "ev",
    version: "1",
    stage: "Production",
    from_stage: "None",
    reason: "go live",
  },
  { kind: "model_version.stage_changed", name: "ev", version: "2", stage: "Production", from_stage: "None" },
  { kind: "model_version.stage_changed", name: "ev", version: "1", stage: "Archived", from_stage: "Production" },
];

for (const [label, open] of [
  ["SQLite", sqlite],
  ["PostgreSQL", postgres],
] as const) {
  void describe(`registry events in the database (${label})`, () => {
    let backend: Backend | undefined;
    let skip: string | undefined;
    let api: RegistryService;
    let events: RegistryEvents;
    let signals = 0;

    before(async () => {
      const made = await open();
      if ("skip" in made) {
        skip = made.skip;
        return;
      }
      backend = made;
      events = new RegistryEvents();
      events.subscribe(() => signals++);
      api = new RegistryService({ db: made.db, events });
    });
    after(async () => {
      await backend?.cleanup();
    });

    void it("records every change in its transaction, signals after commit, and replays after an id", async (t) => {
      if (skip) {
        t.skip(skip);
        return;
      }
      const db = backend!.db;
      await makeChanges(api);
      assert.equal(signals, 2);
      await api.setRegisteredModelTag({ name: "ev", key: "k", value: "v" });
      assert.equal(signals, 2, "a change without events signals nothing");
      await api.setRegisteredModelAlias({ name: "ev", alias: "champion", version: "1" }, { reason: "baseline" });
      await api.setRegisteredModelAlias({ name: "ev", alias: "champion", version: "2" });
      await api.deleteRegisteredModelAlias({ name: "ev", alias: "champion" }, { reason: "retired" });
      await api.deleteRegisteredModelAlias({ name: "ev", alias: "champion" });
      await api.transitionModelVersionStage({ name: "ev", version: "1", stage: "production" }, { reason: "go live" });
      await api.transitionModelVersionStage({
        name: "ev",
        version: "2",
        stage: "Production",
        archive_existing_versions: true,
      });
      // a failed change writes no event
      await assert.rejects(api.setRegisteredModelAlias({ name: "ev", alias: "champion", version: "9" }));

      const all = await eventsAfter(db, 0, 100);
      assert.deepEqual(
        all.map((e) => shape(e.data)),
        [...CREATED, ...CHANGED],
      );
      assert.equal(signals, 2 + 5);
      const ids = all.map((e) => e.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      assert.equal(new Set(ids).size, ids.length);
      assert.ok(all.every((e) => e.data.event_id === String(e.id) && typeof e.data.created_at === "number"));

      // strictly after the given id, in pages
      const third = all[2]!.id;
      assert.deepEqual(
        (await eventsAfter(db, third, 100)).map((e) => e.id),
        ids.slice(3),
      );
      assert.deepEqual(
        (await eventsAfter(db, third, 2)).map((e) => e.id),
        ids.slice(3, 5),
      );
      assert.deepEqual(await eventsAfter(db, ids.at(-1)!, 100), []);
      // filters
      assert.deepEqual(
        (await api.eventsAfter(0, 100, { kinds: ["alias.deleted", "model_version.created"] })).map((e) => e.kind),
        ["model_version.created", "model_version.created", "alias.deleted"],
      );
      assert.deepEqual(await api.eventsAfter(0, 100, { model: "other" }), []);
      assert.equal((await api.eventsAfter(0, 100, { model: "ev" })).length, all.length);
      // deleting the version and the model keeps the log, and deleting aliases is an event
      await api.setRegisteredModelAlias({ name: "ev", alias: "keep", version: "2" });
      await api.deleteRegisteredModel({ name: "ev" });
      const tail = await eventsAfter(db, ids.at(-1)!, 100);
      assert.deepEqual(
        tail.map((e) => [e.kind, e.data.alias, e.data.reason]),
        [
          ["alias.set", "keep", undefined],
          ["alias.deleted", "keep", "registered model deleted"],
        ],
      );
    });
  });
}

// ---------------------------------------------------------------- over HTTP

interface Stream {
  response: Response;
  /** The next `n` events (id, event, data). */
  take(n: number, timeoutMs?: number): Promise<{ id: string; event: string; data: RegistryEvent }[]>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  if (response.status !== 200) assert.fail(`HTTP ${response.status}: ${await response.text()}`);
  const messages = readServerSentEvents(response.body!);
  return {
    response,
    async take(n, timeoutMs = 5000) {
      const out: { id: string; event: string; data: RegistryEvent }[] = [];
      const timer = setTimeout(() => controller.abort(new Error(`timed out waiting for ${n} events`)), timeoutMs);
      try {
        while (out.length < n) {
          const next = await messages.next();
          if (next.done) break;
          out.push({ id: next.value.id!, event: next.value.event, data: JSON.parse(next.value.data) as RegistryEvent });
        }
      } finally {
        clearTimeout(timer);
      }
      return out;
    },
    close() {
      controller.abort();
    },
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

void describe("GET /api/2.0/slipway/events", () => {
  let server: TestServer;
  let client: TrackingClient;
  let base: string;

  before(async () => {
    server = await startTestServer();
    client = new TrackingClient({ trackingUri: server.url });
    base = `${server.url}/api/2.0/slipway/events`;
    await makeChanges(client);
    await client.setRegisteredModelAlias({ name: "ev", alias: "champion", version: "1" }, withReason("baseline"));
    await client.setRegisteredModelAlias({ name: "ev", alias: "champion", version: "2" });
    await client.deleteRegisteredModelAlias({ name: "ev", alias: "champion" }, withReason("retired"));
    await client.transitionModelVersionStage({ name: "ev", version: "1", stage: "Production" }, withReason("go live"));
    await client.transitionModelVersionStage({
      name: "ev",
      version: "2",
      stage: "Production",
      archive_existing_versions: true,
    });
  });
  after(async () => {
    await server.stop();
  });

  void it("replays every stored event with id, event and data lines, then streams new ones live", async () => {
    const stream = await openStream(base);
    assert.match(stream.response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const replay = await stream.take(8);
    assert.deepEqual(
      replay.map((m) => shape(m.data)),
      [...CREATED, ...CHANGED],
    );
    assert.ok(replay.every((m) => m.id === m.data.event_id && m.event === m.data.kind));
    // live: the commit signal wakes the stream well before its 1 s poll
    const started = Date.now();
    await client.createModelVersion({ name: "ev", source: "s3://bucket/ev/3" });
    const [live] = await stream.take(1);
    assert.ok(Date.now() - started < 900, `live event took ${Date.now() - started} ms`);
    assert.deepEqual(shape(live!.data), {
      kind: "model_version.created",
      name: "ev",
      version: "3",
      source: "s3://bucket/ev/3",
    });
    assert.ok(Number(live!.id) > Number(replay.at(-1)!.id));
    stream.close();
    await until(() => openEventStreams(server.app) === 0, "the stream is closed");
  });

  void it("delivers events committed elsewhere (another replica) by polling the table every second", async () => {
    const stream = await openStream(`${base}?model=elsewhere`);
    // written straight to the store, as another server would: no in-process commit signal fires
    await server.db.transaction((tx) =>
      recordEvent(tx, { kind: "alias.set", name: "elsewhere", alias: "a", version: 1, to_version: 1, created_at: 1 }),
    );
    const [event] = await stream.take(1, 3000);
    assert.deepEqual(shape(event!.data), {
      kind: "alias.set",
      name: "elsewhere",
      alias: "a",
      version: "1",
      to_version: "1",
    });
    stream.close();
    await until(() => openEventStreams(server.app) === 0, "the stream is closed");
  });

  void it("replays strictly after ?after= or Last-Event-ID (the header wins), also under /ajax-api", async () => {
    const everything = await openStream(base);
    const all = await everything.take(8);
    everything.close();
    const cut = all[3]!.id;
    for (const [url, headers] of [
      [`${base}?after=${cut}`, {}],
      [base, { "last-event-id": cut }],
      [`${base}?after=0`, { "last-event-id": cut }],
      [`${server.url}/ajax-api/2.0/slipway/events?after=${cut}`, {}],
    ] as const) {
      const stream = await openStream(url, headers);
      assert.deepEqual(
        (await stream.take(4)).map((m) => m.id),
        all.slice(4).map((m) => m.id),
      );
      stream.close();
    }
    await until(() => openEventStreams(server.app) === 0, "every stream is closed");
  });

  void it("filters by ?model= and ?kinds=", async () => {
    await client.createRegisteredModel({ name: "other" });
    await client.createModelVersion({ name: "other", source: "s3://bucket/other/1" });
    const byModel = await openStream(`${base}?model=other`);
    assert.deepEqual(
      (await byModel.take(1)).map((m) => shape(m.data)),
      [{ kind: "model_version.created", name: "other", version: "1", source: "s3://bucket/other/1" }],
    );
    const byKind = await openStream(`${base}?model=ev&kinds=alias.deleted,model_version.stage_changed`);
    assert.deepEqual(
      (await byKind.take(4)).map((m) => m.event),
      ["alias.deleted", "model_version.stage_changed", "model_version.stage_changed", "model_version.stage_changed"],
    );
    // live events are filtered too
    await client.setRegisteredModelAlias({ name: "other", alias: "a", version: "1" });
    await client.deleteRegisteredModelAlias({ name: "other", alias: "a" });
    const [next] = await byModel.take(1);
    assert.equal(next!.event, "alias.set");
    byModel.close();
    byKind.close();
    await until(() => openEventStreams(server.app) === 0, "every stream is closed");
  });

  void it("answers a bad cursor or filter with 400 INVALID_PARAMETER_VALUE before the stream starts", async () => {
    for (const [query, headers] of [
      ["?after=abc", {}],
      ["?after=-1", {}],
      ["?after=1.5", {}],
      ["?after=", {}],
      ["", { "last-event-id": "x" }],
      ["?after=1&after=2", {}],
      ["?kinds=alias.set,alias.moved", {}],
      ["?model=", {}],
    ] as const) {
      const response = await fetch(`${base}${query}`, { headers });
      assert.equal(response.status, 400, query);
      assert.match(response.headers.get("content-type") ?? "", /application\/json/);
      const body = (await response.json()) as { error_code: string; message: string };
      assert.equal(body.error_code, "INVALID_PARAMETER_VALUE", `${query}: ${body.message}`);
    }
    assert.equal(openEventStreams(server.app), 0);
  });

  void it("the SDK subscriber resumes after a reconnect and after a restart with exactly the missed events", async () => {
    const seen: RegistryEvent[] = [];
    const errors: unknown[] = [];
    const connections: AbortController[] = [];
    const first = new AbortController();
    // a fetch whose connections the test can drop, as a network failure would
    const droppable: typeof fetch = (input, init) => {
      const connection = new AbortController();
      connections.push(connection);
      init?.signal?.addEventListener("abort", () => connection.abort(), { once: true });
      return fetch(input, { ...init, signal: connection.signal });
    };
    const running = subscribeRegistryEvents(server.url, {
      model: "ev",
      signal: first.signal,
      fetch: droppable,
      minDelayMs: 300,
      onError: (error) => errors.push(error),
      onEvent: (event) => {
        seen.push(event);
      },
    });
    await until(() => seen.length === 9, "the backlog is delivered");
    const backlog = seen.map((e) => e.event_id);

    // the connection drops; changes made while the subscriber is away arrive once it reconnects
    connections[0]!.abort();
    await client.setRegisteredModelAlias({ name: "ev", alias: "champion", version: "3" });
    await client.setRegisteredModelAlias({ name: "ev", alias: "champion", version: "1" });
    await until(() => seen.length === 11, "the missed events are delivered");
    assert.equal(connections.length, 2);
    assert.equal(errors.length, 1);
    assert.deepEqual(
      seen.slice(9).map((e) => [e.kind, e.from_version, e.to_version]),
      [
        ["alias.set", undefined, "3"],
        ["alias.set", "3", "1"],
      ],
    );
    first.abort();
    await running;
    await until(() => openEventStreams(server.app) === 0, "the subscription's stream is closed");

    // a new subscriber resumes after the last id the old one delivered
    const lastId = seen.at(-1)!.event_id;
    await client.deleteRegisteredModelAlias({ name: "ev", alias: "champion" });
    await client.createModelVersion({ name: "ev", source: "s3://bucket/ev/4" });
    const resumed: RegistryEvent[] = [];
    const second = new AbortController();
    const again = subscribeRegistryEvents(server.url, {
      after: lastId,
      model: "ev",
      signal: second.signal,
      onEvent: (event) => {
        resumed.push(event);
        if (resumed.length === 2) second.abort();
      },
    });
    await again;
    assert.deepEqual(
      resumed.map((e) => [e.kind, e.version]),
      [
        ["alias.deleted", "1"],
        ["model_version.created", "4"],
      ],
    );
    const ids = [...backlog, ...seen.slice(9).map((e) => e.event_id), ...resumed.map((e) => e.event_id)].map(Number);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.equal(new Set(ids).size, ids.length, "no event is delivered twice");
    await until(() => openEventStreams(server.app) === 0, "the second stream is closed");
  });

  void it("the SDK subscriber rejects a bad request instead of retrying", async () => {
    await assert.rejects(
      subscribeRegistryEvents(server.url, {
        after: "nope",
        signal: new AbortController().signal,
        onEvent: () => undefined,
      }),
      /INVALID_PARAMETER_VALUE|event id/,
    );
  });
});

void describe("the event stream and server close", () => {
  void it("app.close() ends open streams instead of hanging, and the client sees the end", async () => {
    const server = await startTestServer();
    try {
      const stream = await openStream(`${server.url}/api/2.0/slipway/events`);
      await until(() => openEventStreams(server.app) === 1, "the stream is open");
      const closing = server.close();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), 5000);
      });
      assert.equal(await Promise.race([closing.then(() => "closed" as const), timeout]), "closed");
      clearTimeout(timer);
      assert.equal(openEventStreams(server.app), 0);
      assert.deepEqual(await stream.take(1, 2000), []);
    } finally {
      await server.stop();
    }
  });
});
