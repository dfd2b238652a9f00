#!/usr/bin/env node
// npm run bench:llm — the LLM server of issue #8 on a random-weight test model written by the project's
// own tool (no download):
//   1. decode: node-llama-cpp driven in-process (a context sequence's `evaluate`, the loop our engine
//      runs), Slipway's engine in-process (LlamaCppProvider, no HTTP) and `slipway llm serve` over HTTP
//      (SSE, one child process), 1 and 4 concurrent streams, threads = cores and cores − 1: aggregate
//      decode tokens/s, time to first token, and where the time per token goes;
//   2. gateway: the latency a `slipway llm serve --upstream` adds in front of a fast OpenAI-compatible
//      upstream (an immediate node:http answer), open loop at 500 requests/s: p50 and p99, direct vs
//      through the gateway.
// BENCH_SHAPE=tiny|qwen2-0.5b (default tiny; qwen2-0.5b writes ~530 MB, and each cell holds it three times), BENCH_TOKENS (default 128),
// Each cell runs the three ways interleaved (medians of 5 rounds), and the gateway alternates direct and
// routed load in 2-second rounds: on a shared machine a slow stretch then hits every column alike.
// BENCH_QUICK=1: one measured run per cell and 2 s of gateway load. BENCH_PART=decode|gateway: only that part.
// The in-process rows run with this process's settings (libuv's default 4 threads, weights mapped): node-llama-cpp
// as a user would call it. The HTTP rows run `slipway llm serve` with its own (see SERVER_ENV below).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LlamaCppProvider, makeTestModel, openLlama } from "../packages/inference/dist/index.js";

const QUICK = process.env.BENCH_QUICK === "1";
const SHAPE = process.env.BENCH_SHAPE ?? "tiny";
const TOKENS = Number(process.env.BENCH_TOKENS ?? 128);
const RUNS = QUICK ? 1 : 5;
const PART = process.env.BENCH_PART ?? "all";
// the server as docs/llm-serving.md recommends running it ("Engine settings"): weights on transparent huge
// pages through glibc's malloc tunable (BENCH_THP=0: without)
const SERVER_ENV = process.env.BENCH_THP === "0" ? {} : { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" };
if (!["all", "decode", "gateway"].includes(PART))
  throw new Error(`BENCH_PART must be decode, gateway or all, not ${PART}`);
// BENCH_LLAMA_BENCH=/path/to/llama-bench: llama.cpp's own benchmark tool (built from the llama.cpp source that
// node-llama-cpp bundles, see docs/benchmarks.md) as a fourth column of the one-stream cells
const LLAMA_BENCH = process.env.BENCH_LLAMA_BENCH;
const CONTEXT = 512;
const PROMPT = "Once upon a time, in a land far away, there lived a";
const CLI = fileURLToPath(new URL("../packages/cli/bin/slipway.js", import.meta.url));
const cores = availableParallelism();
const threadCounts = [...new Set([cores, Math.max(1, cores - 1)])];

const scratch = await mkdtemp(join(tmpdir(), "slipway-bench-llm-"));
const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Starts `slipway ARGS` and resolves with its URL once it listens. */
async function startSlipway(args, env = {}) {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  children.add(child);
  let out = "";
  child.stderr.on("data", (c) => (out += c));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on("data", (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`slipway ${args.join(" ")} exited with ${code}: ${out}`)));
  });
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
      children.delete(child);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// 1. decode: in-process node-llama-cpp against the HTTP server

const modelPath = join(scratch, `${SHAPE}.gguf`);
if (PART !== "gateway") {
  process.stderr.write(`writing the ${SHAPE} test model…\n`);
  await makeTestModel({ out: modelPath, shape: SHAPE, seed: 1 });
}

/** One run's figures: aggregate tokens/s from the first token to the last, and the mean time to first token. */
function runFigures(timings, started, tokens, streams) {
  const firstAll = Math.min(...timings.map((t) => (t.started ?? started) + t.ttft));
  const end = Math.max(...timings.map((t) => t.end));
  return {
    tokensPerS: (tokens - streams) / ((end - firstAll) / 1000),
    ttft: timings.reduce((s, t) => s + t.ttft, 0) / streams,
  };
}

