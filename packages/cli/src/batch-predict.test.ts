/**
 * End to end: `slipway batch-predict` as a child process against a real `slipway server`, with a text
 * classifier logged, registered and aliased through the SDK (`models:/spam@champion`): the local
 * executor (threads), the run it records, its bad-input answers, and the distributed executor on the
 * machine's real Redis with two `slipway worker` processes, one of them killed (SIGKILL) mid-chunk; and
 * both interrupted mid-way (SIGINT, SIGTERM), which must leave nothing behind: no output, no temporary
 * file, no chunk directory, no chunk job on the queue, and a run that ended KILLED.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } from "@slipway/ml";
import { Slipway, TrackingClient, logModel, saveModelPackage, setAlias } from "@slipway/sdk";
import { redisAnswers, startSlipway } from "./testing/processes.js";
import { runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";

const REDIS = "redis://127.0.0.1:6379";
const N = 12_000;
/** Rows of the input the interruption tests stop mid-way. */
const BIG = 300_000;
let server: ServerProcess;
let client: TrackingClient;
let env: Record<string, string>;
const path = (name: string) => join(server.dir, "work", name);

function text(i: number): string {
  return i % 5 === 0 ? `free money, win a "prize" number ${i}` : `please review the report for monday ${i}`;
}

before(async () => {
  server = await startServerProcess("slipway-batch-");
  client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  env = { SLIPWAY_TRACKING_URI: server.url, SLIPWAY_MODEL_CACHE: join(server.dir, "cache") };
  await mkdir(join(server.dir, "work"));
  const classifier = new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(
    ["win a free prize now", "free money click here", "meeting moved to monday", "please review the report"],
    ["spam", "spam", "ham", "ham"],
  );
  const pkg = path("package");
  await saveModelPackage(pkg, textClassifierPackage(classifier));
  const run = await new Slipway({ client, handleProcessExit: false }).startRun({
    experiment: "training",
    captureEnvironment: false,
  });
  await logModel(run, pkg, "model", { registeredModelName: "spam" });
  await run.end();
  await setAlias(client, "spam", "champion", 1);
  const lines = ["id,text"];
  for (let i = 0; i < N; i++) lines.push(`${i},"${text(i).replaceAll('"', '""')}"`);
  await writeFile(path("emails.csv"), `${lines.join("\n")}\n`);
  const big = ["id,text"];
  // row 3 is bad (no text): with --on-error skip the errors file is being written when the job stops
  for (let i = 0; i < BIG; i++) big.push(i === 3 ? "3," : `${i},"${text(i).replaceAll('"', '""')}"`);
  await writeFile(path("big.csv"), `${big.join("\n")}\n`);
});

after(() => server.stop());

function labelsOf(csv: string): string[] {
  return csv
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => /,(spam|ham),/.exec(line)?.[1] ?? `?${line}`);
}

