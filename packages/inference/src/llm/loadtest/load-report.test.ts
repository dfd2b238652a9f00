import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LoadTestUsageError, checkAssertions, parseAssertions } from "./assertions.js";
import { LoadSamples, distribution, formatLoadTestReport } from "./load-report.js";
import { syntheticPrompt } from "./load-request.js";

function summaryOf(samples: LoadSamples, elapsedMs = 2000) {
  return samples.summary(
    { url: "http://h/v1", model: "m", protocol: "openai", endpoint: "chat", stream: true },
    { concurrency: 2, requests: 4, durationMs: undefined, promptTokens: 16, maxTokens: 8 },
    elapsedMs,
  );
}

describe("load test figures", () => {
  it("nearest-rank percentiles", () => {
    const d = distribution(Array.from({ length: 100 }, (_, i) => 100 - i))!;
    assert.deepEqual(d, { count: 100, mean: 50.5, p50: 50, p90: 90, p99: 99, min: 1, max: 100 });
    assert.equal(distribution([]), undefined);
    assert.equal(distribution([7])!.p99, 7);
  });

  it("summarises samples: throughput, errors by kind, token counts", () => {
    const samples = new LoadSamples();
    samples.add({ ok: true, latencyMs: 100, ttftMs: 30, tpotMs: 10, outputTokens: 8, promptTokens: 20 });
    samples.add({ ok: true, latencyMs: 200, ttftMs: 60, tpotMs: 20, outputTokens: 8, promptTokens: 22 });
    samples.add({ ok: false, latencyMs: 5, outputTokens: 0, errorKind: "http_503" });
    samples.add({ ok: false, latencyMs: 5, outputTokens: 0, errorKind: "http_503" });
    const s = summaryOf(samples);
    assert.equal(s.requests, 4);
    assert.equal(s.succeeded, 2);
    assert.equal(s.errorRate, 0.5);
    assert.deepEqual(s.errors, { http_503: 2 });
    assert.equal(s.requestsPerSecond, 1);
    assert.equal(s.outputTokensPerSecond, 8);
    assert.equal(s.meanPromptTokens, 21);
    assert.ok(Math.abs(s.latency!.p99 - 200) <= 0.2, String(s.latency!.p99));
    // histogram percentiles: within 0.1 % (3 significant digits)
    assert.ok(Math.abs(s.ttft!.p50 - 30) <= 0.03, String(s.ttft!.p50));
    const table = formatLoadTestReport(s);
    assert.match(table, /time to first token \(ms\)\s+45\.0\s+30\.0\s+60\.0\s+60\.0\s+60\.0/);
    assert.match(table, /errors\s+2 of 4 \(50\.00%\)\s+http_503: 2/);
  });

  it("parses and checks assertions, with units and short names", () => {
    const samples = new LoadSamples();
    samples.add({ ok: true, latencyMs: 150, outputTokens: 10 });
    const s = summaryOf(samples, 1000);
    const results = checkAssertions(
      parseAssertions("p99<200ms, p99_latency_ms>=0.1s, errors<1%, tokens_per_s>20, p99_ttft_ms<500"),
      s,
    );
    assert.deepEqual(
      results.map((r) => [r.assertion.metric, r.assertion.value, r.actual, r.passed]),
      [
        ["p99", 200, 150, true],
        ["p99_latency_ms", 100, 150, true],
        ["errors", 0.01, 0, true],
        ["tokens_per_s", 20, 10, false],
        ["p99_ttft_ms", 500, undefined, false],
      ],
    );
    assert.throws(() => parseAssertions("p99_wait_ms<3"), /unknown metric 'p99_wait_ms' \(known: p50_latency_ms/);
    assert.throws(() => parseAssertions("p99 about 3"), /cannot read 'p99 about 3'/);
    assert.throws(() => parseAssertions("error_rate<3ms"), /error_rate is not a time/);
    assert.throws(() => parseAssertions("tokens_per_s>3%"), /tokens_per_s is not a rate/);
    assert.throws(() => parseAssertions(" , "), LoadTestUsageError);
  });

  it("synthetic prompts: about the length asked, different per request", () => {
    const a = syntheticPrompt(1, 128);
    assert.equal(a.split(" ").length, 126);
    assert.notEqual(syntheticPrompt(2, 128), a);
    assert.equal(syntheticPrompt(1, 128), a);
  });
});
