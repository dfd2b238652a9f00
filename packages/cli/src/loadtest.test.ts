/**
 * End to end: `slipway loadtest` against a real `slipway llm serve` on the tiny test model (figures
 * present and sane, `--assert` exit codes), against a node:http `/invocations` (the MLflow protocol,
 * errors by kind), against nothing (every request fails), and its usage errors.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BIN, runSlipway } from "./testing/harness.js";

interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

interface Summary {
  requests: number;
  succeeded: number;
  failed: number;
  errorRate: number;
  errors: Record<string, number>;
  elapsedMs: number;
  requestsPerSecond: number;
  outputTokens: number;
  outputTokensPerSecond: number;
  meanPromptTokens: number | null;
  latency: Distribution | null;
  ttft?: Distribution | null;
  tpot?: Distribution | null;
  assertions: { assertion: string; actual: number | null; passed: boolean }[];
}

function ordered(d: Distribution): void {
  assert.ok(d.min <= d.p50 && d.p50 <= d.p90 && d.p90 <= d.p99 && d.p99 <= d.max, JSON.stringify(d));
  assert.ok(d.min > 0);
}

describe("slipway loadtest", () => {
  let dir: string;
  let server: ChildProcess;
  let baseURL: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-loadtest-"));
    const modelPath = join(dir, "tiny.gguf");
    const made = await runSlipway(["llm", "make-test-model", "--out", modelPath]);
    assert.equal(made.code, 0, made.stderr);
    server = spawn(
      process.execPath,
      [BIN, "llm", "serve", "--model", `tiny=${modelPath}`, "--port", "0", "--threads", "1", "--parallel", "4"].concat([
        "--context-size",
        "512",
        "--gpu",
        "false",
      ]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    server.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    baseURL = await new Promise<string>((resolve, reject) => {
      server.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(`${m[1]!}/v1`);
      });
      server.once("exit", (code) => reject(new Error(`llm serve exited with ${code}: ${out}`)));
    });
  });
  after(async () => {
    if (server.exitCode === null) {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("streams against a real server: percentiles, TTFT, TPOT, tokens/s, passing assertions (exit 0)", async () => {
    const result = await runSlipway([
      "loadtest",
      baseURL,
      "--model",
      "tiny",
      "--requests",
      "40",
      "--concurrency",
      "4",
      "--prompt-tokens",
      "32",
      "--max-tokens",
      "16",
      "--stream",
      "--json",
      "--assert",
      "p99_ttft_ms<20000,error_rate<0.01,tokens_per_s>1,p99<30s",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const s = JSON.parse(result.stdout) as Summary;
    assert.equal(s.requests, 40);
    assert.equal(s.succeeded, 40);
    assert.equal(s.errorRate, 0);
    assert.deepEqual(s.errors, {});
    assert.equal(s.outputTokens, 40 * 16);
    assert.ok(s.meanPromptTokens! >= 32 && s.meanPromptTokens! < 80, String(s.meanPromptTokens));
    for (const d of [s.latency!, s.ttft!, s.tpot!]) ordered(d);
    assert.ok(s.ttft!.p50 < s.latency!.p50);
    assert.ok(s.tpot!.mean < s.latency!.mean / 10);
    assert.ok(Math.abs(s.requestsPerSecond - 40 / (s.elapsedMs / 1000)) < 1e-6);
    assert.ok(Math.abs(s.outputTokensPerSecond - s.outputTokens / (s.elapsedMs / 1000)) < 1e-6);
    assert.deepEqual(
      s.assertions.map((a) => a.passed),
      [true, true, true, true],
    );
  });

  it("prints a table; a failing assertion exits 1 naming it; TTFT is not measured without --stream", async () => {
    const result = await runSlipway([
      "loadtest",
      "--url",
      baseURL,
      "--model",
      "tiny",
      "--requests",
      "12",
      "--concurrency",
      "3",
      "--max-tokens",
      "8",
      "--endpoint",
      "completions",
      "--assert",
      "p99_latency_ms<0.001,p99_ttft_ms<1000,error_rate<=0",
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^Load test of http:\/\/127\.0\.0\.1:\d+\/v1 \(completions, model tiny\)/);
    assert.match(result.stdout, /concurrency 3, 12 requests: 12 done in [\d.]+ s \(prompt ≈128 tokens, max_tokens 8\)/);
    assert.match(result.stdout, /latency \(ms\)(\s+[\d.]+){5}\n/);
    assert.doesNotMatch(result.stdout, /time to first token/);
    assert.match(result.stdout, /output tokens\/s\s+[\d.]+/);
    assert.match(result.stdout, /errors\s+0 of 12 \(0\.00%\)/);
    assert.match(result.stdout, /assert p99_latency_ms<0\.001\s+FAILED \([\d.]+\)/);
    assert.match(result.stdout, /assert error_rate<=0\s+ok \(0\)/);
    assert.match(
      result.stderr,
      /^slipway: assertion failed: p99_latency_ms<0\.001 \(actual [\d.]+\), p99_ttft_ms<1000 \(actual not measured\)\n$/,
    );
  });

  it("a scenario file with a warm-up against a real server: templates by weight, --out and --html", async () => {
    const scenario = join(dir, "mix.json");
    await writeFile(
      scenario,
      JSON.stringify({
        requests: [
          {
            name: "chat",
            weight: 3,
            path: "/chat/completions",
            stream: true,
            body: { messages: [{ role: "user", content: "{{prompt}}" }], max_tokens: 6, ignore_eos: true },
          },
          { name: "complete", path: "/completions", body: { prompt: "Count: {{index}}", max_tokens: 4 } },
          { name: "models", method: "GET", path: "/models" },
        ],
      }),
    );
    const out = join(dir, "results.json");
    const html = join(dir, "report.html");
    const result = await runSlipway([
      "loadtest",
      baseURL,
      "--scenario",
      scenario,
      "--model",
      "tiny",
      "--prompt-tokens",
      "16",
      "--warmup",
      "3",
      "--requests",
      "20",
      "--concurrency",
      "4",
      "--out",
      out,
      "--html",
      html,
      "--assert",
      "p99<30s,errors<0.1%",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\(scenario .*mix\.json: chat ×3, complete ×1, models ×1\)/);
    assert.match(result.stdout, /after a warm-up of 3 requests in [\d.]+ s \(0 failed; not counted below\)/);
    assert.match(
      result.stdout,
      /by template\s+chat: \d+ \(0 failed\), complete: \d+ \(0 failed\), models: \d+ \(0 failed\)/,
    );
    assert.match(result.stdout, /assert p99<30s\s+ok/);
    const s = JSON.parse(await readFile(out, "utf8")) as Summary & {
      warmup: { requests: number };
      byTemplate: Record<string, { requests: number; failed: number }>;
      percentiles: Record<string, Record<string, number>>;
      timeline: { second: number; requests: number }[];
    };
    assert.equal(s.requests, 20);
    assert.equal(s.warmup.requests, 3);
    assert.equal(s.byTemplate.chat!.requests + s.byTemplate.complete!.requests + s.byTemplate.models!.requests, 20);
    assert.equal(s.ttft!.count, s.byTemplate.chat!.requests);
    assert.ok(s.percentiles.latency!["p99.9"]! >= s.percentiles.latency!.p50!);
    assert.equal(
      s.timeline.reduce((n, p) => n + p.requests, 0),
      20,
    );
    const page = await readFile(html, "utf8");
    assert.match(page, /<svg /);
    assert.ok(page.includes(s.percentiles.latency!.p99!.toFixed(2)));
  });

  it("runs for a --duration", async () => {
    const result = await runSlipway([
      "loadtest",
      baseURL,
      "--model",
      "tiny",
      "--duration",
      "1500ms",
      "--concurrency",
      "2",
      "--max-tokens",
      "4",
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const s = JSON.parse(result.stdout) as Summary;
    assert.ok(s.requests > 2);
    assert.ok(s.elapsedMs >= 1500 && s.elapsedMs < 5000, String(s.elapsedMs));
  });

  it("load-tests /invocations (--protocol mlflow) and counts errors by kind", async () => {
    let n = 0;
    const mlflow = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        n++;
        if (req.url !== "/invocations") res.writeHead(404).end();
        else if (n % 4 === 0) res.writeHead(503, { "content-type": "application/json" }).end('{"error_code":"x"}');
        else res.writeHead(200, { "content-type": "application/json" }).end('{"predictions":[1]}');
      });
    });
    mlflow.listen(0, "127.0.0.1");
    await once(mlflow, "listening");
    const body = join(dir, "body.json");
    await writeFile(body, JSON.stringify({ dataframe_split: { columns: ["x"], data: [[1]] } }));
    try {
      const url = `http://127.0.0.1:${(mlflow.address() as AddressInfo).port}`;
      const result = await runSlipway([
        "loadtest",
        url,
        "--protocol",
        "mlflow",
        "--body",
        body,
        "--requests",
        "40",
        "--concurrency",
        "4",
        "--json",
        "--assert",
        "errors<30%",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const s = JSON.parse(result.stdout) as Summary;
      assert.equal(s.requests, 40);
      assert.deepEqual(s.errors, { http_503: 10 });
      assert.equal(s.errorRate, 0.25);
      ordered(s.latency!);
      // open loop: 20 requests at 200/s, Poisson; the late-send assertion is checked (at most all 20 late)
      const open = await runSlipway([
        "loadtest",
        url,
        "--protocol",
        "mlflow",
        "--body",
        body,
        "--rate",
        "200",
        "--requests",
        "20",
        "--assert",
        "late_sends<=20",
      ]);
      assert.equal(open.code, 0, open.stderr);
      assert.match(
        open.stdout,
        /open loop at 200 requests\/s \(poisson arrivals, at most 1024 in flight\), 20 requests: 20 done/,
      );
      assert.match(open.stdout, /late sends\s+\d+ of 20/);
      assert.match(open.stdout, /assert late_sends<=20\s+ok/);
    } finally {
      mlflow.close();
    }
  });

  it("exits 1 when every request fails, saying how", async () => {
    const closed = http.createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const result = await runSlipway(["loadtest", `http://127.0.0.1:${port}/v1`, "--model", "x", "--requests", "5"]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /errors\s+5 of 5 \(100\.00%\)\s+connect_refused: 5/);
    assert.match(result.stderr, /all 5 requests failed \(connect_refused: 5\)/);
  });

  it("bad usage exits 2 with a one-line message", async () => {
    const cases: [string[], RegExp][] = [
      [["loadtest", "--model", "tiny"], /give the server's URL/],
      [["loadtest", "ftp://x"], /'ftp:\/\/x' is not an http\(s\) URL/],
      [["loadtest", baseURL], /--model: give the model name/],
      [
        ["loadtest", baseURL, "--model", "tiny", "--requests", "5", "--duration", "5s"],
        /--requests or --duration, not both/,
      ],
      [["loadtest", baseURL, "--model", "tiny", "--concurrency", "0"], /--concurrency: '0' is not a whole number/],
      [["loadtest", baseURL, "--model", "tiny", "--duration", "soon"], /--duration: 'soon' is not a duration/],
      [["loadtest", baseURL, "--model", "tiny", "--assert", "p99_wait<3"], /--assert: unknown metric 'p99_wait'/],
      [["loadtest", baseURL, "--model", "tiny", "--endpoint", "embeddings"], /--endpoint: 'embeddings' is not one of/],
      [["loadtest", baseURL, "--protocol", "mlflow"], /--protocol mlflow needs --body FILE/],
      [["loadtest", baseURL, "--protocol", "grpc"], /--protocol: 'grpc' is not one of openai, mlflow/],
      [["loadtest", baseURL, "--scenario", "embeddings"], /--scenario: 'embeddings' is not one of chat, completions/],
      [
        ["loadtest", baseURL, "--scenario", "chat", "--protocol", "mlflow"],
        /--scenario chat and --protocol mlflow disagree/,
      ],
      [
        ["loadtest", baseURL, "--scenario", "completions", "--endpoint", "chat"],
        /--scenario completions and --endpoint chat disagree/,
      ],
      [["loadtest", baseURL, "--scenario", "invocations"], /--protocol mlflow needs --body FILE/],
      [["loadtest", baseURL, "--scenario", "/nonexistent/x.json"], /--scenario: cannot read '\/nonexistent\/x\.json'/],
      [["loadtest", baseURL, "--model", "tiny", "--warmup", "soon"], /--warmup: 'soon' is not a duration/],
      [["loadtest", baseURL, "--model", "tiny", "--warmup", "0"], /--warmup: '0' is not a whole number/],
      [["loadtest", baseURL, "--model", "tiny", "--rate", "-3"], /--rate: '-3' is not a number of requests per second/],
      [["loadtest", baseURL, "--model", "tiny", "--rate", "0"], /--rate: '0' is not a number of requests per second/],
      [
        ["loadtest", baseURL, "--model", "tiny", "--rate", "5", "--arrivals", "bursty"],
        /--arrivals: 'bursty' is not one of/,
      ],
    ];
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ requests: [{ path: "/chat/completions", weight: -1, body: {} }] }));
    cases.push([
      ["loadtest", baseURL, "--scenario", bad],
      /--scenario: .*bad\.json: requests\[0\]\.weight: must be a number above 0, got -1/,
    ]);
    for (const [args, message] of cases) {
      const result = await runSlipway(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    }
  });
});
