// run.mjs — LLM serving in one command: a test model, `slipway llm serve`, the OpenAI client, a load test, and
// the Prometheus metrics the server produced.
//
//   npm run example:llm-serving                          (= node examples/llm-serving/run.mjs; after `npx tsc -b`)
//   node examples/llm-serving/run.mjs --out ./report     (keep the load test's report.html and results.json there)
//   node examples/llm-serving/run.mjs --requests 16 --concurrency 2
//
// Steps, each a real process or a real HTTP call:
//  1. writes the tiny random-weight GGUF model (`makeTestModel`, no download) into a temporary directory;
//  2. starts `slipway llm serve --model tiny=… --threads 1` as a child process on a free port;
//  3. with the `openai` npm client: a chat completion, a streamed chat completion, JSON-schema output (grammar
//     constrained, parsed and checked), and embeddings as floats and as base64;
//  4. runs `slipway loadtest` (streamed, closed loop, with a warm-up) and prints its table; the HTML report
//     and the JSON results go to --out (default: the temporary directory, removed at the end);
//  5. prints the vLLM-named metrics from the server's `GET /metrics`, one readable line per series;
//  6. stops the server and removes the temporary files — also on Ctrl-C.
// A failing step exits 1 naming it. The model's weights are random: its answers are nonsense by design; what
// is shown is the serving, not the model.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { clearTimeout, setTimeout } from "node:timers";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { makeTestModel } from "@slipway/inference";

const BIN = fileURLToPath(new URL("../../packages/cli/bin/slipway.js", import.meta.url));

const { values: args } = parseArgs({
  options: {
    out: { type: "string" },
    requests: { type: "string", default: "24" },
    concurrency: { type: "string", default: "4" },
    "max-tokens": { type: "string", default: "16" },
  },
});

const work = await mkdtemp(join(tmpdir(), "slipway-llm-example-"));
const outDir = args.out === undefined ? work : resolve(args.out);
/** @type {import("node:child_process").ChildProcess | undefined} */
let server;
/** @type {import("node:child_process").ChildProcess | undefined} */
let loadtest;
let stopping = false;

async function cleanup() {
  for (const child of [loadtest, server]) {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  }
  await rm(work, { recursive: true, force: true });
}

process.on("SIGINT", () => {
  if (stopping) return;
  stopping = true;
  console.log("\ninterrupted: stopping the server and removing the temporary files");
  void cleanup().then(() => process.exit(130));
});

function log(text) {
  console.log(text);
}

/** Runs one step; a failure ends the example naming it. */
async function step(name, fn) {
  log(`\n== ${name}`);
  try {
    return await fn();
  } catch (error) {
    if (stopping) await new Promise(() => {}); // Ctrl-C: the handler exits
    console.error(`\nstep failed: ${name}: ${error instanceof Error ? error.message : String(error)}`);
    await cleanup();
    process.exit(1);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const modelPath = join(work, "tiny.gguf");
await step("1. write the test model", async () => {
  const info = await makeTestModel({ out: modelPath });
  log(`${info.path}: ${info.shape}, ${info.parameters.toLocaleString("en")} parameters, ${info.bytes} bytes`);
});

const baseURL = await step("2. start slipway llm serve", async () => {
  server = spawn(
    process.execPath,
    [BIN, "llm", "serve", "--model", `tiny=${modelPath}`, "--port", "0", "--threads", "1", "--parallel", "4"].concat([
      "--context-size",
      "1024",
      "--gpu",
      "false",
    ]),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  server.stderr.on("data", (c) => (output += c.toString()));
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`not listening after 60 s: ${output}`)), 60_000);
    server.stdout.on("data", (c) => {
      output += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    server.once("exit", (code) => fail(new Error(`llm serve exited with ${code}: ${output.trim()}`)));
  });
  log(`serving at ${url}/v1`);
  return `${url}/v1`;
});

const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });

await step("3a. chat completion (openai client)", async () => {
  const res = await client.chat.completions.create({
    model: "tiny",
    messages: [{ role: "user", content: "Say hello." }],
    max_tokens: 12,
    seed: 1,
  });
  const choice = res.choices[0];
  check(choice?.message.role === "assistant", "no assistant message");
  log(`finish_reason ${choice.finish_reason}, usage ${JSON.stringify(res.usage)}`);
  log(`content: ${JSON.stringify(choice.message.content)}`);
});

await step("3b. streamed chat completion", async () => {
  const stream = await client.chat.completions.create({
    model: "tiny",
    messages: [{ role: "user", content: "Count to five." }],
    max_tokens: 12,
    stream: true,
    stream_options: { include_usage: true },
  });
  let chunks = 0;
  let text = "";
  let usage;
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta?.content ?? "";
    if (delta !== "") chunks++;
    text += delta;
    usage = chunk.usage ?? usage;
  }
  check(chunks > 0, "no content chunks");
  check(usage !== undefined, "no usage chunk (stream_options.include_usage)");
  log(`${chunks} content chunks, usage ${JSON.stringify(usage)}`);
  log(`content: ${JSON.stringify(text)}`);
});

