/**
 * End to end: `slipway monitor …` against a real `slipway server --no-monitor-scheduler` process: usage errors
 * (exit 2, the flag named), create / list / get / run / windows / report / alerts / disable / delete, human tables and
 * --json, and server errors (exit 1). The main commands run as child processes; the many variations run `main()` in
 * this process (same code and exit codes, without a Node start-up each).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Monitor, MonitorAlert, MonitorWindow, MonitorWindowInfo } from "@slipway/protocol";
import { TrackingClient } from "@slipway/sdk";
import { main } from "./main.js";
import { BIN, runSlipway, type Result } from "./testing/harness.js";

const HOUR = 3_600_000;
const T = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR;

let dir: string;
let serverProcess: ChildProcess;
let url: string;

/** `slipway ARGS` in a child process. */
function spawned(args: string[]): Promise<Result> {
  return runSlipway(args, { SLIPWAY_TRACKING_URI: url });
}

let inProcess: Promise<unknown> = Promise.resolve();

/** `slipway ARGS` through `main()` in this process, one at a time, with stdout and stderr captured. */
function slipway(args: string[]): Promise<Result> {
  const result = inProcess.then(async () => {
    let stdout = "";
    let stderr = "";
    const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
    process.stdout.write = (chunk: string | Uint8Array): boolean => {
      stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return true;
    };
    process.stderr.write = (chunk: string | Uint8Array): boolean => {
      stderr += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return true;
    };
    try {
      const code = await main(["node", "slipway", ...args, ...(args[0] === "monitor" ? ["--tracking-uri", url] : [])]);
      return { code, stdout, stderr };
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
    }
  });
  inProcess = result.catch(() => undefined);
  return result;
}

async function ok(args: string[], run: (args: string[]) => Promise<Result> = slipway): Promise<string> {
  const r = await run(args);
  assert.equal(r.code, 0, `slipway ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A seeded x ~ N(shift, 1) and a category whose mix moves with the shift. */
function rows(n: number, shift: number, seed: number): { x: number; color: string }[] {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: n }, () => {
    const u = Math.max(rand(), 1e-9);
    const x = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand()) + shift;
    const color = rand() < (shift > 0 ? 0.8 : 0.3) ? "red" : "blue";
    return { x, color };
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "slipway-monitor-cli-"));
  serverProcess = spawn(
    process.execPath,
    [
      BIN,
      "server",
      "--port",
      "0",
      "--backend-store-uri",
      `sqlite:///${join(dir, "slipway.db")}`,
      "--artifacts-destination",
      join(dir, "artifacts"),
      "--no-monitor-scheduler",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  url = await new Promise<string>((resolve, reject) => {
    let out = "";
    serverProcess.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    serverProcess.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });

  // model spam v1 (alias champion) with its reference data, and two hours of traffic: clean, then drifted
  const client = new TrackingClient({ trackingUri: url, maxRetries: 0 });
  const { run } = await client.createRun({ experiment_id: "0" });
  const reference = rows(500, 0, 1)
    .map((r) => JSON.stringify({ ...r, prediction: r.x > 0 ? 1 : 0 }))
    .join("\n");
  await client.artifacts.logText(run.info.artifact_uri, reference, "model/reference_data.jsonl");
  await client.createRegisteredModel({ name: "spam" });
  await client.createModelVersion({ name: "spam", source: `runs:/${run.info.run_id}/model`, run_id: run.info.run_id });
  await client.setRegisteredModelAlias({ name: "spam", alias: "champion", version: "1" });
  const records = [0, 1.5].flatMap((shift, hour) =>
    rows(300, shift, 10 + hour).map((inputs, i) => ({
      request_id: `r-${hour}-${i}`,
      model_name: "spam",
      model_version: "1",
      timestamp_ms: T + hour * HOUR + i * 1000,
      inputs,
      outputs: inputs.x > 0 ? 1 : 0,
      latency_ms: 3 + (i % 5),
    })),
  );
  const logged = await fetch(`${url}/api/2.0/slipway/inference-log`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ records }),
  });
  assert.equal(logged.status, 200, await logged.text());
});

after(async () => {
  serverProcess.kill("SIGTERM");
  await new Promise((r) => (serverProcess.exitCode !== null ? r(undefined) : serverProcess.once("exit", r)));
  await rm(dir, { recursive: true, force: true });
});

