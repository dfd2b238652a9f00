/**
 * End to end: `slipway runs reproduce` against a real server, on a real git repository whose training
 * script has moved on since the run (a later commit) and whose run had uncommitted changes.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL, fileURLToPath } from "node:url";
import type { Run } from "@slipway/protocol";
import { TrackingClient } from "@slipway/sdk";
import { compareRuns, relocateArgv } from "./commands/reproduce.js";
import { BIN, runNode, runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";

let server: ServerProcess;
let repo: string;
let client: TrackingClient;
const SDK = pathToFileURL(fileURLToPath(import.meta.resolve("@slipway/sdk"))).href;

/** A deterministic "trainer": its metrics depend on the code (SCALE), the seed and the data file. */
function trainer(scale: number): string {
  return `import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { Slipway } from ${JSON.stringify(SDK)};
const seed = Number(process.argv[process.argv.indexOf("--seed") + 1]);
import { offset } from "./offset.mjs";
const SCALE = ${scale} + offset;
const data = readFileSync("../data/train.csv", "utf8");
const values = data.trim().split("\\n").slice(1).map(Number);
const slipway = new Slipway();
const run = await slipway.startRun({ experiment: "reproduce-e2e", params: { seed } });
await run.logInput({ name: "train", digest: createHash("sha256").update(data).digest("hex").slice(0, 16), source_type: "local", source: "data/train.csv" }, "training");
let x = seed;
for (let step = 0; step < 5; step++) {
  x = (x * 1103515245 + 12345) % 2147483648;
  await run.logMetric("loss", (x / 2147483648) * SCALE + values[step % values.length], { step });
}
await run.logMetric("score", values.reduce((a, b) => a + b, 0) * SCALE + seed);
await run.end();
console.log("RUN_ID=" + run.id);
`;
}

function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: repo, encoding: "utf8" });
}

before(async () => {
  server = await startServerProcess("slipway-reproduce-");
  client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  repo = await mkdtemp(join(tmpdir(), "slipway-reproduce-repo-"));
  git("init", "-q", "-b", "main");
  git("config", "user.email", "t@example.com");
  git("config", "user.name", "t");
  execFileSync("mkdir", ["-p", join(repo, "data"), join(repo, "jobs")]);
  await writeFile(join(repo, "data", "train.csv"), "x\n1.5\n2.25\n3\n");
  await writeFile(join(repo, "jobs", "train.mjs"), trainer(2));
  git("add", "-A");
  git("commit", "-q", "-m", "trainer v1");
});

after(async () => {
  await server.stop();
  await rm(repo, { recursive: true, force: true });
});

test("reproduces a dirty run from a moved-on repository: same metrics, linked run, worktree removed", async () => {
  // the run happens with an uncommitted change (SCALE 3) and a new, untracked module, from a subdirectory
  await writeFile(join(repo, "jobs", "train.mjs"), trainer(3));
  await writeFile(join(repo, "jobs", "offset.mjs"), "export const offset = 0.25;\n");
  const first = await runNode(["train.mjs", "--seed", "7"], { SLIPWAY_TRACKING_URI: server.url }, join(repo, "jobs"));
  assert.equal(first.code, 0, first.stderr);
  const runId = /RUN_ID=(\w+)/.exec(first.stdout)?.[1];
  assert.ok(runId, first.stdout);
  // afterwards the code and the data move on
  await writeFile(join(repo, "jobs", "train.mjs"), trainer(5));
  await writeFile(join(repo, "data", "train.csv"), "x\n9\n9\n9\n");
  await writeFile(join(repo, "jobs", "offset.mjs"), "export const offset = 100;\n");
  git("add", "-A");
  git("commit", "-q", "-m", "trainer v2");

  const r = await runSlipway(
    ["runs", "reproduce", runId, "--expect-identical"],
    { SLIPWAY_TRACKING_URI: server.url },
    repo,
  );
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /applied the run's uncommitted changes/);
  assert.match(r.stdout, /identical: 2 metrics, 1 params and 1 dataset digests match/);
  const newId = /reproduced as (\w+)/.exec(r.stdout)?.[1];
  assert.ok(newId && newId !== runId);
  const { run } = await client.getRun({ run_id: newId });
  const tags = new Map((run.data.tags ?? []).map((t) => [t.key, t.value]));
  assert.equal(tags.get("slipway.reproduces"), runId);
  const history = await client.getMetricHistory({ run_id: newId, metric_key: "loss" });
  const original = await client.getMetricHistory({ run_id: runId, metric_key: "loss" });
  assert.deepEqual(
    history.metrics?.map((m) => m.value),
    original.metrics?.map((m) => m.value),
  );
  assert.equal(git("worktree", "list").trim().split("\n").length, 1, "the temporary worktree is removed");
});

