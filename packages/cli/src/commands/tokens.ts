/** `slipway tokens`: create (the secret is printed once), list and revoke API tokens. */
import type { Command } from "commander";
import type { ApiTokenInfo, CreateTokenResponse } from "@slipway/protocol";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { formatTime, stdoutOutput, table } from "../output.js";
import { authCall } from "./users.js";

function tokenState(t: ApiTokenInfo, now: number): string {
  if (t.revoked_at !== undefined) return "revoked";
  if (t.expires_at !== undefined && t.expires_at <= now) return "expired";
  return "active";
}

export function registerTokens(program: Command): void {
  const tokens = program.command("tokens").description("Manage API tokens (MLFLOW_TRACKING_TOKEN)");

  tokens
    .command("create")
    .description("Create an API token; its secret is printed once and cannot be shown again")
    .requiredOption("--name <name>", "what the token is for, e.g. 'ci'")
    .option("--expires-in-days <days>", "expire after this many days (default: never)")
    .option("--username <name>", "admins: a token for this user or service account")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (flags: ClientFlags & { name: string; expiresInDays?: string; username?: string }) => {
      let days: number | undefined;
      if (flags.expiresInDays !== undefined) {
        days = Number(flags.expiresInDays);
        if (!Number.isFinite(days) || days <= 0) {
          throw new UsageError(`--expires-in-days: '${flags.expiresInDays}' is not a positive number`);
        }
      }
      const created = await authCall<CreateTokenResponse>(clientFor(flags), "POST", "/slipway/tokens/create", {
        name: flags.name,
        ...(days === undefined ? {} : { expires_in_days: days }),
        ...(flags.username === undefined ? {} : { username: flags.username }),
      });
      const out = stdoutOutput(flags.json === true);
      if (out.json) return out.write(JSON.stringify(created));
      const expiry = created.token.expires_at === undefined ? "never" : formatTime(created.token.expires_at);
      out.write(
        `Created token '${created.token.name}' (id ${created.token.id}, expires ${expiry}).\n` +
          `Secret (shown once; store it now):\n${created.secret}\n\nUse it with: export MLFLOW_TRACKING_TOKEN=<secret>`,
      );
    });

  tokens
    .command("list")
    .description("List your API tokens (admins: --username for someone else's)")
    .option("--username <name>", "admins: this user's tokens")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (flags: ClientFlags & { username?: string }) => {
      const query = flags.username === undefined ? "" : `?username=${encodeURIComponent(flags.username)}`;
      const { tokens: list } = await authCall<{ tokens: ApiTokenInfo[] }>(
        clientFor(flags),
        "GET",
        `/slipway/tokens/list${query}`,
      );
      const out = stdoutOutput(flags.json === true);
      if (out.json) return out.write(JSON.stringify(list));
      const now = Date.now();
      out.write(
        table(
          ["ID", "NAME", "PREFIX", "STATE", "CREATED", "EXPIRES", "LAST USED"],
          list.map((t) => [
            t.id,
            t.name,
            `${t.prefix}…`,
            tokenState(t, now),
            formatTime(t.created),
            t.expires_at === undefined ? "never" : formatTime(t.expires_at),
            formatTime(t.last_used_at),
          ]),
        ),
      );
    });

  tokens
    .command("revoke")
    .description("Revoke an API token (yours; admins: anyone's)")
    .requiredOption("--id <id>", "the token's id (see 'slipway tokens list')")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .action(async (flags: ClientFlags & { id: string }) => {
      await authCall(clientFor(flags), "POST", "/slipway/tokens/revoke", { id: flags.id });
      stdoutOutput(false).write(`Revoked token ${flags.id}`);
    });
}
