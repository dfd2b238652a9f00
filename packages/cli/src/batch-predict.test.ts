/**
 * End to end: `slipway batch-predict` as a child process against a real `slipway server`, with a text
 * classifier logged, registered and aliased through the SDK (`models:/spam@champion`): the local
 * executor (threads), the run it records, its bad-input answers, and the distributed executor on the
 * machine's real Redis with two `slipway worker` processes, one of them killed (SIGKILL) mid-chunk.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } from "@slipway/ml";
import { Slipway, TrackingClient, logModel, saveModelPackage, setAlias } from "@slipway/sdk";
import { BIN, runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";

const REDIS = "redis://127.0.0.1:6379";
const N = 12_000;
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

  it("--executor bullmq: two workers, one killed mid-chunk; the output is complete and in order", async (t) => {
    if (!(await redisAnswers())) {
      t.skip("Redis is not reachable at 127.0.0.1:6379 (start redis-server)");
      return;
    }
    const queue = `slipway-test-${randomUUID()}`;
    const workerArgs = ["worker", "--redis", REDIS, "--queue", queue, "--threads", "1", "--lock-duration", "2s"];
    const a = startWorker(workerArgs, env);
    const b = startWorker(workerArgs, env);
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
});

function redisAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port: 6379 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
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

interface WorkerProcess {
  readonly process: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

function startWorker(args: readonly string[], env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters: (() => void)[] = [];
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return {
    process: child,
    output: () => out,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms: ${out}`)),
          timeoutMs,
        );
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else waiters.push(check);
        };
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}
