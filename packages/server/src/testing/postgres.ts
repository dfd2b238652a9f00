/** Test support: a fresh PostgreSQL database per test run on the machine's server, dropped afterwards. */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const PG_ADMIN_URL = process.env.SLIPWAY_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates a database with a random name; returns null with the reason when no server is reachable. */
export async function createTempDatabase(): Promise<TempDatabase | { skip: string }> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    return {
      skip: `PostgreSQL not reachable at ${PG_ADMIN_URL.replace(/\/\/[^@]*@/, "//")} (${(error as Error).message})`,
    };
  }
  const name = `slipway_test_${randomBytes(6).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
