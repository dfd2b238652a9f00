import pg from "pg";
import {
  toDollarPlaceholders,
  type DbTimings,
  type Row,
  type SqlDb,
  type SqlExecutor,
  type SqlValue,
} from "./sql-db.js";

// BIGINT (int8) and NUMERIC come back as strings by default; our values fit in doubles.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

type Queryable = pg.Pool | pg.PoolClient;

export class PostgresDb implements SqlDb {
  readonly dialect = "postgres" as const;
  readonly timings: DbTimings = {};
  private readonly pool: pg.Pool;
  private readonly sqlCache = new Map<string, string>();
  private readonly poolExec: SqlExecutor;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
    this.poolExec = this.executor(pool);
  }

  static async open(connectionString: string, options: { max?: number } = {}): Promise<PostgresDb> {
    const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
    pool.on("error", () => {
      // an idle client lost its connection; the pool replaces it on next use
    });
    const client = await pool.connect();
    client.release();
    return new PostgresDb(pool);
  }

  private text(sql: string): string {
    let t = this.sqlCache.get(sql);
    if (t === undefined) {
      t = toDollarPlaceholders(sql);
      if (this.sqlCache.size > 2000) this.sqlCache.clear();
      this.sqlCache.set(sql, t);
    }
    return t;
  }

  private async query<T>(on: Queryable, sql: string, params: readonly SqlValue[], op: "read" | "write") {
    const t0 = performance.now();
    try {
      return await on.query<T & pg.QueryResultRow>(this.text(sql), params as unknown[]);
    } finally {
      this.timings.observer?.(op, (performance.now() - t0) / 1000);
    }
  }

  private executor(on: Queryable): SqlExecutor {
    return {
      dialect: "postgres",
      all: async <T>(sql: string, params: readonly SqlValue[] = []) =>
        (await this.query<T>(on, sql, params, "read")).rows as T[],
      get: async <T>(sql: string, params: readonly SqlValue[] = []) =>
        (await this.query<T>(on, sql, params, "read")).rows[0] as T | undefined,
      run: async (sql: string, params: readonly SqlValue[] = []) => ({
        changes: (await this.query(on, sql, params, "write")).rowCount ?? 0,
      }),
    };
  }

  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.poolExec.all<T>(sql, params);
  }
  get<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.poolExec.get<T>(sql, params);
  }
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.poolExec.run(sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const t0 = performance.now();
    try {
      await client.query("BEGIN");
      try {
        const result = await fn(this.executor(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
    } finally {
      client.release();
      this.timings.observer?.("transaction", (performance.now() - t0) / 1000);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
