/** Test support for the auth commands: `slipway` with standard input and a clean environment; a server with --auth. */
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServerConfig, startServer, type RunningServer } from "@slipway/server";
import { BIN, type Result } from "./harness.js";

/** Runs `slipway ARGS` with `input` on standard input and only the given environment added to a clean one. */
export function slipway(
  args: readonly string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    ...options.env,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

export async function startAuthServerOn(storeUri: string, dir: string): Promise<RunningServer> {
  const config = loadServerConfig(
    {
      host: "127.0.0.1",
      port: 0,
      backendStoreUri: storeUri,
      artifactsDestination: join(dir, "artifacts"),
      logLevel: "silent",
      monitorScheduler: false,
      auth: true,
    },
    {},
  );
  return startServer(config, { auth: { scrypt: { N: 2 ** 10, r: 8, p: 1 } } });
}
