/**
 * End to end: `slipway llm serve` as a gateway in front of a second, real `slipway llm serve` (the
 * tiny test model), routed by a routing file. Killing the upstream (SIGKILL) gets it marked down by the
 * health checks (`/metrics`), requests for a model with a fallback go to the fallback (an embedded
 * model here), the others get a clear 503; restarting it on the same port brings it back up.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI, { APIError } from "openai";
import { BIN, runSlipway } from "./testing/harness.js";

interface ServeProcess {
  url: string;
  child: ChildProcess;
  output(): string;
}

async function serve(args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, "llm", "serve", "--gpu", "false", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout.off("data", onData);
        resolve(m[1]!);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`slipway llm serve exited with ${code}: ${out}`)));
  });
  return { url, child, output: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function healthGauge(gateway: string, model: string): Promise<number | undefined> {
  const text = await (await fetch(`${gateway}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`slipway_llm_upstream_healthy{model="${model}"`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const SMALL = ["--threads", "1", "--parallel", "2", "--context-size", "512"];
const USER = [{ role: "user" as const, content: "Hello" }];

describe("slipway llm serve --routing (upstreams)", () => {
  let dir: string;
  let modelPath: string;
  let port: number;
  let upstream: ServeProcess | undefined;
  let gateway: ServeProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-llm-upstream-"));
    modelPath = join(dir, "tiny.gguf");
    const made = await runSlipway(["llm", "make-test-model", "--out", modelPath]);
    assert.equal(made.code, 0, made.stderr);
    port = await freePort();
  });
  after(async () => {
    for (const p of [upstream, gateway]) if (p && p.child.exitCode === null) p.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("routes to a real upstream, survives its death by health checks and fallback, and takes it back", async () => {
    upstream = await serve(["--model", `tiny=${modelPath}`, "--port", String(port), ...SMALL]);
    const routingFile = join(dir, "routing.yaml");
    const target = `http://127.0.0.1:${port}/v1`;
    await writeFile(
      routingFile,
      [
        "defaults:",
        "  timeout: 5s",
        "  retries: { attempts: 2, backoff: 50ms }",
        "  health: { interval: 150ms, timeout: 500ms, unhealthyAfter: 2, healthyAfter: 2 }",
        "models:",
        "  big:",
        "    targets:",
        `      - { url: "${target}", model: tiny, weight: 2 }`,
        "    fallback: [local]",
        "  strict:",
        `    targets: ["${target}"]`,
        "",
      ].join("\n"),
    );
    gateway = await serve(["--model", `local=${modelPath}`, "--routing", routingFile, "--port", "0", ...SMALL]);
    assert.match(gateway.output(), /routing big to http:\/\/127\.0\.0\.1:\d+\/v1 \(weight 2\); fallback local/);
    assert.match(gateway.output(), /routed: {2}big, strict \(upstream\)/);
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });

    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id).sort(), ["big", "local", "strict"]);
    const stream = await client.chat.completions.create({
      model: "big",
      messages: USER,
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      assert.equal(chunk.model, "big");
      usage = chunk.usage ?? usage;
    }
    assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens <= 4);
    // strict learns the upstream's model name ('tiny') from its /models
    await until(async () => {
      try {
        await client.chat.completions.create({ model: "strict", messages: USER, max_tokens: 2 });
        return true;
      } catch {
        return false;
      }
    }, "strict served");
    assert.equal(await healthGauge(gateway.url, "big"), 1);

    upstream.child.kill("SIGKILL");
    await exited(upstream.child);
    await until(async () => (await healthGauge(gateway!.url, "big")) === 0, "big marked down");
    await until(async () => (await healthGauge(gateway!.url, "strict")) === 0, "strict marked down");

    const fallback = await client.chat.completions.create({ model: "big", messages: USER, max_tokens: 3 });
    assert.equal(fallback.model, "big");
    assert.ok(fallback.usage!.completion_tokens <= 3);
    await assert.rejects(client.chat.completions.create({ model: "strict", messages: USER }), (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 503);
      assert.equal(error.code, "upstream_unavailable");
      assert.match(error.message, /Model 'strict': every upstream target is marked down by health checks/);
      return true;
    });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(metrics, /slipway_llm_fallbacks_total\{model="big",fallback="local"\} 1/);

    upstream = await serve(["--model", `tiny=${modelPath}`, "--port", String(port), ...SMALL]);
    await until(async () => (await healthGauge(gateway!.url, "strict")) === 1, "strict marked up");
    const back = await client.chat.completions.create({ model: "strict", messages: USER, max_tokens: 2 });
    assert.equal(back.model, "strict");

    gateway.child.kill("SIGTERM");
    assert.equal(await exited(gateway.child), 0);
    upstream.child.kill("SIGTERM");
    assert.equal(await exited(upstream.child), 0);
  });

  it("bad routing usage exits 2 with a one-line message", async () => {
    const badUrl = await runSlipway(["llm", "serve", "--upstream", "big=ftp://x"]);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--upstream big=ftp:\/\/x: 'ftp:\/\/x' is not an http\(s\) URL/);
    const missing = await runSlipway(["llm", "serve", "--routing", join(dir, "nope.yaml")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--routing: cannot read/);
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "models:\n  big:\n    targets: [http://h/v1]\n    retries: { attempts: 0 }\n");
    const invalid = await runSlipway(["llm", "serve", "--routing", bad]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /bad\.yaml: models\.big\.retries\.attempts: expected an integer from 1 to 20/);
    const noTarget = await runSlipway(["llm", "serve", "--upstream", "a=http://h/v1", "--fallback", "a=b"]);
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.stderr, /'a' falls back to 'b', which is neither a --model nor an upstream/);
  });
});
