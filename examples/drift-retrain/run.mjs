// run.mjs — the closed loop in one command: drift → alert → retraining → gate → canary → promotion, under
// steady traffic, with no failed request.
//
//   npm run example:drift-retrain                    (= node examples/drift-retrain/run.mjs; after `npx tsc -b`)
//   node examples/drift-retrain/run.mjs --keep       (leave the data directory for the UI)
//
// Every part is a real process on embedded defaults (SQLite and local files in a temporary directory, no Redis):
//  1. `slipway server` (the control plane, with its monitor scheduler and canary controller); the spam example
//     (examples/spam-classifier/train.mjs) trains the champion on the SpamAssassin corpus and registers it;
//  2. `slipway deploy create spam` and `slipway serve --deployment spam` (inference logging on); 4 clients send
//     steady traffic for the whole run, every request counted;
//  3. after a warm-up, the traffic shifts to a new kind of spam (campaign.mjs) the champion calls ham; the true
//     labels come back through the feedback endpoint 2 s after each answer;
//  4. the monitor of slipway.yaml (applied with `slipway monitor apply`) is evaluated every few seconds and raises alerts;
//  5. `slipway pipeline scheduler` starts pipeline.mjs on the `accuracy-drop` alert: it trains a challenger on
//     recent labelled traffic (a tracked run, a registered version), 6. gates it against the champion on held-out
//     recent traffic, 7. starts a canary that the control plane steps up and promotes; the model server swaps.
//  8. A timeline as it goes, a summary, and `failed requests: N` (exit 1 when N > 0 or a stage fails).
//
// Why child processes rather than `startServer` in this process: the script is then only a client, as a user's
// tools would be, so the timeline measures the real system (HTTP, processes, the scheduler's polling) and a
// stall in the script's own event loop cannot hide or cause one in the server's.
import { mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { trainTestSplit } from "@slipway/ml";
import { DeploymentsClient } from "@slipway/inference";
import { TrackingClient, aliasHistory, getPipelineRun } from "@slipway/sdk";
import { loadCorpus } from "../spam-classifier/corpus.mjs";
import { Processes, SLIPWAY_BIN, StageError } from "./processes.mjs";
import { CORPUS_SPLIT, DEPLOYMENT, MODEL, MONITOR, PIPELINE, TRIGGER_RULE } from "./settings.mjs";
import { Traffic } from "./traffic.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = resolve(HERE, "..", "..");

const { values: flags } = parseArgs({
  options: {
    keep: { type: "boolean", default: false },
    "data-dir": { type: "string" },
    clients: { type: "string", default: "4" },
    rate: { type: "string", default: "40" },
    warmup: { type: "string", default: "15" },
    "drift-share": { type: "string", default: "0.6" },
    "label-delay": { type: "string", default: "2" },
    "evaluate-every": { type: "string", default: "5" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log(`usage: node examples/drift-retrain/run.mjs [--keep] [--data-dir DIR] [--clients 4] [--rate 40]
       [--warmup 15] [--drift-share 0.6] [--label-delay 2] [--evaluate-every 5]

  --keep            leave the data directory (and print how to open it in the UI)
  --data-dir DIR    use DIR (new or empty) instead of a temporary directory
  --clients N       concurrent traffic clients
  --rate R          requests per second, all clients together
  --warmup S        seconds of normal traffic before the drift
  --drift-share P   share of requests from the new spam campaign after the drift
  --label-delay S   seconds between an answer and its label reaching the feedback endpoint
  --evaluate-every S  seconds between monitor evaluations`);
  process.exit(0);
}
function number(name, { min, max, integer = false }) {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    console.error(`--${name}: '${flags[name]}' is not ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}
const settings = {
  clients: number("clients", { min: 1, max: 64, integer: true }),
  rate: number("rate", { min: 1, max: 2000 }),
  warmupMs: number("warmup", { min: 0, max: 3600 }) * 1000,
  driftShare: number("drift-share", { min: 0.05, max: 1 }),
  labelDelayMs: number("label-delay", { min: 0, max: 60 }) * 1000,
  evaluateEveryMs: number("evaluate-every", { min: 0.5, max: 60 }) * 1000,
};

// ---------------------------------------------------------------------------------------------
// The timeline

const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const marks = {};
const fmt = (n, digits = 3) => (typeof n === "number" ? n.toFixed(digits) : "-");
const count = (n) => n.toLocaleString("en-US");

/** One line of the timeline: elapsed time, event, numbers. Remembers when each event first happened. */
function event(name, detail = "") {
  const at = elapsed();
  marks[name] ??= at;
  console.log(`${at.toFixed(1).padStart(7)} s  ${name.padEnd(16)} ${detail}`.trimEnd());
  return at;
}
/** Waits `ms` (the warm-up, the traffic's last seconds), failing at once when a process of the example died. */
async function pause(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (processes.crashed) throw processes.crashed;
    await sleep(Math.min(250, end - Date.now()));
  }
}
/** A progress line: what the script waits for next. */
const waiting = (what) => console.log(`${" ".repeat(11)}… ${what}`);

/** Polls `check` every `everyMs` until it answers something other than undefined; a StageError after `timeoutMs`. */
async function until(stage, timeoutMs, check, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (processes.crashed) throw processes.crashed;
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new StageError(stage, `not reached within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// The data directory and the processes

const dir = flags["data-dir"] ? resolve(flags["data-dir"]) : await mkdtemp(join(tmpdir(), "drift-retrain-"));
await mkdir(dir, { recursive: true });
if ((await readdir(dir)).length > 0) {
  console.error(`--data-dir ${dir}: not empty (the example starts from an empty store)`);
  process.exit(2);
}
const logs = join(dir, "logs");
await mkdir(logs);
const storeUri = `sqlite:///${join(dir, "db", "slipway.db")}`;
const artifacts = join(dir, "artifacts");
const env = { SLIPWAY_MODEL_CACHE: join(dir, "model-cache") };
const processes = new Processes(logs);
let traffic;
let monitorFired = new Map();
let exiting = false;

async function cleanUp() {
  await traffic?.stop().catch(() => undefined);
  await processes.stopAll();
  if (!flags.keep) await rm(dir, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    console.log(`\n${signal}: stopping the traffic and the processes…`);
    void cleanUp().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}

// ---------------------------------------------------------------------------------------------
// The loop

async function main() {
  console.log(`drift-retrain: data in ${dir}${flags.keep ? " (kept)" : ""}; process logs in ${logs}\n`);

  // 1. the control plane, and the champion
  const server = processes.start(
    "server",
    [SLIPWAY_BIN, "server", "--port", "0", "--backend-store-uri", storeUri, "--artifacts-destination", artifacts],
    { env, stage: "control plane" },
  );
  const [, url] = await processes.waitFor(server, /listening on (http:\/\/\S+)/, {
    stage: "control plane",
    timeoutMs: 60_000,
  });
  event("control plane", `slipway server on ${url} (SQLite ${join(dir, "db", "slipway.db")})`);
  const cli = { ...env, SLIPWAY_TRACKING_URI: url };
  const client = new TrackingClient({ trackingUri: url });

  // the pipeline scheduler needs nothing else: it starts while the champion trains
  let pipelineRunId;
  const scheduler = processes.start(
    "pipeline-scheduler",
    [SLIPWAY_BIN, "pipeline", "scheduler", "--pipelines", join(HERE, "pipeline.mjs"), "--alert-poll", "1s"],
    {
      env: cli,
      stage: "pipeline scheduler",
      onLine: (line) => {
        const m = new RegExp(`${PIPELINE}: pipeline ${PIPELINE}: run (\\w+) started`).exec(line);
        if (m) pipelineRunId ??= m[1];
      },
    },
  );
  const schedulerReady = processes
    .waitFor(scheduler, /scheduler: \d+ pipeline/, { stage: "pipeline scheduler", timeoutMs: 60_000 })
    .then(() =>
      event(
        "scheduler",
        `slipway pipeline scheduler: ${PIPELINE} on alert ${MONITOR}/${TRIGGER_RULE} (polled every 1 s)`,
      ),
    );
  schedulerReady.catch(() => undefined);

  waiting("training the champion: examples/spam-classifier/train.mjs on the SpamAssassin corpus");
  const trained = await processes.run("train-champion", [join(ROOT, "examples", "spam-classifier", "train.mjs")], {
    env: cli,
    stage: "champion",
    timeoutMs: 300_000,
  });
  const champion = /model: models:\/\S+\/(\d+)/.exec(trained)?.[1];
  const testLine = /test: accuracy ([\d.]+), F1 ([\d.]+)/.exec(trained);
  const sizes = /train (\d+), test (\d+)/.exec(trained);
  if (champion === undefined) throw new StageError("champion", `the spam example did not register a model: ${trained}`);
  event(
    "champion",
    `v${champion} @champion: trained on ${sizes?.[1]} SpamAssassin emails (2002-03 spam), ` +
      `test accuracy ${testLine?.[1]}, F1 ${testLine?.[2]} on ${sizes?.[2]}`,
  );
  await schedulerReady;

  // 2. the deployment, the model server (and meanwhile the monitor)
  await processes.run(
    "deploy-create",
    [SLIPWAY_BIN, "deploy", "create", DEPLOYMENT, "--model", `models:/${MODEL}@champion`],
    { env: cli, stage: "deployment", timeoutMs: 60_000 },
  );
  const serve = processes.start(
    "serve",
    [SLIPWAY_BIN, "serve", "--deployment", DEPLOYMENT, "--port", "0", "--tracking-uri", url],
    { env: cli, stage: "model server" },
  );
  const monitorApplied = processes
    .run("monitor-apply", [SLIPWAY_BIN, "monitor", "apply", "--file", join(HERE, "slipway.yaml")], {
      env: cli,
      stage: "monitor",
      timeoutMs: 60_000,
    })
    .then(() =>
      event(
        "monitor",
        `${MONITOR} applied (slipway.yaml): window 1 min, evaluated again ${settings.evaluateEveryMs / 1000} s after each evaluation; ` +
          `alerts accuracy-drop (accuracy > 0.05 below the champion's), text-drift`,
      ),
    );
  monitorApplied.catch(() => undefined);
  const [, serveUrl] = await processes.waitFor(serve, /listening on (http:\/\/\S+)/, {
    stage: "model server",
    timeoutMs: 120_000,
  });
  event(
    "model server",
    `slipway serve --deployment ${DEPLOYMENT} on ${serveUrl}: v${champion}, inference log on (every request)`,
  );
  await monitorApplied;

  // 3. the traffic
  const corpus = loadCorpus();
  const split = trainTestSplit(corpus.length, { ...CORPUS_SPLIT, stratify: corpus.map((r) => r.label) });
  const heldOut = Array.from(split.test, (i) => corpus[i]);
  traffic = new Traffic({
    url: serveUrl,
    model: MODEL,
    trackingUri: url,
    emails: heldOut,
    clients: settings.clients,
    rate: settings.rate,
    labelDelayMs: settings.labelDelayMs,
  });
  traffic.start();
  event(
    "traffic",
    `${settings.clients} clients, ${settings.rate} requests/s in all: the champion's ${heldOut.length} held-out emails; ` +
      `labels via /feedback ${settings.labelDelayMs / 1000} s after each answer`,
  );

  // the monitor's evaluations, on their short schedule, for the rest of the run
  const monitor = new MonitorLoop(url, settings.evaluateEveryMs);
  monitor.start();

  // 4. drift
  if (settings.warmupMs > 0) {
    waiting(`${settings.warmupMs / 1000} s of normal traffic before the drift`);
    await pause(settings.warmupMs);
  }
  traffic.injectDrift(settings.driftShare);
  const driftAt = event(
    "drift injected",
    `${Math.round(settings.driftShare * 100)}% of requests are now a new crypto-wallet phishing campaign ` +
      `(${count(traffic.sent)} requests so far, ${traffic.failed} failed)`,
  );
  monitor.driftAt = driftAt;

  waiting(`the ${TRIGGER_RULE} alert (up to 120 s)`);
  await until("drift alert", 120_000, () => (monitor.fired.has(TRIGGER_RULE) ? true : monitor.failure()));
  // the monitor did its part; its cron schedule goes on, its evaluations every few seconds need not (on two cores
  // they would slow the retraining down)
  monitor.stop();
  monitorFired = monitor.fired;

  // 5. the retraining pipeline
  waiting(`the scheduler to start ${PIPELINE} (up to 60 s)`);
  await until("pipeline start", 60_000, () => pipelineRunId);
  event("pipeline", `${PIPELINE} run ${pipelineRunId} started by the alert (steps collect → train → gate → canary)`);
  const steps = await followPipeline(client, pipelineRunId);

  // 6.-7. the canary and the promotion
  const version = steps.train.version;
  waiting(`the canary of v${version} to be stepped up and promoted (up to 120 s)`);
  const deployments = new DeploymentsClient(client);
  const seen = new Set();
  await until(
    "canary promotion",
    120_000,
    async () => {
      const { events } = await deployments.events(DEPLOYMENT, { max_results: 100 });
      for (const e of [...events].reverse()) {
        if (seen.has(e.event_id) || e.kind === "created" || e.kind === "updated") continue;
        seen.add(e.event_id);
        if (e.kind === "rolled_back" || e.kind === "load_failed") {
          throw new StageError("canary promotion", `${e.kind}: ${e.reason ?? ""}`);
        }
        event(e.kind === "promoted" ? "promoted" : `canary ${e.kind}`, `v${e.version ?? version}  ${e.reason}`);
        if (e.kind === "promoted") return true;
      }
      return undefined;
    },
    300,
  );
  const { history } = await aliasHistory(client, { name: MODEL, alias: "champion" });
  const move = history.find((h) => h.to_version === version);
  event("alias history", `champion v${move?.from_version} → v${move?.to_version}: "${move?.reason ?? "?"}"`);

  waiting(`the model server to answer with v${version} only (up to 60 s)`);
  await until("swap", 60_000, () => (traffic.onlyVersion(version, 100) ? true : undefined), 100);
  event("swap", `the last 100 answers all came from v${version} (${traffic.failed} failed requests so far)`);
  await pause(2000);
  await traffic.stop();
  event("traffic stopped", `${count(traffic.sent)} requests, ${count(traffic.labelsSent)} labels sent`);

  // 8. the summary
  summary({ champion, version, steps, driftAt });
}

/** Evaluates the monitor every few seconds (a pause between evaluations) and reports windows and new alerts. */
class MonitorLoop {
  constructor(url, everyMs) {
    this.url = url.replace(/\/+$/, "");
    this.everyMs = everyMs;
    this.fired = new Map();
    this.errors = 0;
    this.lastError = undefined;
    this.driftAt = undefined;
    this.windows = 0;
  }

  start() {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.evaluate().catch((error) => {
          this.errors++;
          this.lastError = error;
        });
        // a pause after each evaluation, not a fixed rate: an evaluation (the text drift test above all) keeps the
        // control plane's event loop busy for seconds on a small machine, and back-to-back ones would starve
        // the inference log's inserts
        await sleep(this.everyMs);
      }
    })();
  }

  stop() {
    this.running = false;
  }

  /** Three evaluations in a row that could not run are the stage's failure. */
  failure() {
    if (this.errors >= 3) throw new StageError("drift alert", `the monitor cannot be evaluated: ${this.lastError}`);
    return undefined;
  }

  async evaluate() {
    const response = await fetch(`${this.url}/api/2.0/slipway/monitors/${MONITOR}/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const body = await response.json();
    if (response.status === 409) return; // another evaluation of that instant is running
    if (!response.ok) throw new Error(`${body.error_code}: ${body.message}`);
    this.errors = 0;
    const w = body.window;
    if (w.status === "error") throw new Error(`window ${w.window_id}: ${w.error}`);
    const numbers = windowNumbers(w);
    // every third window before the drift (they all look alike), then every one until the alert
    if (w.rows > 0 && (this.driftAt === undefined ? this.windows++ % 3 === 0 : !this.fired.has(TRIGGER_RULE))) {
      event("monitor window", numbers);
    }
    const alerts = await (await fetch(`${this.url}/api/2.0/slipway/monitors/${MONITOR}/alerts?state=firing`)).json();
    for (const alert of alerts.alerts ?? []) {
      if (this.fired.has(alert.rule)) continue;
      this.fired.set(alert.rule, elapsed());
      event("drift alert", `monitor=${MONITOR} rule=${alert.rule}  ${numbers}`);
    }
  }
}

/** `1,204 rows (980 labelled): accuracy 0.62 (baseline 0.99), text drift score 0.87 (threshold 0.55)`. */
function windowNumbers(w) {
  const s = w.summary ?? {};
  const acc = s.performance?.metrics?.accuracy;
  const text = s.feature_drift?.columns?.find((c) => c.column === "text");
  const parts = [`${count(w.rows)} rows (${count(w.labelled)} labelled)`];
  if (acc) parts.push(`accuracy ${fmt(acc.value)} (baseline ${fmt(acc.baseline)})`);
  if (text) {
    parts.push(`text drift score ${fmt(text.score)} (threshold ${fmt(text.threshold)}${text.drift ? ", DRIFT" : ""})`);
  }
  return parts.join(": ").replace(": text", ", text");
}

/** Follows the pipeline run step by step until its canary step finished; the steps' outputs, by name. */
async function followPipeline(client, runId) {
  const done = new Set();
  const outputs = {};
  const numbers = {
    collect: (m) =>
      `${count(m.distinct_rows)} distinct labelled emails (${count(m.spam_rows)} spam) from the inference log + feedback; ` +
      `${count(m.train_rows)} to train, ${count(m.holdout_rows)} held out`,
    train: (m, o) =>
      `challenger v${o.version} registered (run ${o.runId}): trained on ${count(o.rows - o.recent)} corpus + ` +
      `${count(o.recent)} recent emails in ${fmt(m["system/train_seconds"], 1)} s; held-out F1 ${fmt(m.test_f1)}`,
    gate: (m, o) =>
      `${o.verdict} (candidate F1 ${fmt(o.candidate_f1)} vs champion v${o.baseline_version} ${fmt(o.baseline_f1)}); ` +
      `@challenger → v${outputs.train?.version}`,
    canary: (m, o) => `deployment ${o.deployment}: v${o.version} gets ${o.weight}% of requests`,
  };
  const names = { collect: "collected", train: "retrained", gate: "gate passed", canary: "canary started" };
  await until(
    "retraining pipeline",
    300_000,
    async () => {
      const info = await getPipelineRun(client, runId);
      for (const s of info.steps) {
        if (done.has(s.name)) continue;
        if (s.status === "FAILED" || s.status === "KILLED") {
          throw new StageError(
            `pipeline step ${s.name}`,
            `${s.status}: ${s.error ?? info.error ?? "see the step's log"}`,
          );
        }
        if (s.status !== "FINISHED") continue;
        done.add(s.name);
        const metrics = Object.fromEntries((s.run?.data.metrics ?? []).map((m) => [m.key, m.value]));
        const text = await readOutputs(client, s.run);
        outputs[s.name] = text;
        event(names[s.name] ?? s.name, numbers[s.name]?.(metrics, text) ?? "");
      }
      if (info.run.info.status === "FAILED") throw new StageError("retraining pipeline", info.error ?? "FAILED");
      return done.has("canary") ? true : undefined;
    },
    500,
  );
  return outputs;
}

async function readOutputs(client, run) {
  const local = await mkdtemp(join(tmpdir(), "drift-retrain-outputs-"));
  try {
    await client.artifacts.repository(run.info.artifact_uri).getFile("outputs.json", join(local, "o.json"));
    return JSON.parse(await readFile(join(local, "o.json"), "utf8"));
  } finally {
    await rm(local, { recursive: true, force: true });
  }
}

function summary({ champion, version, steps, driftAt }) {
  const since = (name) => (marks[name] === undefined ? "-" : `${(marks[name] - driftAt).toFixed(1)} s`);
  console.log("\nsummary");
  console.log(`  drift injected at                 ${driftAt.toFixed(1)} s`);
  console.log(`  drift → first alert               ${since("drift alert")}`);
  const trigger = monitorFired.get(TRIGGER_RULE);
  console.log(
    `  drift → ${TRIGGER_RULE} alert       ${trigger === undefined ? "-" : `${(trigger - driftAt).toFixed(1)} s`}`,
  );
  console.log(`  drift → pipeline started          ${since("pipeline")}`);
  console.log(`  drift → retrained version         ${since("retrained")}  (v${version})`);
  console.log(`  drift → gate passed               ${since("gate passed")}`);
  console.log(`  drift → promoted                  ${since("promoted")}`);
  console.log(`  drift → only the new version      ${since("swap")}`);
  const gate = steps.gate;
  console.log(
    `  gate (held-out recent traffic, ${gate.rows} emails): F1 champion v${champion} ${fmt(gate.baseline_f1)}, ` +
      `challenger v${version} ${fmt(gate.candidate_f1)}`,
  );
  for (const [v, s] of [...traffic.byVersion].sort(([a], [b]) => Number(a) - Number(b))) {
    const caught = s.campaign === 0 ? "-" : `${((100 * s.caught) / s.campaign).toFixed(1)}% of ${count(s.campaign)}`;
    const right = s.old === 0 ? "-" : `${((100 * s.right) / s.old).toFixed(1)}% of ${count(s.old)}`;
    console.log(
      `  live answers of v${v}${v === champion ? " (champion)" : v === version ? " (challenger)" : ""}: ` +
        `${count(s.requests)} requests; new campaign caught as spam ${caught}; other emails right ${right}`,
    );
  }
  console.log(
    `  requests ${count(traffic.sent)}, labels ${count(traffic.labelsSent)} (${traffic.labelErrors} not delivered)`,
  );
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  exitCode = 1;
  if (!exiting) {
    console.log(`\nFAILED: ${error instanceof Error ? error.message : String(error)}`);
    if (!(error instanceof StageError) && error instanceof Error) console.log(error.stack);
  }
}
if (!exiting) {
  if (traffic?.failures.length) console.log(`  first failures: ${JSON.stringify(traffic.failures.slice(0, 3))}`);
  await cleanUp();
  if (flags.keep) {
    console.log(`\nkept ${dir}; to look at it in the UI:`);
    console.log(`  npx slipway server --backend-store-uri ${storeUri} --artifacts-destination ${artifacts}`);
  }
  const failed = traffic?.failed ?? 0;
  if (failed > 0) exitCode = 1;
  console.log(`failed requests: ${failed}`);
  process.exit(exitCode);
}
