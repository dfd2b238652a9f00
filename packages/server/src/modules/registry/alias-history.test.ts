/**
 * The alias and stage history query on SQLite and PostgreSQL: through the service (with a controlled clock) and
 * through HTTP (the route, its errors, the `X-Slipway-Reason` header and the SDK's helpers).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  MlflowError,
  decodeReasonHeader,
  encodeReasonHeader,
  type AliasHistoryEntry,
  type AliasHistoryRequest,
} from "@slipway/protocol";
import { TrackingClient, aliasHistory, aliasHistoryPage, withReason } from "@slipway/sdk";
import type { SqlDb } from "../../platform/db/sql-db.js";
import { openPostgresTestDatabase, openSqliteTestDatabase } from "../../testing/databases.js";
import { createTempDatabase } from "../../testing/postgres.js";
import { startTestServer, type TestServer } from "../../testing/server.js";
import { reasonFromHeader } from "./alias-history.js";
import { RegistryService } from "./registry-service.js";

interface Backend {
  db: SqlDb;
  cleanup(): Promise<void>;
}

const sqlite = (): Promise<Backend> => openSqliteTestDatabase("slipway-alias-history-");
const postgres = (): Promise<Backend | { skip: string }> => openPostgresTestDatabase("slipway-alias-history-");

/** A test that is skipped with the backend's reason when the backend is not available. */
function guarded(getSkip: () => string | undefined) {
  return (title: string, fn: () => Promise<void>): void => {
    void it(title, async (t) => {
      const skip = getSkip();
      if (skip) {
        t.skip(skip);
        return;
      }
      await fn();
    });
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MlflowError, String(error));
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const T0 = 1_772_000_000_000;

function serviceSuite(title: string, open: () => Promise<Backend | { skip: string }>): void {
  describe(`alias history query: ${title}`, () => {
    let backend: Backend | undefined;
    let skip: string | undefined;
    let clock = T0;
    let api: RegistryService;
    const test = guarded(() => skip);
    /** Runs `fn` with the service's clock at T0 + `offset`. */
    const at = async <T>(offset: number, fn: () => Promise<T>): Promise<T> => {
      clock = T0 + offset;
      return fn();
    };
    const history = (req: AliasHistoryRequest) => api.getAliasHistory(req);
    const entry = (
      alias: string,
      from: number | null,
      to: number | null,
      offset: number,
      extra: Partial<AliasHistoryEntry> = {},
    ): AliasHistoryEntry => ({
      name: "hist",
      alias,
      kind: "alias",
      ...(from === null ? {} : { from_version: String(from) }),
      ...(to === null ? {} : { to_version: String(to) }),
      changed_at: T0 + offset,
      ...extra,
    });

    before(async () => {
      const made = await open();
      if ("skip" in made) {
        skip = made.skip;
        return;
      }
      backend = made;
      api = new RegistryService({ db: made.db, now: () => clock });
      // champion 1 → 2 → 3, challenger set then deleted, versions 1 then 2 to Production (1 archived)
      await at(0, async () => {
        await api.createRegisteredModel({ name: "hist" });
        for (let i = 1; i <= 3; i++) await api.createModelVersion({ name: "hist", source: `s3://bucket/model/${i}` });
      });
      await at(1000, () =>
        api.setRegisteredModelAlias({ name: "hist", alias: "champion", version: "1" }, { reason: "first" }),
      );
      await at(2000, () => api.setRegisteredModelAlias({ name: "hist", alias: "challenger", version: "2" }));
      await at(3000, () =>
        api.setRegisteredModelAlias({ name: "hist", alias: "champion", version: "2" }, { reason: "v2 wins" }),
      );
      await at(4000, () =>
        api.transitionModelVersionStage({ name: "hist", version: "1", stage: "Production" }, { reason: "go live" }),
      );
      await at(5000, () =>
        api.transitionModelVersionStage({
          name: "hist",
          version: "2",
          stage: "Production",
          archive_existing_versions: true,
        }),
      );
      await at(6000, () =>
        api.deleteRegisteredModelAlias({ name: "hist", alias: "challenger" }, { reason: "challenger retired" }),
      );
      await at(7000, () => api.setRegisteredModelAlias({ name: "hist", alias: "champion", version: "3" }));
    });
    after(async () => {
      await backend?.cleanup();
    });

    const ARCHIVE_REASON =
      "version 2: None -> Production; archive_existing_versions: version 1: Production -> Archived";
    const FULL: AliasHistoryEntry[] = [
      entry("champion", 2, 3, 7000),
      entry("challenger", 2, null, 6000, { reason: "challenger retired" }),
      entry("Archived", null, 1, 5000, { kind: "stage", reason: ARCHIVE_REASON }),
      entry("Production", 1, 2, 5000, { kind: "stage", reason: ARCHIVE_REASON }),
      entry("Production", null, 1, 4000, { kind: "stage", reason: "go live (version 1: None -> Production)" }),
      entry("champion", 1, 2, 3000, { reason: "v2 wins" }),
      entry("challenger", null, 2, 2000),
      entry("champion", null, 1, 1000, { reason: "first" }),
    ];

    test("lists every alias move and stage transition, newest first, with reasons", async () => {
      assert.deepEqual(await history({ name: "hist" }), { history: FULL });
    });

    test("filters by alias or stage name", async () => {
      assert.deepEqual(await history({ name: "hist", alias: "champion" }), {
        history: FULL.filter((e) => e.alias === "champion"),
      });
      assert.deepEqual(
        (await history({ name: "hist", alias: "Production" })).history.map((e) => [e.kind, e.to_version]),
        [
          ["stage", "2"],
          ["stage", "1"],
        ],
      );
      assert.deepEqual(await history({ name: "hist", alias: "nobody" }), { history: [] });
      // an empty alias is no filter, as MLflow reads empty strings
      assert.equal((await history({ name: "hist", alias: "" })).history.length, FULL.length);
    });

    test("answers where every alias and stage pointed at an instant, before and after each move", async () => {
      const pointed = async (offset: number, alias?: string) => {
        const res = await history({ name: "hist", at: T0 + offset, ...(alias === undefined ? {} : { alias }) });
        assert.equal(res.history.length, alias === undefined ? FULL.length : res.history.length, "history unchanged");
        return { at: res.at, at_stages: res.at_stages };
      };
      assert.deepEqual(await pointed(999), { at: {}, at_stages: {} });
      assert.deepEqual(await pointed(1000), { at: { champion: "1" }, at_stages: {} }, "the instant of a move counts");
      assert.deepEqual(await pointed(2999), { at: { challenger: "2", champion: "1" }, at_stages: {} });
      assert.deepEqual(await pointed(3000), { at: { challenger: "2", champion: "2" }, at_stages: {} });
      assert.deepEqual(await pointed(4500), { at: { challenger: "2", champion: "2" }, at_stages: { Production: "1" } });
      assert.deepEqual(await pointed(5500), {
        at: { challenger: "2", champion: "2" },
        at_stages: { Archived: "1", Production: "2" },
      });
      assert.deepEqual(await pointed(6500), { at: { champion: "2" }, at_stages: { Archived: "1", Production: "2" } });
      assert.deepEqual(await pointed(10_000_000), {
        at: { champion: "3" },
        at_stages: { Archived: "1", Production: "2" },
      });
      assert.deepEqual(await pointed(6500, "champion"), { at: { champion: "2" }, at_stages: {} });
      assert.deepEqual(await pointed(4500, "Production"), { at: {}, at_stages: { Production: "1" } });
      // at=0 is a valid instant (before everything)
      assert.deepEqual((await history({ name: "hist", at: 0 })).at, {});
    });

    test("pages newest first with keyset tokens that do not shift when changes arrive", async () => {
      const pages: AliasHistoryEntry[][] = [];
      let token: string | undefined;
      do {
        const res = await history({ name: "hist", max_results: 3, ...(token ? { page_token: token } : {}) });
        pages.push(res.history);
        token = res.next_page_token;
      } while (token);
      assert.deepEqual(
        pages.map((p) => p.length),
        [3, 3, 2],
      );
      assert.deepEqual(pages.flat(), FULL);
      const exact = await history({ name: "hist", max_results: FULL.length });
      assert.equal(exact.next_page_token, undefined, "no token when the last page is full and nothing follows");

      // a move recorded between two pages appears on none of the later pages, and nothing repeats
      const first = await history({ name: "hist", max_results: 3 });
      await at(8000, () => api.setRegisteredModelAlias({ name: "hist", alias: "shadow", version: "1" }));
      const second = await history({ name: "hist", max_results: 3, page_token: first.next_page_token! });
      assert.deepEqual(second.history, FULL.slice(3, 6));
      await at(8001, () => api.deleteRegisteredModelAlias({ name: "hist", alias: "shadow" }));
    });

    test("refuses bad parameters with INVALID_PARAMETER_VALUE and unknown models with RESOURCE_DOES_NOT_EXIST", async () => {
      await rejectsWith(history({ name: "nope" }), "RESOURCE_DOES_NOT_EXIST", /^Registered Model with name=nope/);
      await rejectsWith(history({ name: "" }), "INVALID_PARAMETER_VALUE", /name/);
      await rejectsWith(history({ name: "hist", max_results: 0 }), "INVALID_PARAMETER_VALUE", /max_results/);
      await rejectsWith(history({ name: "hist", max_results: 1001 }), "INVALID_PARAMETER_VALUE", /at most 1000/);
      await rejectsWith(history({ name: "hist", at: -1 }), "INVALID_PARAMETER_VALUE", /'at'/);
      await rejectsWith(history({ name: "hist", page_token: "garbage" }), "INVALID_PARAMETER_VALUE", /page token/);
      const wrongShape = Buffer.from(JSON.stringify({ offset: 3 })).toString("base64");
      await rejectsWith(history({ name: "hist", page_token: wrongShape }), "INVALID_PARAMETER_VALUE", /page token/);
    });

    test("follows the model through a rename and keeps a deleted model's history queryable", async () => {
      await at(9000, () => api.renameRegisteredModel({ name: "hist", new_name: "hist-renamed" }));
      await at(10_000, () =>
        api.setRegisteredModelAlias({ name: "hist-renamed", alias: "gold", version: "2" }, { reason: "renamed" }),
      );
      const renamed = await history({ name: "hist-renamed" });
      assert.equal(renamed.history.length, FULL.length + 3);
      assert.deepEqual(renamed.history[0], {
        ...entry("gold", null, 2, 10_000, { reason: "renamed" }),
        name: "hist-renamed",
      });
      assert.equal(renamed.history.at(-1)?.name, "hist", "rows keep the name of their time");
      // the old name belongs to no model now (its rows are the renamed model's)
      await rejectsWith(history({ name: "hist" }), "RESOURCE_DOES_NOT_EXIST");

      await at(11_000, () => api.deleteRegisteredModel({ name: "hist-renamed" }));
      const gone = await history({ name: "hist-renamed" });
      assert.deepEqual(
        gone.history.slice(0, 5).map((e) => [e.kind, e.alias, e.from_version, e.to_version, e.reason]),
        [
          ["stage", "None", "3", undefined, "registered model deleted"],
          ["stage", "Production", "2", undefined, "registered model deleted"],
          ["stage", "Archived", "1", undefined, "registered model deleted"],
          ["alias", "gold", "2", undefined, "registered model deleted"],
          ["alias", "champion", "3", undefined, "registered model deleted"],
        ],
      );
      assert.equal(gone.history.length, FULL.length + 3 + 5, "the whole history, from before the rename too");
      const before = await history({ name: "hist-renamed", at: T0 + 10_500 });
      assert.deepEqual(before.at, { champion: "3", gold: "2" });
      assert.deepEqual(before.at_stages, { Archived: "1", Production: "2" });
      const afterDelete = await history({ name: "hist-renamed", at: T0 + 11_000 });
      assert.deepEqual([afterDelete.at, afterDelete.at_stages], [{}, {}]);
      // the deleted model is also found by the name it had earlier
      assert.equal((await history({ name: "hist" })).history.length, gone.history.length);

      // a new model of that name starts with an empty history of its own
      await at(12_000, () => api.createRegisteredModel({ name: "hist-renamed" }));
      assert.deepEqual(await history({ name: "hist-renamed", at: T0 + 12_000 }), {
        history: [],
        at: {},
        at_stages: {},
      });
    });
  });
}

serviceSuite("SQLite", sqlite);
serviceSuite("PostgreSQL", postgres);

function httpSuite(
  title: string,
  open: () => Promise<{ server: TestServer; cleanup(): Promise<void> } | { skip: string }>,
) {
  describe(`alias history over HTTP: ${title}`, () => {
    let server: TestServer | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    let skip: string | undefined;
    let client: TrackingClient;
    const test = guarded(() => skip);

    before(async () => {
      const made = await open();
      if ("skip" in made) {
        skip = made.skip;
        return;
      }
      server = made.server;
      cleanup = () => made.cleanup();
      client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
      await client.createRegisteredModel({ name: "wire" });
      for (let i = 0; i < 3; i++) await client.createModelVersion({ name: "wire", source: `s3://b/wire/${i}` });
    });
    after(async () => {
      await cleanup?.();
    });

    const get = async (query: string, prefix = "/api/2.0") => {
      const response = await fetch(`${server!.url}${prefix}/slipway/registered-models/alias-history?${query}`);
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    const setAlias = (alias: string, version: string, headers: Record<string, string>) =>
      fetch(`${server!.url}/api/2.0/mlflow/registered-models/alias`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ name: "wire", alias, version }),
      });

    test("records the X-Slipway-Reason header of alias and stage changes, in any script", async () => {
      await client.setRegisteredModelAlias({ name: "wire", alias: "champion", version: "1" }, withReason("baseline"));
      await client.setRegisteredModelAlias(
        { name: "wire", alias: "champion", version: "2" },
        withReason("recall ↑ 2%, précision stable\nsee #42"),
      );
      await client.transitionModelVersionStage(
        { name: "wire", version: "2", stage: "Staging" },
        withReason("candidate"),
      );
      // raw header values: ASCII, UTF-8 bytes (as curl sends them), blank (no reason)
      assert.equal((await setAlias("raw", "1", { "X-Slipway-Reason": "  plain ascii  " })).status, 200);
      const utf8 = Buffer.from("données", "utf8").toString("latin1");
      assert.equal((await setAlias("raw", "2", { "x-slipway-reason": utf8 })).status, 200);
      assert.equal((await setAlias("raw", "3", { "x-slipway-reason": "   " })).status, 200);
      await client.deleteRegisteredModelAlias({ name: "wire", alias: "raw" }, withReason("cleanup"));

      const { history } = await aliasHistory(client, { name: "wire" });
      assert.deepEqual(
        history.map((e) => [e.kind, e.alias, e.from_version ?? null, e.to_version ?? null, e.reason ?? null]),
        [
          ["alias", "raw", "3", null, "cleanup"],
          ["alias", "raw", "2", "3", null],
          ["alias", "raw", "1", "2", "données"],
          ["alias", "raw", null, "1", "plain ascii"],
          ["stage", "Staging", null, "2", "candidate (version 2: None -> Staging)"],
          ["alias", "champion", "1", "2", "recall ↑ 2%, précision stable\nsee #42"],
          ["alias", "champion", null, "1", "baseline"],
        ],
      );
      for (const e of history) {
        assert.equal(e.name, "wire");
        assert.equal(typeof e.changed_at, "number");
        assert.equal(e.user_id, undefined);
      }
    });

    test("refuses a bad reason header and changes nothing", async () => {
      const before = (await aliasHistory(client, { name: "wire" })).history.length;
      const tooLong = await setAlias("champion", "3", { "x-slipway-reason": "x".repeat(1001) });
      assert.equal(tooLong.status, 400);
      assert.equal(((await tooLong.json()) as { error_code: string }).error_code, "INVALID_PARAMETER_VALUE");
      const broken = await setAlias("champion", "3", { "x-slipway-reason": "UTF-8''%E9%" });
      assert.equal(broken.status, 400);
      assert.equal(
        (await client.getModelVersionByAlias({ name: "wire", alias: "champion" })).model_version.version,
        "2",
      );
      assert.equal((await aliasHistory(client, { name: "wire" })).history.length, before);
    });

    test("serves the query under /api/2.0 and /ajax-api/2.0 with at=, paging and MLflow-style errors", async () => {
      const all = await get("name=wire");
      assert.equal(all.status, 200);
      const rows = all.json.history as AliasHistoryEntry[];
      assert.equal(rows.length, 7);
      assert.deepEqual((await get("name=wire", "/ajax-api/2.0")).json, all.json);

      // where champion pointed just before and at its second move
      const moved = rows.find((e) => e.alias === "champion" && e.from_version === "1")!;
      const justBefore = await get(`name=wire&alias=champion&at=${moved.changed_at - 1}`);
      assert.deepEqual(justBefore.json.at, { champion: "1" });
      const atMove = await get(`name=wire&at=${moved.changed_at}`);
      assert.equal((atMove.json.at as Record<string, string>).champion, "2");
      const latest = await aliasHistory(client, { name: "wire", at: new Date() });
      assert.deepEqual(latest.at, { champion: "2" });
      assert.deepEqual(latest.at_stages, { Staging: "2" });

      // pages of 2, through the SDK and by hand
      const paged = await aliasHistory(client, { name: "wire", pageSize: 2 });
      assert.deepEqual(paged.history, rows);
      const page1 = await aliasHistoryPage(client, { name: "wire", max_results: 2 });
      assert.equal(page1.history.length, 2);
      assert.equal(typeof page1.next_page_token, "string");
      const page2 = await get(`name=wire&max_results=2&page_token=${encodeURIComponent(page1.next_page_token!)}`);
      assert.deepEqual(page2.json.history, rows.slice(2, 4));

      assert.deepEqual(await get("name=nope"), {
        status: 404,
        json: { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Registered Model with name=nope not found" },
      });
      for (const query of [
        "",
        "name=wire&at=yesterday",
        "name=wire&at=-5",
        "name=wire&max_results=0",
        "name=wire&page_token=x",
      ]) {
        const bad = await get(query);
        assert.equal(bad.status, 400, query);
        assert.equal(bad.json.error_code, "INVALID_PARAMETER_VALUE", query);
      }
      const post = await fetch(`${server!.url}/api/2.0/slipway/registered-models/alias-history?name=wire`, {
        method: "POST",
      });
      assert.equal(post.status, 405);
      await rejectsWith(aliasHistory(client, { name: "wire", at: new Date("not a date") }), "INVALID_PARAMETER_VALUE");
    });
  });
}

