/**
 * `slipway login`: checks credentials against the server (`whoami`) and saves an API token for the tracking URI in
 * the credentials file, which the CLI and the SDK then use. Signing in with a password creates a token named
 * `cli-login`, so the password itself is never stored.
 */
import type { Command } from "commander";
import type { CreateTokenResponse, WhoamiResponse } from "@slipway/protocol";
import { TrackingClient, resolveTrackingUri, saveCredentials } from "@slipway/sdk";
import { TRACKING_URI_HELP } from "../client.js";
import { UsageError } from "../errors.js";
import { stdoutOutput } from "../output.js";
import { authCall, readStdin } from "./users.js";

/** Asks on the terminal without echoing what is typed. */
async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = "";
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString("utf8")) {
          if (char === "\r" || char === "\n") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            resolve(text);
            return;
          }
          if (char === "\u0003") {
            stdin.off("data", onData);
            process.stderr.write("\n");
            reject(new UsageError("cancelled"));
            return;
          }
          if (char === "\u007f" || char === "\b") text = [...text].slice(0, -1).join("");
          else text += char;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

interface LoginFlags {
  trackingUri?: string;
  username?: string;
  passwordStdin?: boolean;
  tokenStdin?: boolean;
  json?: boolean;
}

export function registerLogin(program: Command): void {
  program
    .command("login")
    .description("Sign in to a tracking server and save an API token for it (~/.slipway/credentials)")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--username <name>", "sign in with this user's password (asked for, or read with --password-stdin)")
    .option("--password-stdin", "read the password from standard input")
    .option("--token-stdin", "save an existing API token read from standard input")
    .option("--json", "machine-readable output")
    .action(async (flags: LoginFlags) => {
      const uri = flags.trackingUri ?? resolveTrackingUri();
      let authorization: string;
      if (flags.tokenStdin) {
        if (flags.passwordStdin || flags.username !== undefined) {
          throw new UsageError("--token-stdin takes no --username or --password-stdin");
        }
        authorization = `Bearer ${await readStdin("token")}`;
      } else {
        if (flags.username === undefined)
          throw new UsageError("give --username NAME (with --password-stdin), or --token-stdin");
        let password: string;
        if (flags.passwordStdin) password = await readStdin("password");
        else if (process.stdin.isTTY && process.stderr.isTTY) password = await promptHidden("Password: ");
        else throw new UsageError("no terminal to ask for the password: pipe it in with --password-stdin");
        authorization = `Basic ${Buffer.from(`${flags.username}:${password}`, "utf8").toString("base64")}`;
      }
      const client = new TrackingClient({
        trackingUri: uri,
        maxRetries: 1,
        credentialsEnv: false,
        headers: { authorization },
      });
      const who = await authCall<WhoamiResponse>(client, "GET", "/slipway/auth/whoami");
      let token = authorization.slice("Bearer ".length);
      if (!flags.tokenStdin) {
        const created = await authCall<CreateTokenResponse>(client, "POST", "/slipway/tokens/create", {
          name: "cli-login",
        });
        token = created.secret;
      }
      const path = await saveCredentials(uri, { token, username: who.user.username, saved: Date.now() });
      const out = stdoutOutput(flags.json === true);
      if (out.json) out.write(JSON.stringify({ user: who.user, tracking_uri: uri, credentials_file: path }));
      else
        out.write(
          `Signed in to ${uri} as '${who.user.username}'${who.user.is_admin ? " (admin)" : ""}; token saved in ${path}`,
        );
    });
}
