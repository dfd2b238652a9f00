import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { formatLoadTestReport } from "./load-report.js";
import { arrivalTimes, runLoadTest } from "./run-load-test.js";
import { parseScenario } from "./scenario.js";

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

  it("warm-up: its requests are sent first and left out of the figures", async () => {
    const summary = await runLoadTest({
      url,
      protocol: "mlflow",
      body: "{}",
      requests: 4,
      concurrency: 2,
      warmupRequests: 3,
    });
    assert.equal(summary.requests, 4);
    assert.equal(summary.warmup?.requests, 3);
    assert.equal(summary.warmup?.failed, 0);
    assert.ok(summary.warmup.elapsedMs >= 190, String(summary.warmup?.elapsedMs));
    assert.match(
      formatLoadTestReport(summary),
      /after a warm-up of 3 requests in [\d.]+ s \(0 failed; not counted below\)/,
    );
    const timed = await runLoadTest({
      url,
      protocol: "mlflow",
      body: "{}",
      requests: 2,
      concurrency: 2,
      warmupMs: 250,
    });
    // two clients × 100 ms requests for 250 ms: 6 warm-up requests (the last ones finish after the 250 ms)
    assert.equal(timed.warmup?.requests, 6);
    assert.equal(timed.requests, 2);
  });

  it("a per-second timeline of the measured run", async () => {
    const summary = await runLoadTest({ url, protocol: "mlflow", body: "{}", durationMs: 2100, concurrency: 2 });
    const seconds = summary.timeline.map((p) => p.second);
    assert.deepEqual(seconds, [0, 1, 2]);
    assert.equal(
      summary.timeline.reduce((n, p) => n + p.requests, 0),
      summary.requests,
    );
    // 2 clients × 10 requests a second
    assert.ok(
      summary.timeline[0]!.succeeded >= 16 && summary.timeline[0]!.succeeded <= 20,
      JSON.stringify(summary.timeline[0]),
    );
    assert.ok(Math.abs(summary.timeline[0]!.latencyP50! - 100) < 40, JSON.stringify(summary.timeline[0]));
    assert.ok(summary.percentiles.latency!["p99.9"]! >= summary.percentiles.latency!.p50!);
    assert.equal(
      summary.histograms.latency!.reduce((n, b) => n + b.count, 0),
      summary.succeeded,
    );
  });
});