httpSuite("SQLite", async () => {
  const server = await startTestServer();
  return { server, cleanup: () => server.stop() };
});

httpSuite("PostgreSQL", async () => {
  const temp = await createTempDatabase();
  if ("skip" in temp) return temp;
  const server = await startTestServer({ backendStoreUri: temp.url });
  return {
    server,
    async cleanup() {
      await server.stop();
      await temp.drop();
    },
  };
});

describe("X-Slipway-Reason encoding", () => {
  it("sends printable ASCII as it is and anything else percent-encoded after UTF-8''", () => {
    assert.equal(encodeReasonHeader("beats v2 on recall (+3%)"), "beats v2 on recall (+3%)");
    assert.equal(encodeReasonHeader("précis"), "UTF-8''pr%C3%A9cis");
    assert.equal(encodeReasonHeader("a\nb"), "UTF-8''a%0Ab");
    assert.equal(encodeReasonHeader("utf-8''literal"), "UTF-8''utf-8''literal");
    for (const reason of ["beats v2", "précis ✓ 🚀", "a\nb", "utf-8''literal", "100%"]) {
      assert.equal(decodeReasonHeader(encodeReasonHeader(reason)), reason);
    }
  });

  it("reads raw values, UTF-8 bytes read as Latin-1, and refuses broken ones", () => {
    assert.equal(decodeReasonHeader("50% off"), "50% off");
    assert.equal(decodeReasonHeader(Buffer.from("é", "utf8").toString("latin1")), "é");
    assert.equal(decodeReasonHeader("caf\u00e9"), "café", "Latin-1 that is not UTF-8 stays Latin-1");
    assert.equal(decodeReasonHeader("  "), undefined);
    assert.equal(reasonFromHeader(undefined), undefined);
    assert.equal(reasonFromHeader(["once"]), "once");
    assert.throws(() => reasonFromHeader(["a", "b"]), /once/);
    assert.throws(() => reasonFromHeader("UTF-8''%ZZ"), /percent-encoded/);
    assert.throws(() => reasonFromHeader("y".repeat(1001)), /limit is 1000/);
  });
});
