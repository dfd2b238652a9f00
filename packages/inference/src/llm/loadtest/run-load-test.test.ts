import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { formatLoadTestReport } from "./load-report.js";
import { arrivalTimes, runLoadTest } from "./run-load-test.js";

function take(n: number, times: Generator<number>): number[] {
  return Array.from({ length: n }, () => times.next().value as number);
}

describe("open-loop arrival schedules", () => {
  it("uniform: exactly 1 / rate apart", () => {
    assert.deepEqual(take(4, arrivalTimes(20, "uniform")), [0, 50, 100, 150]);
  });

  it("poisson: seeded, exponential gaps with the rate's mean", () => {
    const a = take(20_001, arrivalTimes(50, "poisson", 7));
    assert.deepEqual(a.slice(0, 50), take(50, arrivalTimes(50, "poisson", 7)));
    assert.notDeepEqual(a.slice(0, 50), take(50, arrivalTimes(50, "poisson", 8)));
    const gaps = a.slice(1).map((t, i) => t - a[i]!);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    // exponential: mean 20 ms, and as many gaps below the median ln 2 · 20 ms as above (±3σ of a binomial)
    assert.ok(Math.abs(mean - 20) < 0.6, `mean gap ${mean}`);
    const below = gaps.filter((g) => g < Math.LN2 * 20).length;
    assert.ok(Math.abs(below - 10_000) < 3 * Math.sqrt(5000), `below the median: ${below}`);
    assert.ok(gaps.every((g) => g >= 0));
  });

  it("refuses a rate that is not a positive number", () => {
    assert.throws(() => arrivalTimes(0, "uniform").next(), /rate must be a positive number/);
    assert.throws(() => arrivalTimes(Number.NaN, "poisson").next(), /rate must be a positive number/);
  });
});

describe("runLoadTest against a real HTTP server", () => {
  let server: Server;
  let url = "";
  let inFlight = 0;
  let mostInFlight = 0;
  before(async () => {
    // a model server that takes 100 ms per request
    server = createServer((request, response) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      request.resume();
      setTimeout(() => {
        inFlight--;
        response.writeHead(200, { "content-type": "application/json" }).end('{"predictions": [1]}');
      }, 100);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("open loop: sends on the schedule, not at the server's pace", async () => {
    mostInFlight = 0;
    const summary = await runLoadTest({
      url,
      protocol: "mlflow",
      body: "{}",
      requests: 10,
      concurrency: 100,
      rate: 20,
      arrivals: "uniform",
    });
    assert.equal(summary.succeeded, 10);
    // the 10th request is due at 450 ms and takes 100 ms: a closed loop of 100 clients would be done in ~100 ms
    assert.ok(summary.elapsedMs >= 540, `elapsed ${summary.elapsedMs} ms`);
    // one every 50 ms, each 100 ms long: about 2 in flight, never the 10 a burst would give
    assert.ok(mostInFlight <= 4, `most in flight ${mostInFlight}`);
    assert.equal(summary.sendLag?.count, 10);
    assert.match(
      formatLoadTestReport(summary),
      /open loop at 20 requests\/s \(uniform arrivals, at most 100 in flight\)/,
    );
  });

  it("open loop: a server that cannot keep up shows as late sends, not as a lower request rate", async () => {
    mostInFlight = 0;
    // 100 requests/s against a server that serves one at a time in 100 ms (cap 1): 10 per second at most
    const summary = await runLoadTest({ url, protocol: "mlflow", body: "{}", requests: 12, concurrency: 1, rate: 100 });
    assert.equal(summary.succeeded, 12);
    assert.equal(mostInFlight, 1);
    // request k is due at ~10k ms but can only start at ~100k ms: all but the first are late
    assert.ok((summary.lateSends ?? 0) >= 10, `late sends ${summary.lateSends}`);
    assert.ok((summary.sendLag?.max ?? 0) >= 800, `max lag ${summary.sendLag?.max}`);
    assert.match(formatLoadTestReport(summary), /late sends\s+\d+ of 12 .*did not keep up/);
  });

  it("closed loop (no rate): no send-lag figures", async () => {
    const summary = await runLoadTest({ url, protocol: "mlflow", body: "{}", requests: 4, concurrency: 2 });
    assert.equal(summary.succeeded, 4);
    assert.equal(summary.sendLag, undefined);
    assert.equal(summary.lateSends, undefined);
    assert.doesNotMatch(formatLoadTestReport(summary), /late sends/);
  });

  it("open loop by duration: stops scheduling at the end", async () => {
    const summary = await runLoadTest({
      url,
      protocol: "mlflow",
      body: "{}",
      durationMs: 300,
      concurrency: 50,
      rate: 20,
      arrivals: "uniform",
    });
    // due at 0, 50, …, 250 ms: 6 requests
    assert.equal(summary.requests, 6);
  });
});
