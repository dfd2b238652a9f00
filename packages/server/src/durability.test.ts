/**
 * An acknowledged write survives `kill -9` of the server: a real server process is killed mid-traffic,
 * restarted on the same SQLite file, and every batch that got a 200 must be there.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { it } from "node:test";

const CHILD = fileURLToPath(new URL("./testing/server-process.js", import.meta.url));

function startChild(dir: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, CHILD, dir], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once("exit", (code) => reject(new Error(`server exited early with ${code}: ${out}`)));
  });
}

async function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}/api/2.0/mlflow/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

it("keeps every acknowledged batch across kill -9 and keeps batches atomic", async () => {
  const dir = await mkdtemp(join(tmpdir(), "slipway-kill-"));
  try {
    const first = await startChild(dir);
    const created = await post(first.url, "runs/create", { experiment_id: "0" });
    const runId = ((await created.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
    const acknowledged: number[] = [];
    let killed = false;
    // four writers send 100-metric batches until the process dies under them
    const writer = async (w: number) => {
      for (let b = 0; !killed; b++) {
        const batch = w * 100_000 + b;
        const metrics = Array.from({ length: 100 }, (_, i) => ({ key: `w${w}`, value: i, timestamp: batch, step: i }));
        try {
          const r = await post(first.url, "runs/log-batch", { run_id: runId, metrics });
          if (r.status === 200) acknowledged.push(batch);
        } catch {
          return;
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await new Promise((r) => setTimeout(r, 400));
    first.child.kill("SIGKILL");
    killed = true;
    await Promise.all(writers);
    await new Promise((r) =>
      first.child.exitCode !== null || first.child.signalCode !== null ? r(undefined) : first.child.once("exit", r),
    );
    assert.ok(acknowledged.length > 10, `only ${acknowledged.length} batches acknowledged before the kill`);

    const second = await startChild(dir);
    try {
      const counts = new Map<number, number>();
      for (let w = 0; w < 4; w++) {
        const r = await fetch(`${second.url}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=w${w}`);
        const body = (await r.json()) as { metrics?: { timestamp: number }[] };
        for (const m of body.metrics ?? []) counts.set(m.timestamp, (counts.get(m.timestamp) ?? 0) + 1);
      }
      for (const batch of acknowledged) assert.equal(counts.get(batch), 100, `acknowledged batch ${batch} lost`);
      // no batch is half-written, acknowledged or not
      for (const [batch, n] of counts) assert.equal(n, 100, `batch ${batch} has ${n} of 100 metrics`);
    } finally {
      second.child.kill("SIGTERM");
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