describe("slipway batch-predict", () => {
  let localOutput = "";

  it("predicts every row in order on threads and records the run", async () => {
    const r = await runSlipway(
      ["batch-predict", "models:/spam@champion", "--input", path("emails.csv"), "--output", path("out.csv")],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`rows: +${N} read, ${N} written`));
    assert.match(r.stdout, /model: +models:\/spam\/1/);
    // not a terminal: plain progress lines, no bar
    assert.match(r.stderr, /batch-predict: \d+ rows written to .* rows\/s\)/);
    assert.doesNotMatch(r.stderr, /\r/);
    localOutput = await readFile(path("out.csv"), "utf8");
    const labels = labelsOf(localOutput);
    assert.equal(labels.length, N);
    labels.forEach((label, i) => assert.equal(label, i % 5 === 0 ? "spam" : "ham", `row ${i}`));
    assert.ok(localOutput.startsWith("id,label,probabilities\n0,spam,"));

    const runId = /run: +(\w+)/.exec(r.stdout)?.[1];
    assert.ok(runId, r.stdout);
    const { run } = await client.getRun({ run_id: runId });
    assert.equal(run.info.status, "FINISHED");
    const experiment = (await client.getExperiment({ experiment_id: run.info.experiment_id })).experiment;
    assert.equal(experiment.name, "batch-predict");
    const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
    assert.equal(params.model_uri, "models:/spam@champion");
    assert.equal(params.model_version, "1");
    assert.equal(params.input, path("emails.csv"));
    assert.equal(params.output, path("out.csv"));
    assert.equal(params.batch_size, "1000");
    assert.equal(params.executor, "local");
    assert.ok(Number(params.workers) >= 1);
    const metrics = Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));
    assert.equal(metrics.rows, N);
    assert.equal(metrics.errors, 0);
    assert.ok(metrics.duration_s! > 0 && metrics.rows_per_s! > 0);
    const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
    assert.equal(tags["slipway.model.version"], "1");
  });

  it("answers bad usage with exit 2 and bad input with exit 1, writing nothing", async () => {
    const usage = await runSlipway(["batch-predict", "models:/spam@champion", "--output", path("x.csv")], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /required option '--input <path>'/);
    const choice = await runSlipway(
      [
        "batch-predict",
        "models:/spam@champion",
        "--input",
        path("emails.csv"),
        "--output",
        path("x.csv"),
        "--on-error",
        "ignore",
      ],
      env,
    );
    assert.equal(choice.code, 2);
    assert.match(choice.stderr, /--on-error: 'ignore' is not one of fail, skip/);
    const noRedis = await runSlipway(
      ["batch-predict", "m", "--input", path("emails.csv"), "--output", path("x.csv"), "--executor", "bullmq"],
      env,
    );
    assert.equal(noRedis.code, 2);
    assert.match(noRedis.stderr, /--executor bullmq needs --redis/);
    const missing = await runSlipway(
      ["batch-predict", "models:/spam@champion", "--input", path("nope.csv"), "--output", path("x.csv")],
      env,
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.csv: no such file/);
    const unknown = await runSlipway(
      ["batch-predict", "models:/spam@nobody", "--input", path("emails.csv"), "--output", path("x.csv")],
      env,
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nobody/);
    assert.ok(!(await readdir(join(server.dir, "work"))).includes("x.csv"));
  });

  it("errors go to OUTPUT.errors.jsonl, named after the whole output name", async () => {
    await writeFile(path("some-bad.csv"), 'id,text\n0,"free money"\n1,\n2,hello\n');
    for (const output of ["named.csv", "named.jsonl"]) {
      const r = await runSlipway(
        [
          "batch-predict",
          "models:/spam@champion",
          "--input",
          path("some-bad.csv"),
          "--output",
          path(output),
          "--on-error",
          "skip",
          "--no-track",
        ],
        env,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`errors: +1 \\(in .*${output.replace(".", "\\.")}\\.errors\\.jsonl\\)`));
    }
    const files = await readdir(join(server.dir, "work"));
    assert.ok(files.includes("named.csv.errors.jsonl") && files.includes("named.jsonl.errors.jsonl"), files.join());
  });

  it("SIGINT mid-way: exit 130, nothing written, no temporary file left, the run KILLED", async () => {
    const job = startSlipway(
      [
        "batch-predict",
        "models:/spam@champion",
        "--input",
        path("big.csv"),
        "--output",
        path("stopped.csv"),
        "--on-error",
        "skip",
        "--workers",
        "1",
        "--batch-size",
        "100",
        "--progress-interval",
        "0.05",
      ],
      env,
    );
    const [, runId] = await job.waitFor(/tracking run (\w+)/);
    // rows written: the temporary output and errors files exist
    await job.waitFor(/batch-predict: +\d+% +[1-9][\d,]* rows/);
    job.process.kill("SIGINT");
    const { code } = await job.exited;
    assert.equal(code, 130, job.output());
    assert.match(job.output(), /interrupted: nothing written/);
    assert.doesNotMatch(job.output(), /rows: +\d+ read/);
    const files = await readdir(join(server.dir, "work"));
    assert.ok(!files.some((f) => f.includes("stopped.csv")), files.join(", "));
    assert.ok(!files.some((f) => f.endsWith(".tmp")), files.join(", "));
    const { run } = await client.getRun({ run_id: runId! });
    assert.equal(run.info.status, "KILLED");
  });

  it("--executor bullmq: two workers, one killed mid-chunk; the output is complete and in order", async (t) => {
    if (!(await redisAnswers())) {
      t.skip("Redis is not reachable at 127.0.0.1:6379 (start redis-server)");
      return;
    }
    const queue = `slipway-test-${randomUUID()}`;
    const workerArgs = ["worker", "--redis", REDIS, "--queue", queue, "--threads", "1", "--lock-duration", "2s"];
    const a = startSlipway(workerArgs, env);
    const b = startSlipway(workerArgs, env);
    try {
      await Promise.all([a.waitFor(/listening on queue/), b.waitFor(/listening on queue/)]);
      const coordinator = runSlipway(
        [
          "batch-predict",
          "models:/spam@champion",
          "--input",
          path("emails.csv"),
          "--output",
          path("dist.csv"),
          "--executor",
          "bullmq",
          "--redis",
          REDIS,
          "--queue",
          queue,
          "--chunk-rows",
          "1500",
        ],
        env,
      );
      // worker A is killed as soon as it holds a chunk
      const started = await a.waitFor(/chunk (\d+) of (\S+): started/);
      a.process.kill("SIGKILL");
      const [, chunk, batch] = started;
      const r = await coordinator;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(path("dist.csv"), "utf8"), localOutput);
      // the chunk A held was done by B after A's lock expired
      assert.match(b.output(), new RegExp(`chunk ${chunk} of ${batch}: done, 1500 rows written`));
      assert.doesNotMatch(a.output(), new RegExp(`chunk ${chunk} of ${batch}: done`));
      assert.ok(!(await readdir(join(server.dir, "work"))).some((f) => f.includes("chunks")));
      const runId = /run: +(\w+)/.exec(r.stdout)?.[1];
      const { run } = await client.getRun({ run_id: runId! });
      const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
      assert.equal(params.executor, "bullmq");
      assert.equal(params.chunk_rows, "1500");
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await obliterate(queue);
    }
  });

  it("--executor bullmq, SIGTERM mid-way: exit 143, no chunk job of the batch left on the queue, nothing written", async (t) => {
    if (!(await redisAnswers())) {
      t.skip("Redis is not reachable at 127.0.0.1:6379 (start redis-server)");
      return;
    }
    const queue = `slipway-test-${randomUUID()}`;
    const worker = startSlipway(["worker", "--redis", REDIS, "--queue", queue, "--threads", "1"], env);
    try {
      await worker.waitFor(/listening on queue/);
      const job = startSlipway(
        [
          "batch-predict",
          "models:/spam@champion",
          "--input",
          path("big.csv"),
          "--output",
          path("dist-stopped.csv"),
          "--on-error",
          "skip",
          "--executor",
          "bullmq",
          "--redis",
          REDIS,
          "--queue",
          queue,
          "--chunk-rows",
          "2000",
        ],
        env,
      );
      const [, runId] = await job.waitFor(/tracking run (\w+)/);
      const [, batch] = await job.waitFor(/batch (\S+): 150 chunks/);
      // chunks 0 and 1 are done (or nearly), the worker holds chunk 2, the others wait on the queue
      await worker.waitFor(new RegExp(`chunk 2 of ${batch}: started`));
      job.process.kill("SIGTERM");
      const { code } = await job.exited;
      assert.equal(code, 143, job.output());
      assert.match(job.output(), /interrupted: nothing written/);
      assert.equal(await jobsOnQueue(queue, batch!), 0);
      assert.equal(await redisCommand(["EXISTS", `bull:${queue}:cancelled:${batch}`]), ":0");
      const files = await readdir(join(server.dir, "work"));
      assert.ok(!files.some((f) => f.includes("dist-stopped.csv")), files.join(", "));
      assert.ok(!files.some((f) => f.endsWith(".tmp")), files.join(", "));
      const { run } = await client.getRun({ run_id: runId! });
      assert.equal(run.info.status, "KILLED");
      // the worker dropped nothing it should not have, and keeps serving
      assert.equal(worker.process.exitCode, null);
      assert.doesNotMatch(worker.output(), /failed:/);
    } finally {
      await worker.stop();
      await obliterate(queue);
    }
  });
});