test("a reproduction stopped by SIGTERM removes its worktree", async () => {
  await writeFile(
    join(repo, "slow.mjs"),
    `import { Slipway } from ${JSON.stringify(SDK)};
const run = await new Slipway().startRun({ experiment: "reproduce-slow" });
if (process.env.SLOW === "1") await new Promise((r) => setTimeout(r, 60_000));
await run.end();
console.log("RUN_ID=" + run.id);
`,
  );
  git("add", "-A");
  git("commit", "-q", "-m", "slow job");
  const first = await runNode(["slow.mjs"], { SLIPWAY_TRACKING_URI: server.url }, repo);
  const runId = /RUN_ID=(\w+)/.exec(first.stdout)?.[1];
  assert.ok(runId, first.stderr);
  const child = spawn(process.execPath, [BIN, "runs", "reproduce", runId], {
    cwd: repo,
    env: { ...process.env, SLIPWAY_TRACKING_URI: server.url, SLOW: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  await new Promise<void>((resolve) => {
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes("running:")) resolve();
    });
  });
  assert.equal(git("worktree", "list").trim().split("\n").length, 2, "the worktree exists while the command runs");
  child.kill("SIGTERM");
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 143, stderr);
  assert.equal(git("worktree", "list").trim().split("\n").length, 1, "the worktree is removed");
});

test("a run that recorded no git commit is refused with the reason (exit 2)", async () => {
  const { experiment_id } = await client.createExperiment({ name: "no-git" });
  const { run } = await client.createRun({ experiment_id, start_time: Date.now() });
  const r = await runSlipway(["runs", "reproduce", run.info.run_id], { SLIPWAY_TRACKING_URI: server.url }, repo);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /recorded no git commit/);
  const missing = await runSlipway(["runs", "reproduce", "0".repeat(32)], { SLIPWAY_TRACKING_URI: server.url }, repo);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /RESOURCE_DOES_NOT_EXIST/);
});

test("a commit missing from the repository is named", async () => {
  const { experiment_id } = await client.createExperiment({ name: "foreign-commit" });
  const { run } = await client.createRun({
    experiment_id,
    start_time: Date.now(),
    tags: [
      { key: "mlflow.source.git.commit", value: "f".repeat(40) },
      { key: "slipway.argv", value: JSON.stringify(["node", "x.mjs"]) },
    ],
  });
  const r = await runSlipway(["runs", "reproduce", run.info.run_id], { SLIPWAY_TRACKING_URI: server.url }, repo);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /commit f{40} is not in/);
});

function fakeRun(metrics: Record<string, number>, digest: string): Run {
  return {
    info: {
      run_id: createHash("md5")
        .update(JSON.stringify(metrics) + digest)
        .digest("hex"),
      run_uuid: "",
      run_name: "r",
      experiment_id: "1",
      user_id: "",
      status: "FINISHED",
      start_time: 0,
      artifact_uri: "",
      lifecycle_stage: "active",
    },
    data: {
      metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: 0, step: 0 })),
      params: [{ key: "seed", value: "1" }],
    },
    inputs: {
      dataset_inputs: [{ dataset: { name: "train", digest, source_type: "local", source: "x" } }],
    },
  };
}

test("compareRuns counts metric and dataset differences; relocateArgv moves repository paths", () => {
  const same = compareRuns(fakeRun({ f1: 0.9 }, "aa"), fakeRun({ f1: 0.9 }, "aa"));
  assert.equal(same.identical, true);
  const timings = compareRuns(
    fakeRun({ f1: 0.9, "system/train_seconds": 1.2 }, "aa"),
    fakeRun({ f1: 0.9, "system/train_seconds": 1.5 }, "aa"),
  );
  assert.equal(timings.identical, true, "system/ metrics (timings) are shown, not compared");
  assert.match(timings.text, /identical: 1 metrics.*system\/ metrics such as timings are not compared/);
  const different = compareRuns(fakeRun({ f1: 0.9, auc: 0.5 }, "aa"), fakeRun({ f1: 0.91 }, "bb"));
  assert.equal(different.identical, false);
  assert.equal(different.differences, 3);
  assert.match(different.text, /f1\s+0\.90000000\s+0\.91000000\s+1\.00e-2/);
  assert.deepEqual(
    relocateArgv(["/no/such/node", "/repo/a/train.mjs", "--out", "/repo2/x", "/repo"], "/repo", "/tmp/w"),
    [process.execPath, "/tmp/w/a/train.mjs", "--out", "/repo2/x", "/tmp/w"],
  );
});
