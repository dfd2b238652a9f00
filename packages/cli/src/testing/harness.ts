/** Test support for end-to-end tests: the real `slipway` command and a real server, in child processes. */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/slipway.js", import.meta.url));

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ARGS` to completion with extra environment, collecting its output. */
export function runNode(args: readonly string[], env: Record<string, string> = {}, cwd?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `slipway ARGS`. */
export function runSlipway(args: readonly string[], env: Record<string, string> = {}, cwd?: string): Promise<Result> {
  return runNode([BIN, ...args], env, cwd);
}

export interface ServerProcess {
  url: string;
  /** A fresh directory: the store is `db/slipway.db`, the artifacts `artifacts/`; tests may use the rest. */
  dir: string;
  /** Stops the server (SIGTERM) and removes the directory. */
  stop(): Promise<void>;
}

/** Starts `slipway server` on a free port with a fresh SQLite store in a temporary directory (plus `extraArgs`). */
export async function startServerProcess(
  prefix = "slipway-e2e-",
  extraArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const server = spawn(
    process.execPath,
    [
      BIN,
      "server",
      "--port",
      "0",
      "--backend-store-uri",
      `sqlite:///${join(dir, "db", "slipway.db")}`,
      "--artifacts-destination",
      join(dir, "artifacts"),
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return {
    url,
    dir,
    async stop() {
      server.kill("SIGTERM");
      await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once("exit", r)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
