import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { DbTimings, Row, SqlDb, SqlExecutor, SqlValue } from "./sql-db.js";

type Statement = Database.Statement<unknown[], unknown>;

interface PendingTx {
  fn: (tx: SqlExecutor) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Most logical transactions committed together. */
const MAX_GROUP = 64;

/**
 * SQLite through better-sqlite3 (synchronous). WAL with synchronous=NORMAL: a committed transaction
 * is in the WAL before the call returns, so it survives a killed process.
 *
 * Because the driver is synchronous and the store API is async, a transaction could otherwise see
 * another request's statements interleave between its awaits; so while a transaction is open every
 * other statement waits for it, and transactions run one group at a time (see `transaction`).
 */
export class SqliteDb implements SqlDb {
  readonly dialect = "sqlite" as const;
  readonly timings: DbTimings = {};
  private readonly db: Database.Database;
  private readonly cache = new Map<string, Statement>();
  private txTail: Promise<void> = Promise.resolve();
  private txOpen = false;
  private readonly pending: PendingTx[] = [];
  private draining = false;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  static open(path: string): SqliteDb {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    db.pragma("wal_autocheckpoint = 10000");
    db.pragma("case_sensitive_like = ON");
    db.pragma("cache_size = -8192");
    return new SqliteDb(db);
  }

  private stmt(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.cache.size > 2000) this.cache.clear();
      this.cache.set(sql, s);
    }
    return s;
  }

  private readonly direct: SqlExecutor = {
    dialect: "sqlite",
    all: <T>(sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.allSync<T>(sql, params)),
    get: <T>(sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.allSync<T>(sql, params)[0]),
    run: (sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.runSync(sql, params)),
  };

  private allSync<T>(sql: string, params: readonly SqlValue[]): T[] {
    const t0 = performance.now();
    const s = this.stmt(sql);
    const rows = (s.reader ? s.all(...params) : (s.run(...params), [])) as T[];
    this.timings.observer?.("read", (performance.now() - t0) / 1000);
    return rows;
  }

  private runSync(sql: string, params: readonly SqlValue[]): { changes: number } {
    const t0 = performance.now();
    const info = this.stmt(sql).run(...params);
    this.timings.observer?.("write", (performance.now() - t0) / 1000);
    return { changes: info.changes };
  }

  private async idle(): Promise<void> {
    while (this.txOpen) await this.txTail;
  }

  async all<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    if (this.txOpen) await this.idle();
    return this.allSync<T>(sql, params);
  }

  async get<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    if (this.txOpen) await this.idle();
    return this.allSync<T>(sql, params)[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    if (this.txOpen) await this.idle();
    return this.runSync(sql, params);
  }

  async exec(sql: string): Promise<void> {
    if (this.txOpen) await this.idle();
    this.db.exec(sql);
  }

  /**
   * Group commit: transactions requested in the same turn of the event loop share one physical
   * transaction, each inside its own SAVEPOINT so that one failing rolls back only itself. Every caller
   * is answered after the COMMIT, so an acknowledged write is durable, and each logical transaction is
   * still all or nothing. Under concurrent writers this turns N commits (the expensive part: WAL
   * frames) into one.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve, reject } as PendingTx);
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, MAX_GROUP);
      let release!: () => void;
      this.txTail = new Promise<void>((resolve) => (release = resolve));
      this.txOpen = true;
      const t0 = performance.now();
      const outcomes: { ok: boolean; value: unknown }[] = [];
      try {
        this.db.exec("BEGIN IMMEDIATE");
        const single = group.length === 1;
        for (const item of group) {
          if (!single) this.db.exec("SAVEPOINT slipway_tx");
          try {
            const value = await item.fn(this.direct);
            if (!single) this.db.exec("RELEASE slipway_tx");
            outcomes.push({ ok: true, value });
          } catch (error) {
            if (single) {
              if (this.db.inTransaction) this.db.exec("ROLLBACK");
            } else if (this.db.inTransaction) {
              this.db.exec("ROLLBACK TO slipway_tx");
              this.db.exec("RELEASE slipway_tx");
            } else {
              // the database rolled the whole group back (e.g. disk full): the earlier members are not durable
              for (const o of outcomes) if (o.ok) Object.assign(o, { ok: false, value: error });
              this.db.exec("BEGIN IMMEDIATE");
            }
            outcomes.push({ ok: false, value: error });
          }
        }
        if (this.db.inTransaction) this.db.exec("COMMIT");
      } catch (error) {
        // BEGIN or COMMIT failed: nothing of the group is durable
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        for (const item of group) item.reject(error);
        continue;
      } finally {
        this.txOpen = false;
        this.timings.observer?.("transaction", (performance.now() - t0) / 1000);
        release();
      }
      group.forEach((item, i) => {
        const o = outcomes[i]!;
        if (o.ok) item.resolve(o.value);
        else item.reject(o.value);
      });
    }
    this.draining = false;
  }

  close(): Promise<void> {
    this.cache.clear();
    this.db.close();
    return Promise.resolve();
  }
}