/** How many jobs of the batch are on the queue: job hashes, and ids in any of the queue's states. */
async function jobsOnQueue(queue: string, batch: string): Promise<number> {
  const script = `
    local prefix, batch, n = ARGV[1], ARGV[2], 0
    n = n + #redis.call('KEYS', prefix .. batch .. '-*')
    local function count(ids)
      for _, id in ipairs(ids) do if string.sub(id, 1, #batch) == batch then n = n + 1 end end
    end
    for _, list in ipairs({'wait', 'active', 'paused'}) do count(redis.call('LRANGE', prefix .. list, 0, -1)) end
    for _, set in ipairs({'delayed', 'prioritized', 'completed', 'failed'}) do
      count(redis.call('ZRANGE', prefix .. set, 0, -1))
    end
    return n`;
  const reply = await redisCommand(["EVAL", script, "0", `bull:${queue}:`, batch]);
  assert.match(reply, /^:\d+$/, reply);
  return Number(reply.slice(1));
}

/** One Redis command (this package does not depend on a Redis client); the first line of the reply. */
function redisCommand(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port: 6379 });
    socket.once("connect", () =>
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`),
    );
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().split("\r\n")[0]!);
    });
    socket.once("error", reject);
  });
}

/** Deletes the test's queue from Redis (`FLUSH` of its keys through a worker-less Redis client). */
async function obliterate(queue: string): Promise<void> {
  // the CLI has no command for it, and this package does not depend on bullmq: delete the keys directly
  await new Promise<void>((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port: 6379 });
    const script = `for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1`;
    const args = ["EVAL", script, "0", `bull:${queue}:*`];
    socket.once("connect", () =>
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`),
    );
    socket.once("data", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", () => resolve());
  });
}
