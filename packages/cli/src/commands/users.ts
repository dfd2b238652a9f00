/**
 * `slipway users`: `create-admin` works on the database directly (the bootstrap step, before any admin exists and
 * while no server runs); `create`, `list`, `delete` and `set-admin` go through the server's API as an admin.
 */
import type { Command } from "commander";
import { parseJson, type SlipwayUser } from "@slipway/protocol";
import type { TrackingClient } from "@slipway/sdk";
import { AuthService, defaultStoreUri, openDb, redact, schemaStatus, upgrade } from "@slipway/server";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { stdoutOutput, table } from "../output.js";

/** Calls an endpoint below /api/2.0 with the client's credentials. */
export async function authCall<T>(
  client: TrackingClient,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
): Promise<T> {
  const json = body === undefined ? undefined : JSON.stringify(body);
  return client.transport.request({
    method,
    path: `/api/2.0${path}`,
    headers: { accept: "application/json", ...(json === undefined ? {} : { "content-type": "application/json" }) },
    ...(json === undefined ? {} : { body: () => json }),
    read: async (response) => {
      const text = await response.text();
      return (text.trim() === "" ? {} : parseJson(text)) as T;
    },
  });
}

/** All of standard input, without its final line break (what `echo pw | slipway … --password-stdin` sends). */
export async function readStdin(what: string): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError(`--${what}-stdin: pipe the ${what} in (e.g. printf '%s' "$SECRET" | …)`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (text === "") throw new UsageError(`--${what}-stdin: standard input was empty`);
  return text;
}

/** The password from `--password` or `--password-stdin` (exactly one). */
export async function passwordFrom(flags: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if (flags.password !== undefined && flags.passwordStdin) {
    throw new UsageError("give --password or --password-stdin, not both");
  }
  if (flags.passwordStdin) return readStdin("password");
  if (flags.password !== undefined) return flags.password;
  throw new UsageError(
    "a password is required: --password-stdin (preferred; keeps it out of the process list) or --password",
  );
}

interface PasswordFlags {
  username: string;
  password?: string;
  passwordStdin?: boolean;
}

export function registerUsers(program: Command): void {
  const users = program.command("users").description("Manage users of a server running with --auth");

  users
    .command("create-admin")
    .description("Create an admin user directly in the database (works while the server is stopped)")
    .requiredOption("--username <name>", "the admin's username")
    .option("--password-stdin", "read the password from standard input")
    .option("--password <password>", "the password (visible in the process list; prefer --password-stdin)")
    .option(
      "--backend-store-uri <uri>",
      "the server's database (env SLIPWAY_BACKEND_STORE_URI; default ./slipway-data/slipway.db)",
    )
    .option("--json", "machine-readable output")
    .action(async (flags: PasswordFlags & { backendStoreUri?: string; json?: boolean }) => {
      const password = await passwordFrom(flags);
      const uri = flags.backendStoreUri ?? process.env.SLIPWAY_BACKEND_STORE_URI ?? defaultStoreUri();
      const db = await openDb(uri);
      try {
        const status = await schemaStatus(db);
        if (status.current > status.latest) {
          throw new Error(
            `the database is at schema version ${status.current}, newer than this Slipway knows (${status.latest})`,
          );
        }
        await upgrade(db);
        const auth = new AuthService({ db });
        const user = await auth.createUser({ username: flags.username, password, isAdmin: true });
        const out = stdoutOutput(flags.json === true);
        if (out.json)
          out.write(JSON.stringify({ user: { id: Number(user.id), username: user.username, is_admin: true } }));
        else out.write(`Created admin '${user.username}' in ${redact(uri)}`);
      } finally {
        await db.close();
      }
    });

  users
    .command("create")
    .description("Create a user (admin only)")
    .requiredOption("--username <name>", "username")
    .option("--password-stdin", "read the password from standard input")
    .option("--password <password>", "the password (visible in the process list; prefer --password-stdin)")
    .option("--admin", "make the user an admin")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (flags: PasswordFlags & ClientFlags & { admin?: boolean }) => {
      const password = await passwordFrom(flags);
      const client = clientFor(flags);
      const created = await authCall<{ user: { id: number; username: string } }>(
        client,
        "POST",
        "/mlflow/users/create",
        {
          username: flags.username,
          password,
        },
      );
      if (flags.admin) {
        await authCall(client, "PATCH", "/mlflow/users/update-admin", { username: flags.username, is_admin: true });
      }
      const out = stdoutOutput(flags.json === true);
      if (out.json) out.write(JSON.stringify({ user: { ...created.user, is_admin: flags.admin === true } }));
      else out.write(`Created ${flags.admin ? "admin" : "user"} '${created.user.username}'`);
    });

  users
    .command("create-service-account")
    .description("Create a service account: no password, authenticates with API tokens only (admin only)")
    .requiredOption("--username <name>", "the account's name")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (flags: ClientFlags & { username: string }) => {
      const created = await authCall<{ user: SlipwayUser }>(
        clientFor(flags),
        "POST",
        "/slipway/service-accounts/create",
        {
          username: flags.username,
        },
      );
      const out = stdoutOutput(flags.json === true);
      if (out.json) return out.write(JSON.stringify(created));
      out.write(
        `Created service account '${created.user.username}'; give it a token with: slipway tokens create --name NAME --username ${created.user.username}`,
      );
    });

  users
    .command("list")
    .description("List users (admin only)")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (flags: ClientFlags) => {
      const { users: list } = await authCall<{ users: SlipwayUser[] }>(clientFor(flags), "GET", "/slipway/users/list");
      const out = stdoutOutput(flags.json === true);
      if (out.json) return out.write(JSON.stringify(list));
      out.write(
        table(
          ["ID", "USERNAME", "ADMIN", "KIND"],
          list.map((u) => [u.id, u.username, u.is_admin ? "yes" : "", u.kind]),
        ),
      );
    });

  users
    .command("delete")
    .description("Delete a user with their tokens, sessions and permissions (admin only)")
    .requiredOption("--username <name>", "username")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .action(async (flags: ClientFlags & { username: string }) => {
      await authCall(clientFor(flags), "DELETE", "/mlflow/users/delete", { username: flags.username });
      stdoutOutput(false).write(`Deleted user '${flags.username}'`);
    });

  users
    .command("set-admin")
    .description("Grant (or with --revoke, take away) admin rights (admin only)")
    .requiredOption("--username <name>", "username")
    .option("--revoke", "make the user a non-admin")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .action(async (flags: ClientFlags & { username: string; revoke?: boolean }) => {
      const isAdmin = flags.revoke !== true;
      await authCall(clientFor(flags), "PATCH", "/mlflow/users/update-admin", {
        username: flags.username,
        is_admin: isAdmin,
      });
      stdoutOutput(false).write(`'${flags.username}' is ${isAdmin ? "now an admin" : "no longer an admin"}`);
    });
}
