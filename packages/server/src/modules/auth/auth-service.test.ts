/** The AuthService contract on SQLite and on PostgreSQL (skipped, with the reason, when none is reachable). */
import { openPostgresTestDatabase, openSqliteTestDatabase } from "../../testing/databases.js";
import { authServiceContract } from "./auth-service.contract.js";

authServiceContract("SQLite", () => openSqliteTestDatabase("slipway-auth-"));
authServiceContract("PostgreSQL", () => openPostgresTestDatabase("slipway-auth-"));