/** node-llama-cpp as a user calls it: N sequences of one context, each `evaluate`d for TOKENS tokens. */
async function rawRunner(model, threads, streams) {
  const context = await model.createContext({ sequences: streams, contextSize: CONTEXT, threads });
  const prompt = model.tokenize(PROMPT);
  const sequences = Array.from({ length: streams }, () => context.getSequence());
  return {
    async run(run) {
      await Promise.all(sequences.map((s) => s.clearHistory()));
      const started = performance.now();
      const timings = await Promise.all(
        sequences.map(async (sequence, i) => {
          let first;
          let n = 0;
          for await (const _token of sequence.evaluate(prompt, {
            temperature: 0.8,
            seed: i + run,
            yieldEogToken: true,
          })) {
            first ??= performance.now();
            if (++n >= TOKENS) break;
          }
          return { ttft: first - started, end: performance.now() };
        }),
      );
      return runFigures(timings, started, streams * TOKENS, streams);
    },
    close: () => context.dispose(),
  };
}

/** The same through Slipway's engine in-process (LlamaCppProvider: sampling, detokenising, stop matching), no HTTP. */
async function engineRunner(llama, threads, streams) {
  const provider = await LlamaCppProvider.open({
    llama,
    name: "m",
    modelPath,
    parallel: streams,
    contextSize: CONTEXT,
    threads,
  });
  const sampling = {
    maxTokens: TOKENS,
    temperature: 0.8,
    topP: 1,
    seed: undefined,
    stop: [],
    presencePenalty: 0,
    frequencyPenalty: 0,
    logitBias: new Map(),
    responseFormat: { type: "text" },
    topK: undefined,
    minP: undefined,
    repetitionPenalty: undefined,
    ignoreEos: true,
  };
  return {
    async run(run) {
      const started = performance.now();
      const timings = await Promise.all(
        Array.from({ length: streams }, async (_, i) => {
          const stream = await provider.complete(
            { model: "m", prompts: [PROMPT], n: 1, echo: false, sampling: { ...sampling, seed: i + run }, raw: {} },
            new AbortController().signal,
          );
          let first;
          for await (const event of stream) if (event.type === "text") first ??= performance.now();
          return { ttft: first - started, end: performance.now() };
        }),
      );
      return runFigures(timings, started, streams * TOKENS, streams);
    },
    close: () => provider.close(),
  };
}