describe("scenario files against a real HTTP server", () => {
  let server: Server;
  let url = "";
  const seen: { method: string; path: string; body: string; team: string | undefined }[] = [];
  before(async () => {
    // an OpenAI-like server: streamed chat completions, a model list, and a failing path
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (c: Buffer) => (body += c.toString()));
      request.on("end", () => {
        seen.push({ method: request.method!, path: request.url!, body, team: request.headers["x-team"] as string });
        if (request.url === "/v1/chat/completions") {
          response.writeHead(200, { "content-type": "text/event-stream" });
          const chunk = (content: string) =>
            `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
          response.write(chunk("a"));
          setTimeout(() => {
            response.write(chunk("b"));
            response.write(chunk("c"));
            response.write(
              `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 3 } })}\n\n`,
            );
            response.end("data: [DONE]\n\n");
          }, 20);
        } else if (request.url === "/v1/models") {
          response.writeHead(200, { "content-type": "application/json" }).end('{"data": []}');
        } else {
          response.writeHead(500).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the weighted templates, streams, and counts per template", async () => {
    const scenario = parseScenario(
      JSON.stringify({
        requests: [
          {
            name: "chat",
            weight: 2,
            path: "/chat/completions",
            stream: true,
            headers: { "x-team": "search" },
            body: { messages: [{ role: "user", content: "{{prompt}}" }], max_tokens: 3 },
          },
          { name: "models", method: "GET", path: "/models" },
          { name: "broken", weight: 0.5, path: "/broken", body: { n: "{{index}}" } },
        ],
      }),
    );
    const summary = await runLoadTest({
      url,
      protocol: "openai",
      model: "tiny",
      scenario,
      scenarioName: "mix.json",
      requests: 70,
      concurrency: 4,
      promptTokens: 12,
    });
    assert.equal(summary.requests, 70);
    const by = summary.byTemplate!;
    assert.equal(by.chat!.requests + by.models!.requests + by.broken!.requests, 70);
    assert.ok(by.chat!.requests > by.models!.requests && by.models!.requests > by.broken!.requests, JSON.stringify(by));
    assert.equal(by.broken!.failed, by.broken!.requests);
    assert.deepEqual(summary.errors, { http_500: by.broken!.requests });
    assert.equal(summary.ttft?.count, by.chat!.requests);
    assert.equal(summary.outputTokens, 3 * by.chat!.requests);
    assert.ok(summary.ttft.p50 < summary.latency!.max);
    const chat = seen.find((r) => r.path === "/v1/chat/completions")!;
    const body = JSON.parse(chat.body) as { model: string; stream: boolean; messages: { content: string }[] };
    assert.equal(body.model, "tiny");
    assert.equal(body.stream, true);
    assert.match(body.messages[0]!.content, /^Request \d+: \w+/);
    assert.equal(chat.team, "search");
    assert.equal(seen.find((r) => r.path === "/v1/models")!.method, "GET");
    assert.match(seen.find((r) => r.path === "/v1/broken")!.body, /^\{"n":"\d+"\}$/);
    assert.match(formatLoadTestReport(summary), /\(scenario mix\.json: chat ×2, models ×1, broken ×0\.5\)/);
    assert.match(
      formatLoadTestReport(summary),
      /by template\s+chat: \d+ \(0 failed\), models: \d+ \(0 failed\), broken: \d+ \(\d+ failed\)/,
    );
  });
});

describe("errors by kind, against a real HTTP server that fails in every way", () => {
  let server: Server;
  let url = "";
  before(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        const path = request.url ?? "";
        const chunk = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "x" } }] })}\n\n`;
        if (path.startsWith("/ok/")) {
          response.writeHead(200, { "content-type": "text/event-stream" });
          response.end(`${chunk}data: [DONE]\n\n`);
        } else if (path.startsWith("/error/")) {
          response.writeHead(200, { "content-type": "text/event-stream" });
          response.end(`${chunk}data: {"error": {"message": "engine failed"}}\n\ndata: [DONE]\n\n`);
        } else if (path.startsWith("/cut/")) {
          response.writeHead(200, { "content-type": "text/event-stream" });
          response.end(chunk);
        } else if (path.startsWith("/bad/")) {
          response.writeHead(200, { "content-type": "application/json" }).end("<html>not an answer</html>");
        } else if (path === "/hang") {
          // never answers: the client's timeout ends it
        } else if (path === "/reset") {
          request.socket.destroy();
        } else {
          response.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("names each kind and groups them in classes", async () => {
    const chat = (name: string) => ({
      name,
      path: `/${name}/chat/completions`,
      stream: true,
      body: { messages: [{ role: "user", content: "hi" }] },
    });
    const scenario = parseScenario(
      JSON.stringify({
        requests: [
          chat("ok"),
          chat("error"),
          chat("cut"),
          { name: "bad", path: "/bad/completions", body: { prompt: "x" } },
          { name: "missing", method: "GET", path: "/missing" },
          { name: "hang", method: "GET", path: "/hang" },
          { name: "reset", method: "GET", path: "/reset" },
        ],
      }),
    );
    const summary = await runLoadTest({
      url,
      protocol: "openai",
      scenario,
      requests: 70,
      concurrency: 10,
      timeoutMs: 300,
    });
    const by = summary.byTemplate!;
    assert.equal(summary.requests, 70);
    assert.equal(by.ok!.failed, 0);
    assert.deepEqual(summary.errors, {
      ...Object.fromEntries(
        (
          [
            ["stream_error", "error"],
            ["stream_cut_short", "cut"],
            ["bad_response", "bad"],
            ["http_404", "missing"],
            ["timeout", "hang"],
            ["connection_reset", "reset"],
          ] as const
        ).map(([kind, name]) => [kind, by[name]!.requests]),
      ),
    });
    assert.deepEqual(
      Object.fromEntries(Object.entries(summary.errorClasses).sort()),
      Object.fromEntries(
        Object.entries({
          stream: by.error!.requests + by.cut!.requests,
          bad_response: by.bad!.requests,
          http_4xx: by.missing!.requests,
          timeout: by.hang!.requests,
          connection: by.reset!.requests,
        }).sort(),
      ),
    );
  });
});