describe("slipway monitor", () => {
  it("refuses bad flags with exit 2 and a message naming the flag", async () => {
    const base = [
      "monitor",
      "create",
      "--name",
      "m",
      "--model",
      "models:/spam@champion",
      "--window",
      "1h",
      "--schedule",
      "*/5 * * * *",
    ];
    const cases: [string[], RegExp][] = [
      [
        [...base.slice(0, 6), "--window", "5x", "--schedule", "* * * * *"],
        /--window: '5x' is not a duration \(examples: 30m, 1h/,
      ],
      [[...base.slice(0, 6), "--window", "30s", "--schedule", "* * * * *"], /--window: '30s' is not a duration/],
      [[...base.slice(0, 8), "--schedule", "*/5 * * *"], /--schedule: '\*\/5 \* \* \*': expected 5 fields/],
      [
        [...base.slice(0, 8), "--schedule", "0 25 * * *"],
        /--schedule: '0 25 \* \* \*': hour field '25': 25 is out of range 0-23/,
      ],
      [
        ["monitor", "create", "--name", "m", "--model", "spam", "--window", "1h", "--schedule", "* * * * *"],
        /--model: 'spam' is not models:\/NAME@ALIAS/,
      ],
      [
        [
          "monitor",
          "create",
          "--name",
          "m",
          "--model",
          "models:/spam/Production",
          "--window",
          "1h",
          "--schedule",
          "* * * * *",
        ],
        /not a stage/,
      ],
      [[...base, "--alert", "drift_share"], /--alert: 'drift_share': drift_share needs a threshold/],
      [[...base, "--alert", "error_rate"], /--alert: 'error_rate': error_rate needs a threshold, e.g. error_rate>0.01/],
      [[...base, "--alert", "boom>1"], /--alert: 'boom>1': 'boom' is not one of dataset_drift/],
      [[...base, "--alert", "metric_drop>0.1"], /name the metric, e.g. metric_drop:accuracy>0.05/],
      [[...base, "--alert", "metric_drop:precision>0.1"], /the metric 'precision' is not one of accuracy, f1, roc_auc/],
      [[...base, "--alert", "drift_share>lots"], /--alert: 'drift_share>lots'/],
      [
        [...base, "--alert", "dataset_drift", "--alert", "dataset_drift"],
        /the rule name 'dataset_drift' is used twice/,
      ],
      [[...base, "--webhook-secret", "s"], /--webhook-secret needs --webhook URL/],
      [[...base, "--webhook", "ftp://x"], /--webhook: 'ftp:\/\/x' is not an http\(s\) URL/],
      [[...base, "--drift-share", "2"], /--drift-share: '2' is not a number between 0 and 1/],
      [[...base, "--reference", "s3://bucket/ref.csv"], /--reference: 's3:\/\/bucket\/ref.csv' is not runs:\//],
      [["monitor", "create", "--name", "m"], /required option '--model <uri>' not specified/],
      [["monitor", "run", "m", "--end", "yesterday"], /--end: 'yesterday' is not a time/],
      [["monitor", "report", "m"], /required option '--out <file>' not specified/],
      [["monitor", "windows", "m", "--max-results", "0"], /--max-results: '0' is not a positive integer/],
      [["monitor", "alerts", "--state", "burning"], /--state: 'burning' is not firing or resolved/],
    ];
    const results = await Promise.all(cases.map(([args]) => slipway(args)));
    // and once through the real binary: the exit code a shell sees
    const real = await spawned(cases[2]![0]);
    assert.equal(real.code, 2, real.stderr);
    assert.match(real.stderr, cases[2]![1]);
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
    });
  });

  it("creates, lists, runs, reports and deletes a monitor, in tables and JSON", async () => {
    const created = await ok(
      [
        "monitor",
        "create",
        "--name",
        "spam-drift",
        "--model",
        "models:/spam@champion",
        "--window",
        "1h",
        "--schedule",
        "*/5 * * * *",
        "--alert",
        "drift_share>=0.5",
        "--alert",
        "rows=min_rows<10",
        "--webhook",
        "http://127.0.0.1:9/hook",
        "--webhook-secret",
        "s",
      ],
      spawned,
    );
    assert.match(
      created,
      /created monitor spam-drift: models:\/spam@champion, window 1h, schedule "\*\/5 \* \* \* \*" \(UTC\), enabled/,
    );
    assert.match(created, /alerts: drift_share>=0.5, rows=min_rows<10/);
    assert.match(created, /webhook: http:\/\/127.0.0.1:9\/hook \(signed\)/);

    const again = await slipway([
      "monitor",
      "create",
      "--name",
      "spam-drift",
      "--model",
      "spam@champion",
      "--window",
      "1h",
      "--schedule",
      "@hourly",
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /RESOURCE_ALREADY_EXISTS: Monitor 'spam-drift' already exists/);

    const listed = await ok(["monitor", "list"]);
    assert.match(listed, /^NAME +MODEL +WINDOW +SCHEDULE +ENABLED +ALERTS +NEXT RUN/);
    assert.match(listed, /spam-drift +spam@champion +1h +\*\/5 \* \* \* \* +yes +2/);
    const json = JSON.parse(await ok(["monitor", "list", "--json", "--model", "spam"])) as Monitor[];
    assert.deepEqual(
      json.map((m) => m.name),
      ["spam-drift"],
    );
    const got = JSON.parse(await ok(["monitor", "get", "spam-drift", "--json"])) as Monitor;
    assert.equal(got.window_ms, HOUR);
    assert.equal(got.alerts[1]!.name, "rows");

    const clean = await ok(["monitor", "run", "spam-drift", "--end", new Date(T + HOUR).toISOString()]);
    assert.match(clean, /: ok, 300 rows \(0 labelled\), versions 1/);
    assert.match(clean, /feature drift: no/);
    assert.match(clean, /^FEATURE +TYPE +TEST +SCORE +THRESHOLD +DRIFT/m);
    assert.match(clean, /latency: p50 5(\.0)? ms/);
    assert.match(clean, /requests: 300, 5xx 0 \(error rate 0\), 4xx 0 \(client error rate 0\)/);
    const drifted = JSON.parse(
      await ok(["monitor", "run", "spam-drift", "--end", String(T + 2 * HOUR), "--json"], spawned),
    ) as MonitorWindow;
    assert.equal(drifted.status, "ok");
    assert.equal(drifted.dataset_drift, true);
    assert.deepEqual(
      drifted.summary!.alerts.map((a) => a.active),
      [true, false],
    );
    const empty = await ok(["monitor", "run", "spam-drift", "--end", String(T + 5 * HOUR)]);
    assert.match(empty, /: empty, 0 rows/);
    assert.match(empty, /finding: no inference-log rows/);

    const windows = await ok(["monitor", "windows", "spam-drift"]);
    assert.match(windows, /^ID +END +STATUS +VERSIONS +ROWS/);
    const lines = windows.trim().split("\n").slice(2);
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /empty +0 +0/);
    assert.match(lines[1]!, /ok +1 +300 +0 +yes/);
    const windowsJson = JSON.parse(
      await ok(["monitor", "windows", "spam-drift", "--json", "--max-results", "2"]),
    ) as MonitorWindowInfo[];
    assert.equal(windowsJson.length, 2);

    const file = join(dir, "report.html");
    assert.match(
      await ok(["monitor", "report", "spam-drift", "--window", String(drifted.window_id), "--out", file], spawned),
      /wrote .*report\.html \(monitor spam-drift, window \d+\)/,
    );
    const html = await readFile(file, "utf8");
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /Monitor spam-drift/);
    assert.match(html, /Dataset drift/);
    const latest = join(dir, "latest.html");
    await ok(["monitor", "report", "spam-drift", "--out", latest]);
    assert.match(await readFile(latest, "utf8"), /Empty window/);

    const alerts = await ok(["monitor", "alerts", "spam-drift"]);
    assert.match(alerts, /^ID +MONITOR +RULE +STATE +STARTED +RESOLVED/);
    assert.match(alerts, /spam-drift +rows +firing/);
    assert.match(alerts, /spam-drift +drift_share>=0.5 +firing/);
    const firing = JSON.parse(await ok(["monitor", "alerts", "--state", "firing", "--json"])) as MonitorAlert[];
    assert.deepEqual(firing.map((a) => a.rule).sort(), ["drift_share>=0.5", "rows"]);

    assert.match(await ok(["monitor", "disable", "spam-drift"]), /disabled monitor spam-drift/);
    assert.equal((JSON.parse(await ok(["monitor", "get", "spam-drift", "--json"])) as Monitor).enabled, false);
    assert.match(await ok(["monitor", "delete", "spam-drift"]), /deleted monitor spam-drift/);
    const gone = await spawned(["monitor", "get", "spam-drift"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /RESOURCE_DOES_NOT_EXIST: Monitor 'spam-drift' not found/);
    assert.equal((await ok(["monitor", "list"])).trim(), "no monitors");
  });
});