/** One streamed completion over HTTP: time to the first chunk with text, and the end. */
async function streamOnce(baseURL, seed) {
  const started = performance.now();
  const res = await fetch(`${baseURL}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "m",
      prompt: PROMPT,
      max_tokens: TOKENS,
      ignore_eos: true,
      temperature: 0.8,
      seed,
      stream: true,
    }),
  });
  const decoder = new TextDecoder();
  let first;
  let buffer = "";
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let at;
    while ((at = buffer.indexOf("\n\n")) !== -1) {
      const event = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (event.startsWith("data: {") && event.includes('"text":"') && !event.includes('"text":""')) {
        first ??= performance.now();
      }
    }
  }
  return { ttft: first - started, end: performance.now(), started };
}

/** `slipway llm serve` in a child process, driven over HTTP with SSE. */
async function httpRunner(threads, streams) {
  const server = await startSlipway(
    [
      "llm",
      "serve",
      "--model",
      `m=${modelPath}`,
      "--port",
      "0",
      "--gpu",
      "false",
      "--threads",
      String(threads),
      "--parallel",
      String(streams),
      "--context-size",
      String(CONTEXT),
    ],
    SERVER_ENV,
  );
  return {
    async run(run) {
      const timings = await Promise.all(Array.from({ length: streams }, (_, i) => streamOnce(server.url, i + run)));
      // chunks can carry more than one token's text; count tokens as asked (ignore_eos makes it exact)
      return runFigures(timings, performance.now(), streams * TOKENS, streams);
    },
    close: () => server.stop(),
  };
}

/** llama.cpp's own `llama-bench` generating TOKENS tokens (one sequence, weights read into memory, its thread pool). */
function llamaBenchRunner(threads) {
  return {
    async run() {
      const args = ["-m", modelPath, "-t", String(threads), "-n", String(TOKENS)];
      // no prompt test, one repetition, weights read into memory, JSON out
      args.push(..."-p 0 -r 1 --mmap 0 -o json".split(" "));
      const child = spawn(LLAMA_BENCH, args, { stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      child.stdout.on("data", (c) => (out += c));
      const [code] = await once(child, "exit");
      if (code !== 0) throw new Error(`${LLAMA_BENCH} exited with ${code}`);
      const [result] = JSON.parse(out);
      return { tokensPerS: result.avg_ts, ttft: NaN };
    },
    close: async () => {},
  };
}

/**
 * One cell (threads × streams): the three ways side by side, each warmed up once, then RUNS measured runs
 * interleaved — each round runs all three, in an order that rotates round by round — so that a slow
 * stretch of a shared machine hits all three alike instead of whichever ran then. Medians per way.
 */
async function decodeCell(llama, model, threads, streams) {
  const ways = {
    raw: await rawRunner(model, threads, streams),
    engine: await engineRunner(llama, threads, streams),
    http: await httpRunner(threads, streams),
    ...(LLAMA_BENCH && streams === 1 ? { llamaBench: llamaBenchRunner(threads) } : {}),
  };
  const names = Object.keys(ways);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  try {
    for (const name of names) await ways[name].run(0);
    for (let run = 1; run <= RUNS; run++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(run + k) % names.length];
        results[name].push(await ways[name].run(run));
      }
    }
  } finally {
    for (const name of names) await ways[name].close();
  }
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        tokensPerS: median(results[name].map((r) => r.tokensPerS)),
        ttft: median(results[name].map((r) => r.ttft)),
      },
    ]),
  );
}

const decodeRows = [];
if (PART !== "gateway") {
  const llama = await openLlama({ gpu: false, logLevel: "error" });
  const model = await llama.loadModel({ modelPath });
  for (const threads of threadCounts) {
    for (const streams of [1, 4]) {
      process.stderr.write(`decode: threads ${threads}, ${streams} stream(s)…\n`);
      decodeRows.push({ threads, streams, ...(await decodeCell(llama, model, threads, streams)) });
    }
  }
  await model.dispose();
  await llama.dispose();
}

// ---------------------------------------------------------------------------------------------------
// 2. gateway overhead at 500 requests/s

/** Open loop: one request every 1000/rate ms for `seconds`; latencies in ms, sorted. */
async function openLoop(url, rate, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const body = JSON.stringify({ model: "fast", messages: [{ role: "user", content: "Hi" }], max_tokens: 5 });
  const latencies = [];
  let errors = 0;
  const total = rate * seconds;
  const started = performance.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      new Promise((resolve) => {
        const t0 = performance.now();
        const req = http.request(`${url}/v1/chat/completions`, {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        });
        req.once("response", (res) => {
          res.resume();
          res.once("end", () => {
            if (res.statusCode === 200) latencies.push(performance.now() - t0);
            else errors++;
            resolve();
          });
        });
        req.once("error", () => {
          errors++;
          resolve();
        });
        req.end(body);
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return { sorted: latencies.sort((a, b) => a - b), errors, achieved: total / ((performance.now() - started) / 1000) };
}

const RATE = 500;
const SECONDS = QUICK ? 2 : 6;

/** Direct to a fast upstream and through `slipway llm serve --upstream`, same load. */
async function gatewayBench() {
  const ANSWER = JSON.stringify({
    id: "chatcmpl-x",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "Hello there, friend." }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
  });
  const upstreamSource = `
    const http = require("node:http");
    const answer = ${JSON.stringify(ANSWER)};
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (req.url === "/v1/models") { res.writeHead(200, { "content-type": "application/json" }); res.end('{"object":"list","data":[{"id":"m"}]}'); return; }
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
        res.end(answer);
      });
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + server.address().port));
  `;
  const upstream = spawn(process.execPath, ["-e", upstreamSource], { stdio: ["ignore", "pipe", "inherit"] });
  children.add(upstream);
  const upstreamUrl = await new Promise((resolve) => {
    let out = "";
    upstream.stdout.on("data", (c) => {
      out += c;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
  });
  const gateway = await startSlipway(["llm", "serve", "--upstream", `fast=${upstreamUrl}/v1@model=m`, "--port", "0"]);

  process.stderr.write(
    `gateway: warming up, then ${RATE} requests/s for ${SECONDS} s each, direct and through the gateway, interleaved…\n`,
  );
  await openLoop(upstreamUrl, RATE, 1);
  await openLoop(gateway.url, RATE, 1);
  // interleaved in 2-second rounds, so that a slow stretch of a shared machine hits both alike
  const direct = { sorted: [], errors: 0, achieved: 0 };
  const routed = { sorted: [], errors: 0, achieved: 0 };
  const rounds = Math.max(1, SECONDS / 2);
  for (let round = 0; round < rounds; round++) {
    for (const [url, into] of [
      [upstreamUrl, direct],
      [gateway.url, routed],
    ]) {
      const r = await openLoop(url, RATE, 2);
      into.sorted.push(...r.sorted);
      into.errors += r.errors;
      into.achieved += r.achieved / rounds;
    }
  }
  for (const r of [direct, routed]) r.sorted.sort((a, b) => a - b);
  await gateway.stop();
  upstream.kill("SIGTERM");
  children.delete(upstream);
  return { direct, routed };
}
const gatewayResult = PART === "decode" ? undefined : await gatewayBench();
await rm(scratch, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------------------

const f1 = (x) => x.toFixed(1);
console.log(`\nbench:llm on ${SHAPE} (${cores} cores, ${TOKENS} tokens per stream, median of ${RUNS} run(s))\n`);
if (PART !== "gateway") {
  console.log(
    `server: UV_THREADPOOL_SIZE=1 (slipway llm serve's default), weights read into memory${SERVER_ENV.GLIBC_TUNABLES ? `, GLIBC_TUNABLES=${SERVER_ENV.GLIBC_TUNABLES}` : ""}; in-process: this process's defaults\n`,
  );
  console.log(
    "decode             node-llama-cpp in-process   Slipway engine in-process   slipway llm serve (HTTP, SSE)   HTTP vs",
  );
  console.log(
    "threads  streams     tokens/s     TTFT ms        tokens/s     TTFT ms          tokens/s     TTFT ms    engine  node-llama-cpp",
  );
  for (const r of decodeRows) {
    console.log(
      `${String(r.threads).padStart(7)}  ${String(r.streams).padStart(7)}` +
        [r.raw, r.engine, r.http].map((x) => `${f1(x.tokensPerS).padStart(13)}${f1(x.ttft).padStart(12)}`).join("   ") +
        `${(r.http.tokensPerS / r.engine.tokensPerS).toFixed(2).padStart(9)}×${(r.http.tokensPerS / r.raw.tokensPerS).toFixed(2).padStart(15)}×`,
    );
  }
  if (LLAMA_BENCH) {
    console.log("\nllama.cpp's own llama-bench, one sequence, interleaved with the rows above (tokens/s):");
    for (const r of decodeRows.filter((row) => row.llamaBench)) {
      console.log(
        `  threads ${r.threads}: ${f1(r.llamaBench.tokensPerS)}; slipway llm serve ${(r.http.tokensPerS / r.llamaBench.tokensPerS).toFixed(2)}× of it`,
      );
    }
  }
  for (const threads of threadCounts) {
    const one = decodeRows.find((r) => r.threads === threads && r.streams === 1);
    const four = decodeRows.find((r) => r.threads === threads && r.streams === 4);
    console.log(
      `  threads ${threads}: 4 streams vs 1 — node-llama-cpp ${(four.raw.tokensPerS / one.raw.tokensPerS).toFixed(2)}×, ` +
        `engine ${(four.engine.tokensPerS / one.engine.tokensPerS).toFixed(2)}×, ` +
        `HTTP ${(four.http.tokensPerS / one.http.tokensPerS).toFixed(2)}×; time per token at 1 stream: ` +
        `${(1e6 / one.raw.tokensPerS).toFixed(0)} µs node-llama-cpp, ${(1e6 / one.engine.tokensPerS).toFixed(0)} µs engine, ` +
        `${(1e6 / one.http.tokensPerS).toFixed(0)} µs over HTTP`,
    );
  }
}
if (gatewayResult) {
  console.log(`\ngateway overhead at ${RATE} requests/s open loop (${SECONDS} s each; upstream answers at once)`);
  console.log("                    p50 ms    p99 ms    errors   achieved req/s");
  for (const [name, r] of [
    ["direct", gatewayResult.direct],
    ["through gateway", gatewayResult.routed],
  ]) {
    console.log(
      `${name.padEnd(18)}${percentile(r.sorted, 50).toFixed(3).padStart(8)}${percentile(r.sorted, 99).toFixed(3).padStart(10)}${String(r.errors).padStart(9)}${r.achieved.toFixed(0).padStart(17)}`,
    );
  }
  console.log(
    `added             ${(percentile(gatewayResult.routed.sorted, 50) - percentile(gatewayResult.direct.sorted, 50)).toFixed(3).padStart(8)}` +
      `${(percentile(gatewayResult.routed.sorted, 99) - percentile(gatewayResult.direct.sorted, 99)).toFixed(3).padStart(10)}`,
  );
}
process.exit(0);
