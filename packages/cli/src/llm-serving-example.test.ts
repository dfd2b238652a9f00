/**
 * End to end: `examples/llm-serving` (what `npm run example:llm-serving` runs) as a child process, with a small
 * load test: every step in order, the OpenAI client's checks, the load test's table and its kept report, the
 * vLLM metrics, exit 0. A second run is stopped with SIGINT during its load test: it must stop `llm serve` and
 * remove its temporary directory. Also: `examples/llm-serving/locustfile.py` compiles (Locust itself is not
 * installed here).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { access, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runNode } from "./testing/harness.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/llm-serving/run.mjs", import.meta.url));
const LOCUSTFILE = fileURLToPath(new URL("../../../examples/llm-serving/locustfile.py", import.meta.url));
const QUICK = ["--requests", "8", "--concurrency", "2", "--max-tokens", "8"];

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** Processes whose command line names `text`. */
async function processesWith(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, "latin1").catch(() => "");
    if (cmdline.includes(text)) pids.push(Number(name));
  }
  return pids;
}

test("examples/llm-serving runs end to end", { timeout: 120_000 }, async () => {
  const out = await mkdtemp(join(tmpdir(), "slipway-llm-example-out-"));
  cleanup.push(() => rm(out, { recursive: true, force: true }));
  const result = await runNode([EXAMPLE, "--out", out, ...QUICK]);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const steps = [...result.stdout.matchAll(/^== (\d\w?)\. /gm)].map((m) => m[1]);
  assert.deepEqual(steps, ["1", "2", "3a", "3b", "3c", "3d", "4", "5", "6"]);
  assert.match(result.stdout, /serving at http:\/\/127\.0\.0\.1:\d+\/v1/);
  assert.match(result.stdout, /\d+ content chunks, usage \{"prompt_tokens":\d+,"completion_tokens":12,/);
  assert.match(result.stdout, /parsed and matches the schema: \{/);
  assert.match(result.stdout, /2 embeddings of \d+ dimensions; base64 \(\d+ bytes each\) decodes to the float values/);
  assert.match(result.stdout, /Load test of http:\/\/127\.0\.0\.1:\d+\/v1 \(chat, streaming, model tiny\)/);
  assert.match(result.stdout, /concurrency 2, 8 requests: 8 done/);
  assert.match(result.stdout, /after a warm-up of 2 requests/);
  assert.match(result.stdout, /time to first token \(ms\)(\s+[\d.]+){5}/);
  assert.match(result.stdout, /assert errors<1%\s+ok \(0\)/);
  // the metrics: the load test's 8 streamed requests (and the warm-up and client calls) were counted
  const success = /^vllm:request_success_total\{finished_reason="length"\}\s+(\d+)$/m.exec(result.stdout);
  assert.ok(success && Number(success[1]) >= 10, result.stdout);
  assert.match(result.stdout, /^vllm:time_to_first_token_seconds\s+count \d+, mean [\d.e-]+ s, median ≤ [\d.]+ s$/m);
  assert.match(result.stdout, /^vllm:generation_tokens_total\s+\d+$/m);
  assert.match(result.stdout, /\ndone\n$/);
  const results = JSON.parse(await readFile(join(out, "results.json"), "utf8")) as { requests: number };
  assert.equal(results.requests, 8);
  assert.match(await readFile(join(out, "report.html"), "utf8"), /<svg /);
  // its temporary directory is gone
  const work = /^(\/\S+)\/tiny\.gguf:/m.exec(result.stdout)![1]!;
  await assert.rejects(access(work));
});

test("examples/llm-serving stops the server and cleans up on Ctrl-C", { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, [EXAMPLE, "--requests", "400", "--concurrency", "2"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.resume();
  cleanup.push(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", () => {
      // the load test is running once its progress has started: give it a moment
      if (stdout.includes("== 4.")) setTimeout(resolve, 1500);
    });
    child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${stdout}`)));
  });
  const work = /^(\/\S+)\/tiny\.gguf:/m.exec(stdout)![1]!;
  assert.ok((await processesWith(work)).length > 0, "llm serve is not running");
  child.kill("SIGINT");
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 130, stdout);
  assert.match(stdout, /interrupted: stopping the server/);
  await assert.rejects(access(work));
  assert.deepEqual(await processesWith(work), []);
});

test("the Locust file compiles", (t) => {
  const python = spawnSync("python3", ["--version"]);
  if (python.status !== 0) {
    t.skip("python3 is not installed");
    return;
  }
  // py_compile, with the bytecode written to a temporary file rather than beside the example
  const cfile = join(tmpdir(), `slipway-locustfile-${process.pid}.pyc`);
  const compiled = spawnSync(
    "python3",
    [
      "-c",
      "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
      LOCUSTFILE,
      cfile,
    ],
    { encoding: "utf8" },
  );
  rmSync(cfile, { force: true });
  assert.equal(compiled.status, 0, compiled.stderr);
});
