/**
 * End to end: `examples/drift-retrain` (what `npm run example:drift-retrain` runs) as a child process, with a shorter
 * warm-up and less traffic than the defaults. The whole loop must close: every stage of the timeline in order, the
 * champion alias moved to the retrained version by the canary (read back from the kept SQLite store by a fresh
 * `slipway server`), and `failed requests: 0` as the last line. A second run is stopped with SIGINT mid-way: it must
 * stop its processes and remove its data directory.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { TrackingClient, aliasHistory } from "@slipway/sdk";
import { runNode } from "./testing/harness.js";
import { startSlipway } from "./testing/processes.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/drift-retrain/run.mjs", import.meta.url));
const QUICK = ["--warmup", "6", "--rate", "32"];

const cleanup: (() => Promise<void>)[] = [];

/** Processes whose environment names `text` (every child of the example gets its SLIPWAY_MODEL_CACHE). */
async function processesWith(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const environ = await readFile(`/proc/${name}/environ`, "latin1").catch(() => "");
    if (environ.includes(text)) pids.push(Number(name));
  }
  return pids;
}
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** The timeline's events, in the order the example printed them: `  12.4 s  drift alert  …` → `drift alert`. */
function events(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((line) => /^\s+\d+\.\d s {2}(\S+(?: \S+)*?) {2,}/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

test("the loop closes under traffic: drift → alert → retrain → gate → canary → promotion, no failed request", async () => {
  const dir = join(await mkdtemp(join(tmpdir(), "drift-retrain-test-")), "data");
  cleanup.push(() => rm(join(dir, ".."), { recursive: true, force: true }));
  const started = Date.now();
  const r = await runNode([EXAMPLE, ...QUICK, "--keep", "--data-dir", dir]);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.at(-1), "failed requests: 0", r.stdout);

  const order = [
    "control plane",
    "champion",
    "model server",
    "traffic",
    "drift injected",
    "drift alert",
    "pipeline",
    "collected",
    "retrained",
    "gate passed",
    "canary started",
    "canary step",
    "promoted",
    "alias history",
    "swap",
    "traffic stopped",
  ];
  const seen = events(r.stdout);
  let at = -1;
  for (const name of order) {
    const next = seen.indexOf(name, at + 1);
    assert.ok(next > at, `'${name}' after the previous stages in:\n${seen.join("\n")}\n\n${r.stdout}`);
    at = next;
  }
  assert.ok(seen.includes("scheduler") && seen.includes("monitor"), seen.join(", "));
  const trigger = /drift alert +monitor=spam-drift rule=accuracy-drop .*accuracy ([\d.]+) \(baseline ([\d.]+)\)/.exec(
    r.stdout,
  );
  assert.ok(trigger, r.stdout);
  assert.ok(Number(trigger[2]) - Number(trigger[1]) > 0.05, `accuracy dropped by more than 0.05: ${trigger[0]}`);
  assert.match(r.stdout, /gate passed +PASS on \d+ rows: f1 Δ \+/);
  // the retrained version catches the new campaign that the champion let through
  const caught = (role: string) =>
    Number(
      new RegExp(`live answers of v\\d+ \\(${role}\\): .*new campaign caught as spam ([\\d.]+)%`).exec(r.stdout)?.[1],
    );
  assert.ok(caught("champion") < 20, `champion caught ${caught("champion")}%`);
  assert.ok(caught("challenger") > 90, `challenger caught ${caught("challenger")}%`);
  for (const span of ["first alert", "retrained version", "gate passed", "promoted"]) {
    assert.match(r.stdout, new RegExp(`drift → ${span} +\\d+\\.\\d s`));
  }

  // --keep: the store is left; a fresh server on it shows the canary's promotion in the alias history
  const command = /npx slipway server --backend-store-uri (\S+) --artifacts-destination (\S+)/.exec(r.stdout);
  assert.ok(command, r.stdout);
  const server = startSlipway(
    ["server", "--port", "0", "--backend-store-uri", command[1]!, "--artifacts-destination", command[2]!],
    {},
  );
  cleanup.push(() => server.stop());
  const [, url] = await server.waitFor(/listening on (http:\/\/\S+)/);
  const client = new TrackingClient({ trackingUri: url!, maxRetries: 0 });
  const { history } = await aliasHistory(client, { name: "spam-classifier", alias: "champion" });
  assert.equal(history[0]?.from_version, "1");
  assert.equal(history[0]?.to_version, "2");
  assert.match(history[0]?.reason ?? "", /^canary: 0% errors, p99 [\d.]+ ms over [\d,]+ requests at \d+%/);
  const { model_version: challenger } = await client.getModelVersionByAlias({
    name: "spam-classifier",
    alias: "challenger",
  });
  assert.equal(challenger.version, "2");
  process.stdout.write(`# drift-retrain example: ${seconds.toFixed(1)} s\n`);
});

test("Ctrl-C stops the traffic and every process, and removes the data directory", async () => {
  const dir = join(await mkdtemp(join(tmpdir(), "drift-retrain-sigint-")), "data");
  cleanup.push(() => rm(join(dir, ".."), { recursive: true, force: true }));
  const child = spawn(process.execPath, [EXAMPLE, ...QUICK, "--data-dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // stopped while the champion trains: the control plane, the scheduler and the training run
  const deadline = Date.now() + 120_000;
  while (!/ s {2}scheduler +slipway pipeline scheduler/.test(out)) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `no scheduler line: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const controlUrl = / s {2}control plane +slipway server on (http:\/\/\S+) /.exec(out)![1]!;
  const children = await processesWith(`SLIPWAY_MODEL_CACHE=${join(dir, "model-cache")}`);
  assert.ok(children.length >= 3, `server, scheduler and training are running: ${children.join(", ")}`);
  child.kill("SIGINT");
  assert.equal(await exited, 130, out);
  assert.match(out, /SIGINT: stopping the traffic and the processes/);
  await assert.rejects(access(dir), "the data directory is removed");
  await assert.rejects(fetch(controlUrl, { signal: AbortSignal.timeout(2000) }), "the control plane is stopped");
  assert.doesNotMatch(out, /failed requests:/, "a run stopped by Ctrl-C prints no verdict");
  assert.deepEqual(await processesWith(`SLIPWAY_MODEL_CACHE=${join(dir, "model-cache")}`), [], "no child is left");
});

test("bad flags and a data directory in use are refused before anything starts", async () => {
  let r = await runNode([EXAMPLE, "--rate", "lots"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), "--rate: 'lots' is not a number from 1 to 2000");
  r = await runNode([EXAMPLE, "--drift-share", "0"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), "--drift-share: '0' is not a number from 0.05 to 1");
  const dir = await mkdtemp(join(tmpdir(), "drift-retrain-used-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "something.txt"), "mine");
  r = await runNode([EXAMPLE, "--data-dir", dir]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), `--data-dir ${dir}: not empty (the example starts from an empty store)`);
  assert.equal(await readFile(join(dir, "something.txt"), "utf8"), "mine", "a directory in use is left alone");
});
