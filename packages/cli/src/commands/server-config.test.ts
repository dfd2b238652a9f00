import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BIN, runSlipway } from "../testing/harness.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "slipway-server-config-"));
});
after(() => rm(dir, { recursive: true, force: true }));

test("slipway server reads the server: section of ./slipway.yaml (auth on from the file)", async () => {
  await writeFile(
    join(dir, "slipway.yaml"),
    `server:\n  port: 0\n  auth: true\n  backend_store_uri: sqlite:///${join(dir, "db", "slipway.db")}\n  artifacts_destination: ${join(dir, "artifacts")}\n`,
  );
  const server = spawn(process.execPath, [BIN, "server"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  try {
    const out = await new Promise<string>((resolve, reject) => {
      let text = "";
      server.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("settings:")) resolve(text);
      });
      server.once("exit", (code) => reject(new Error(`server exited with ${code}: ${text}`)));
    });
    assert.match(out, /auth:\s+on \(default permission READ\)/);
    assert.match(out, /settings:\s+slipway\.yaml \(server:\)/);
    const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
    const answer = await fetch(`${url}/api/2.0/mlflow/experiments/search?max_results=1`);
    assert.equal(answer.status, 401);
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => (server.exitCode !== null ? resolve(undefined) : server.once("exit", resolve)));
  }
});

test("a bad project file or --config path exits 2 naming the problem", async () => {
  const bad = join(dir, "bad.yaml");
  await writeFile(bad, "server:\n  prot: 5000\n");
  const unknown = await runSlipway(["server", "--config", bad]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /bad\.yaml: server\.prot: unknown setting/);
  const missing = await runSlipway(["server", "--config", join(dir, "nope.yaml")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--config: cannot read .*nope\.yaml/);
});
