/** End to end: the real `slipway` command in child processes, against a real server process. */
import assert from "node:assert/strict";
import { writeFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { runNode, runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";

const QUICKSTART = fileURLToPath(new URL("../../../examples/quickstart/quickstart.mjs", import.meta.url));
const slipway = runSlipway;
const node = runNode;

let dir: string;
let url: string;
let server: ServerProcess;

before(async () => {
  server = await startServerProcess("slipway-cli-");
  ({ dir, url } = server);
});

after(async () => {
  await server.stop();
});

describe("slipway CLI", () => {
  it("prints usage errors as one line and exits 2", async () => {
    const bad = await slipway(["server", "--port", "seventy"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--port: 'seventy' is not a port number/);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    const unknown = await slipway(["server", "--frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--frobnicate'/);
    const store = await slipway(["server", "--backend-store-uri", "mysql://x"]);
    assert.equal(store.code, 2);
    assert.match(store.stderr, /--backend-store-uri: 'mysql:\/\/x' is not supported/);
    const version = await slipway(["--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  it("refuses a port that is taken with a clear message", async () => {
    const port = new URL(url).port;
    const r = await slipway([
      "server",
      "--port",
      port,
      "--backend-store-uri",
      `sqlite:///${join(dir, "other.db")}`,
      "--artifacts-destination",
      join(dir, "a2"),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /address already in use|EADDRINUSE/i);
  });

  it("creates, lists and deletes experiments, as tables and as JSON", async () => {
    const env = { SLIPWAY_TRACKING_URI: url };
    const created = await slipway(["experiments", "create", "cli-exp"], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created experiment 'cli-exp' with id (\d+)/);
    const id = /with id (\d+)/.exec(created.stdout)![1]!;
    const list = await slipway(["experiments", "list"], env);
    assert.match(list.stdout, /^ID\s+NAME\s+STAGE/m);
    assert.match(list.stdout, new RegExp(`^${id}\\s+cli-exp\\s+active`, "m"));
    const json = await slipway(["experiments", "list", "--json", "--tracking-uri", url]);
    const parsed = JSON.parse(json.stdout) as { name: string }[];
    assert.ok(parsed.some((e) => e.name === "cli-exp"));
    const dup = await slipway(["experiments", "create", "cli-exp"], env);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /RESOURCE_ALREADY_EXISTS/);
    assert.equal((await slipway(["experiments", "delete", id], env)).code, 0);
    const deleted = await slipway(["experiments", "list", "--view", "deleted", "--json"], env);
    assert.ok((JSON.parse(deleted.stdout) as { experiment_id: string }[]).some((e) => e.experiment_id === id));
  });

  it("searches and shows runs", async () => {
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${url}/api/2.0/mlflow/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return (await r.json()) as Record<string, unknown>;
    };
    const { experiment_id } = (await post("experiments/create", { name: "cli-runs" })) as { experiment_id: string };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { run } = (await post("runs/create", { experiment_id, run_name: `r${i}` })) as {
        run: { info: { run_id: string } };
      };
      ids.push(run.info.run_id);
      await post("runs/log-batch", {
        run_id: run.info.run_id,
        metrics: [{ key: "acc", value: i / 2, timestamp: 1 }],
        params: [{ key: "lr", value: "0.1" }],
      });
    }
    const env = { MLFLOW_TRACKING_URI: url };
    const search = await slipway(
      [
        "runs",
        "search",
        "--experiment-name",
        "cli-runs",
        "--filter",
        "metrics.acc > 0.2",
        "--order-by",
        "metrics.acc DESC",
        "--json",
      ],
      env,
    );
    assert.equal(search.code, 0, search.stderr);
    assert.deepEqual(
      (JSON.parse(search.stdout) as { info: { run_name: string } }[]).map((r) => r.info.run_name),
      ["r2", "r1"],
    );
    const table = await slipway(["runs", "list", "--experiment-id", experiment_id], env);
    assert.match(table.stdout, /RUN ID\s+NAME\s+STATUS\s+STARTED\s+DURATION\s+acc/);
    const get = await slipway(["runs", "get", ids[0]!], env);
    assert.match(get.stdout, /PARAM\s+VALUE\n-+\s+-+\nlr\s+0.1/);
    const badFilter = await slipway(["runs", "search", "--filter", "metrics.acc >> 1"], env);
    assert.equal(badFilter.code, 1);
    assert.match(badFilter.stderr, /INVALID_PARAMETER_VALUE/);
    const missing = await slipway(["runs", "get", "0123456789abcdef0123456789abcdef"], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /RESOURCE_DOES_NOT_EXIST: Run with id=0123456789abcdef0123456789abcdef not found/);
  });

  it("runs README's quickstart, then shows its run and artifacts through the CLI", async () => {
    const env = { SLIPWAY_TRACKING_URI: url };
    const r = await node([QUICKSTART], env);
    assert.equal(r.code, 0, r.stderr);
    const runId = /logged run ([0-9a-f]{32})/.exec(r.stdout)?.[1];
    assert.ok(runId, r.stdout);
    const search = await slipway(
      ["runs", "search", "--experiment-name", "quickstart", "--filter", "metrics.loss < 0.5", "--json"],
      env,
    );
    const runs = JSON.parse(search.stdout) as {
      info: { run_id: string; status: string };
      data: { metrics: { key: string; value: number }[]; params: { key: string; value: string }[] };
    }[];
    const run = runs.find((x) => x.info.run_id === runId);
    assert.ok(run, search.stdout);
    assert.equal(run.info.status, "FINISHED");
    assert.deepEqual(run.data.metrics.find((m) => m.key === "loss")?.value, 0.2);
    assert.deepEqual(run.data.params.map((p) => [p.key, p.value]).sort(), [
      ["epochs", "5"],
      ["lr", "0.01"],
    ]);
    const list = await slipway(["artifacts", "list", runId, "--path", "eval"], env);
    assert.match(list.stdout, /eval\/summary\.json\s+file\s+\d+/);
    const dst = join(dir, "download");
    const down = await slipway(["artifacts", "download", runId, "--path", "eval/summary.json", "--dst", dst], env);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /Downloaded to .*eval\/summary\.json/);
    assert.deepEqual(JSON.parse(await readFile(join(dst, "eval", "summary.json"), "utf8")), { accuracy: 0.93 });
    await writeFile(join(dir, "notes.txt"), "hello");
    const up = await slipway(["artifacts", "log", runId, join(dir, "notes.txt"), "--artifact-path", "docs"], env);
    assert.equal(up.code, 0, up.stderr);
    const listed = await slipway(["artifacts", "list", runId, "--json"], env);
    const top = (JSON.parse(listed.stdout) as { path: string; is_dir: boolean }[])
      .filter((f) => f.is_dir)
      .map((f) => f.path);
    assert.ok(top.includes("docs") && top.includes("eval"), listed.stdout);
    const missing = await slipway(["artifacts", "log", runId, join(dir, "nope.txt")], env);
    assert.equal(missing.code, 2);
  });

  it("tells the user when the server cannot be reached", async () => {
    const r = await slipway(["experiments", "list", "--tracking-uri", "http://127.0.0.1:9"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the tracking server|ECONNREFUSED|fetch failed/i);
  });

  it("upgrades a database and garbage-collects deleted runs with their artifacts", async () => {
    const db = `sqlite:///${join(dir, "gc", "slipway.db")}`;
    const up = await slipway(["db", "upgrade", "--backend-store-uri", db]);
    assert.equal(up.code, 0, up.stderr);
    const latest = Number(/upgraded schema 0 → (\d+)/.exec(up.stdout)?.[1]);
    assert.ok(latest >= 1, up.stdout);
    const again = await slipway(["db", "upgrade", "--backend-store-uri", db, "--json"]);
    assert.deepEqual(JSON.parse(again.stdout), { from: latest, to: latest, applied: [] });

    // a run with an artifact, deleted, then collected
    const post = async (path: string, body: unknown) =>
      (await (
        await fetch(`${url}/api/2.0/mlflow/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json()) as Record<string, unknown>;
    const { run } = (await post("runs/create", { experiment_id: "0" })) as {
      run: { info: { run_id: string; artifact_uri: string } };
    };
    const path = run.info.artifact_uri.replace("mlflow-artifacts:/", "");
    await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${path}/note.txt`, { method: "PUT", body: "hello" });
    await writeFile(join(dir, "marker"), "x");
    await post("runs/delete", { run_id: run.info.run_id });
    const gc = await slipway([
      "gc",
      "--backend-store-uri",
      `sqlite:///${join(dir, "db", "slipway.db")}`,
      "--artifacts-destination",
      join(dir, "artifacts"),
      "--json",
    ]);
    assert.equal(gc.code, 0, gc.stderr);
    assert.ok((JSON.parse(gc.stdout) as { runs: string[] }).runs.includes(run.info.run_id));
    const gone = await fetch(`${url}/api/2.0/mlflow/runs/get?run_id=${run.info.run_id}`);
    assert.equal(gone.status, 404);
    await assert.rejects(readFile(join(dir, "artifacts", path, "note.txt")));
    const badAge = await slipway(["gc", "--older-than", "soon", "--backend-store-uri", db]);
    assert.equal(badAge.code, 2);
  });
});
