// Shared by the benchmarks: a `slipway server` child process on a fresh SQLite store in `dir`, resolved with
// its URL once it listens.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../packages/cli/bin/slipway.js", import.meta.url));

export async function spawnServer(dir, extraArgs = []) {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "server",
      "--port",
      "0",
      "--backend-store-uri",
      `sqlite:///${join(dir, "slipway.db")}`,
      "--artifacts-destination",
      join(dir, "artifacts"),
      "--log-level",
      "silent",
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { child, url };
}