await step("3c. JSON-schema output", async () => {
  const schema = {
    type: "object",
    properties: {
      city: { type: "string", maxLength: 12 },
      sunny: { type: "boolean" },
      size: { enum: ["s", "m", "l"] },
    },
    required: ["city", "sunny", "size"],
    additionalProperties: false,
  };
  const res = await client.chat.completions.create({
    model: "tiny",
    messages: [{ role: "user", content: "Describe a city as JSON." }],
    max_tokens: 80,
    seed: 2,
    response_format: { type: "json_schema", json_schema: { name: "city", schema, strict: true } },
  });
  const content = res.choices[0]?.message.content ?? "";
  const value = JSON.parse(content);
  check(typeof value.city === "string" && value.city.length <= 12, `city does not match the schema: ${content}`);
  check(typeof value.sunny === "boolean", `sunny does not match the schema: ${content}`);
  check(["s", "m", "l"].includes(value.size), `size does not match the schema: ${content}`);
  log(`parsed and matches the schema: ${content}`);
});

await step("3d. embeddings (float and base64)", async () => {
  const floats = await client.embeddings.create({
    model: "tiny",
    input: ["the river", "the mountain"],
    encoding_format: "float",
  });
  check(floats.data.length === 2, "expected two embeddings");
  const dims = floats.data[0].embedding.length;
  check(dims > 0 && floats.data.every((d) => d.embedding.length === dims), "embeddings of different sizes");
  // the client asks for base64 by default and decodes it: the same vectors (float32 precision)
  const decoded = await client.embeddings.create({ model: "tiny", input: ["the river", "the mountain"] });
  const raw = await fetch(`${baseURL}/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", input: "the river", encoding_format: "base64" }),
  }).then((r) => r.json());
  check(typeof raw.data?.[0]?.embedding === "string", "base64 embedding is not a string");
  const bytes = Buffer.from(raw.data[0].embedding, "base64");
  check(bytes.length === dims * 4, `base64 embedding has ${bytes.length} bytes, expected ${dims * 4}`);
  let most = 0;
  for (let i = 0; i < dims; i++) {
    most = Math.max(most, Math.abs(decoded.data[0].embedding[i] - floats.data[0].embedding[i]));
  }
  check(most < 1e-6, `base64 and float embeddings differ by ${most}`);
  log(`2 embeddings of ${dims} dimensions; base64 (${bytes.length} bytes each) decodes to the float values`);
});

await step("4. slipway loadtest (streamed)", async () => {
  await mkdir(outDir, { recursive: true });
  const html = join(outDir, "report.html");
  const json = join(outDir, "results.json");
  loadtest = spawn(
    process.execPath,
    [BIN, "loadtest", baseURL, "--scenario", "chat", "--model", "tiny", "--stream"].concat(
      ["--requests", args.requests, "--concurrency", args.concurrency, "--warmup", "2"],
      ["--prompt-tokens", "32", "--max-tokens", args["max-tokens"], "--timeout", "60s"],
      ["--html", html, "--out", json, "--assert", "errors<1%"],
    ),
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const [code] = await once(loadtest, "exit");
  check(code === 0, `slipway loadtest exited with ${code}`);
  log(`report: ${html}${outDir === work ? " (removed at the end; give --out DIR to keep it)" : ""}`);
  log(`results: ${json}`);
});

await step("5. Prometheus metrics (vLLM names)", async () => {
  const res = await fetch(`${baseURL.replace(/\/v1$/, "")}/metrics`);
  check(res.ok, `GET /metrics: ${res.status}`);
  const lines = (await res.text()).split("\n").filter((l) => l.startsWith("vllm:"));
  check(lines.length > 0, "no vllm: metrics");
  for (const line of readableMetrics(lines)) log(line);
});

/**
 * Counters and gauges as they are; histograms as count, mean and the share under a few bounds, instead of
 * every bucket line.
 */
function readableMetrics(lines) {
  const out = [];
  const histograms = new Map();
  for (const line of lines) {
    const m = /^([^{\s]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name, labels = "", value] = m;
    const hist = /^(.*)_(bucket|sum|count)$/.exec(name);
    if (hist && (hist[2] !== "bucket" || labels.includes("le="))) {
      const base = hist[1];
      const h = histograms.get(base) ?? { count: 0, sum: 0, buckets: [] };
      if (hist[2] === "count") h.count += Number(value);
      else if (hist[2] === "sum") h.sum += Number(value);
      else h.buckets.push([/le="([^"]+)"/.exec(labels)[1], Number(value)]);
      histograms.set(base, h);
      continue;
    }
    out.push(`${name}${labels.replace(/model_name="[^"]*",?/, "").replace("{}", "")}  ${value}`);
  }
  for (const [name, h] of histograms) {
    if (h.count === 0) {
      out.push(`${name}  (no observations)`);
      continue;
    }
    const mean = h.sum / h.count;
    const p50 = h.buckets.find(([, n]) => n >= h.count / 2)?.[0];
    out.push(`${name}  count ${h.count}, mean ${mean.toPrecision(3)} s, median ≤ ${p50} s`);
  }
  return out;
}

await step("6. stop the server and clean up", async () => {
  await cleanup();
  log("done");
});
