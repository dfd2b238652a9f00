/**
 * The one SQL seam every store is written against. Statements use `?` placeholders; each dialect
 * rewrites them as it needs. Rows come back as plain objects with numbers for BIGINT columns.
 */
export type Dialect = "sqlite" | "postgres";
export type SqlValue = string | number | bigint | null | Uint8Array;
export type Row = Record<string, unknown>;

export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export interface SqlDb extends SqlExecutor {
  /** Runs `fn` in one transaction: all of it commits, or none of it does. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs DDL and other multi-statement text with no parameters. */
  exec(sql: string): Promise<void>;
  /** Total time spent inside the database driver, in seconds, by operation kind. */
  readonly timings: DbTimings;
  close(): Promise<void>;
}

export interface DbTimings {
  /** Called after every statement with its kind and duration in seconds. */
  observer?: (op: "read" | "write" | "transaction", seconds: number) => void;
}

/** Rewrites `?` placeholders to `$1, $2, ...`, leaving quoted text alone. */
export function toDollarPlaceholders(sql: string): string {
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      if (c === quote) quote = null;
      out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === "?") {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  return out;
}

/** A piece of SQL text with the values of its placeholders, in order. */
export interface Fragment {
  sql: string;
  params: SqlValue[];
}

/** `?, ?, ?` for a list of `n` values. */
export function placeholders(n: number): string {
  return new Array<string>(n).fill("?").join(", ");
}

/** Builds `(?, ?, ?), (?, ?, ?)` for a multi-row insert of `rows` rows of `width` values. */
export function valuesList(rows: number, width: number): string {
  const one = `(${new Array<string>(width).fill("?").join(", ")})`;
  return new Array<string>(rows).fill(one).join(", ");
}
