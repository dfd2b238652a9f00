/**
 * `slipway loadtest --out FILE.json --html FILE.html` against a real node:http server that answers like an
 * OpenAI server (streamed chat completions, some 503s, some slow): the JSON holds the full results, and the HTML
 * report, opened in Debian's Chromium (playwright-core, as the UI tests do), is self-contained (it loads
 * nothing), draws its charts, and shows the JSON's figures.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { runSlipway } from "./testing/harness.js";

const CHROMIUM = "/usr/bin/chromium";

interface Results {
  requests: number;
  succeeded: number;
  failed: number;
  errors: Record<string, number>;
  errorClasses: Record<string, number>;
  latency: { mean: number; max: number; count: number };
  ttft: { mean: number };
  percentiles: Record<string, Record<string, number>>;
  timeline: { second: number; requests: number; succeeded: number; failed: number; latencyP50?: number }[];
  histograms: Record<string, { from: number; to: number; count: number }[]>;
  assertions: { assertion: string; actual: number | null; passed: boolean }[];
  warmup: { requests: number };
  version: number;
}

describe("slipway loadtest --out / --html", () => {
  let dir: string;
  let server: http.Server;
  let url: string;
  let n = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-loadtest-report-"));
    server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        n++;
        if (n % 10 === 0) {
          res.writeHead(503, { "content-type": "application/json" }).end('{"error": {"message": "busy"}}');
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        const chunk = (content: string) =>
          `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
        setTimeout(() => {
          res.write(chunk("one"));
          setTimeout(
            () => {
              res.write(chunk(" two"));
              res.write(
                `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } })}\n\n`,
              );
              res.end("data: [DONE]\n\n");
            },
            n % 7 === 0 ? 60 : 10,
          );
        }, 5);
      });
    });
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the full results and a self-contained report showing them", async (t) => {
    const out = join(dir, "results.json");
    const html = join(dir, "report.html");
    const result = await runSlipway([
      "loadtest",
      url,
      "--model",
      "m",
      "--stream",
      "--warmup",
      "300ms",
      "--duration",
      "2200ms",
      "--concurrency",
      "4",
      "--out",
      out,
      "--html",
      html,
      "--assert",
      "p99<2s,errors<50%",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const r = JSON.parse(await readFile(out, "utf8")) as Results;
    assert.equal(r.version, 1);
    assert.ok(r.warmup.requests > 0);
    assert.ok(r.failed > 0 && r.errors.http_503 === r.failed, JSON.stringify(r.errors));
    assert.deepEqual(r.errorClasses, { http_5xx: r.failed });
    assert.deepEqual(
      r.timeline.map((p) => p.second),
      [0, 1, 2].slice(0, r.timeline.length),
    );
    assert.ok(r.timeline.length >= 2);
    assert.equal(
      r.timeline.reduce((s, p) => s + p.requests, 0),
      r.requests,
    );
    assert.equal(
      r.histograms.latency!.reduce((s, b) => s + b.count, 0),
      r.succeeded,
    );
    assert.ok(r.histograms.ttft!.length > 0);
    assert.deepEqual(Object.keys(r.percentiles.latency!), ["p50", "p75", "p90", "p95", "p99", "p99.9"]);
    assert.deepEqual(
      r.assertions.map((a) => a.passed),
      [true, true],
    );

    const page = await readFile(html, "utf8");
    // nothing from elsewhere: no external scripts, styles, fonts or images
    assert.doesNotMatch(page, /<script[^>]*\bsrc=|<link\b|@import|url\(|<img\b/i);
    assert.equal((page.match(/<script\b/g) ?? []).length, 1);
    assert.match(page, /<script type="application\/json" id="load-test-results">/);

    if (!existsSync(CHROMIUM)) {
      t.skip(`Debian's Chromium is not installed at ${CHROMIUM}; the page was not rendered`);
      return;
    }
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const context = await browser.newContext();
      const requested: string[] = [];
      context.on("request", (request) => requested.push(request.url()));
      const tab = await context.newPage();
      const problems: string[] = [];
      tab.on("console", (m) => m.type() === "error" && problems.push(m.text()));
      tab.on("pageerror", (e) => problems.push(e.message));
      await tab.goto(pathToFileURL(html).href);
      assert.deepEqual(requested, [pathToFileURL(html).href]);
      assert.deepEqual(problems, []);
      const figures = await tab.locator("figure figcaption").allTextContents();
      assert.deepEqual(figures, [
        "Latency percentiles over time",
        "Requests and errors per second",
        "Latency histogram",
        "Time to first token histogram",
      ]);
      // the charts are drawn: lines, bars, and a visible size
      assert.ok((await tab.locator("svg polyline, svg circle").count()) >= 3);
      assert.ok((await tab.locator("svg rect.bar").count()) >= 2);
      const box = await tab.locator("svg").first().boundingBox();
      assert.ok(box !== null && box.width > 300 && box.height > 100, JSON.stringify(box));
      // the JSON's figures, as the page shows them
      const text = await tab.locator("body").innerText();
      for (const [series, ps] of Object.entries(r.percentiles)) {
        for (const [p, value] of Object.entries(ps)) {
          assert.ok(text.includes(value.toFixed(2)), `${series} ${p} ${value.toFixed(2)} not shown`);
        }
      }
      const cells = await tab.locator("table.overview td").allTextContents();
      assert.deepEqual(cells.slice(0, 3), [String(r.requests), String(r.succeeded), String(r.failed)]);
      assert.match(text, new RegExp(`http_503\\s+http_5xx\\s+${r.errors.http_503}`));
      assert.match(text, /p99<2s\s+[\d.]+\s+ok/);
      // the embedded JSON is the --out file
      const embedded = await tab.locator("#load-test-results").textContent();
      assert.deepEqual(JSON.parse(embedded!), r);
    } finally {
      await browser.close();
    }
  });
});
