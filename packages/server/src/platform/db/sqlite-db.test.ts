import assert from "node:assert/strict";
import { it } from "node:test";
import { SqliteDb } from "./sqlite-db.js";

async function withDb(fn: (db: SqliteDb) => Promise<void>): Promise<void> {
  const db = SqliteDb.open(":memory:");
  try {
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
    await fn(db);
  } finally {
    await db.close();
  }
}

it("group commit: concurrent transactions commit together, a failing one rolls back only itself", async () => {
  await withDb(async (db) => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.run(`INSERT INTO t (v) VALUES (?)`, [`a${i}`]);
          await tx.run(`INSERT INTO t (v) VALUES (?)`, [`b${i}`]);
          if (i % 5 === 0) throw new Error(`fail ${i}`);
          return i;
        }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      Array.from({ length: 20 }, (_, i) => (i % 5 === 0 ? "rejected" : "fulfilled")),
    );
    const rows = await db.all<{ v: string }>(`SELECT v FROM t ORDER BY id`);
    const expected = Array.from({ length: 20 }, (_, i) => i)
      .filter((i) => i % 5 !== 0)
      .flatMap((i) => [`a${i}`, `b${i}`]);
    assert.deepEqual(
      rows.map((r) => r.v),
      expected,
    );
  });
});

it("a constraint violation inside a grouped transaction undoes only that transaction's writes", async () => {
  await withDb(async (db) => {
    await db.run(`INSERT INTO t (v) VALUES ('taken')`);
    const [ok, bad] = await Promise.allSettled([
      db.transaction(async (tx) => tx.run(`INSERT INTO t (v) VALUES ('fresh')`)),
      db.transaction(async (tx) => {
        await tx.run(`INSERT INTO t (v) VALUES ('half')`);
        await tx.run(`INSERT INTO t (v) VALUES ('taken')`);
      }),
    ]);
    assert.equal(ok.status, "fulfilled");
    assert.equal(bad.status, "rejected");
    assert.deepEqual(
      (await db.all<{ v: string }>(`SELECT v FROM t ORDER BY id`)).map((r) => r.v),
      ["taken", "fresh"],
    );
  });
});

it("reads outside a transaction never see a transaction's uncommitted writes", async () => {
  await withDb(async (db) => {
    let seen: number | undefined;
    const tx = db.transaction(async (t) => {
      await t.run(`INSERT INTO t (v) VALUES ('x')`);
      await new Promise((r) => setTimeout(r, 20));
      throw new Error("abort");
    });
    const read = (async () => {
      await new Promise((r) => setTimeout(r, 5));
      seen = (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM t`))!.n;
    })();
    await assert.rejects(tx);
    await read;
    assert.equal(seen, 0);
  });
});
