/** The inference-log contract on each database the SQL store supports. */
import { openPostgresTestDatabase, openSqliteTestDatabase } from "../../testing/databases.js";
import { inferenceLogContract } from "./inference-log.contract.js";

inferenceLogContract("SQL store on SQLite", () => openSqliteTestDatabase("slipway-inference-log-"));

inferenceLogContract("SQL store on PostgreSQL", () => openPostgresTestDatabase("slipway-inference-log-"));
