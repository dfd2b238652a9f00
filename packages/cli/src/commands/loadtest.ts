/**
 * `slipway loadtest [URL] --model NAME`: load-tests an OpenAI-compatible server (Slipway's
 * `llm serve`, vLLM, TGI, Ollama, llama.cpp's server) or, with `--scenario invocations --body FILE`, a model
 * server's `/invocations`, or the weighted request templates of `--scenario FILE.json`. A closed loop of
 * `--concurrency` clients, or an open loop of `--rate N` requests per second (Poisson or uniform arrivals), for
 * `--requests N` or `--duration 30s`, after an optional `--warmup` (requests or a duration, not counted). Prints
 * latency percentiles (end to end; with `--stream` also time to first token and time per output token),
 * requests/s, output tokens/s and errors by kind, as a table or `--json`; `--out FILE.json` and `--html FILE.html`
 * write the full results (with a per-second timeline) and a self-contained report with charts.
 * `--assert "p99<200ms,errors<0.1%"` exits 1 when one fails (for CI); exit 2 on bad usage.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  DEFAULT_LOAD_REQUESTS,
  DEFAULT_MAX_TOKENS,
  DEFAULT_PROMPT_TOKENS,
  LoadTestUsageError,
  ScenarioError,
  checkAssertions,
  formatLoadTestReport,
  loadTestResults,
  parseAssertions,
  parseScenario,
  renderLoadTestHtml,
  runLoadTest,
  type Assertion,
  type LoadProgress,
  type LoadTestOptions,
  type Scenario,
} from "@slipway/inference";
import { UsageError, parseDuration } from "../errors.js";

interface LoadTestFlags {
  url?: string;
  model?: string;
  protocol?: string;
  endpoint?: string;
  scenario?: string;
  warmup?: string;
  out?: string;
  html?: string;
  concurrency?: string;
  rate?: string;
  arrivals: string;
  requests?: string;
  duration?: string;
  promptTokens: string;
  maxTokens: string;
  stream?: boolean;
  ignoreEos: boolean;
  timeout: string;
  body?: string;
  apiKeyEnv?: string;
  assert?: string;
  json?: boolean;
}

function whole(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: '${text}' is not a whole number from ${min} to ${max}`);
  }
  return n;
}

function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`'${text}' is not a URL (example: http://127.0.0.1:8000/v1)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`'${text}' is not an http(s) URL`);
  return text;
}

const BUILT_IN_SCENARIOS: Readonly<
  Record<string, { protocol: "openai" | "mlflow"; endpoint: "chat" | "completions" }>
> = {
  chat: { protocol: "openai", endpoint: "chat" },
  completions: { protocol: "openai", endpoint: "completions" },
  invocations: { protocol: "mlflow", endpoint: "chat" },
};

/**
 * `--scenario chat|completions|invocations|FILE.json`, with `--protocol` / `--endpoint` as older spellings of the
 * built-in ones (they must agree with `--scenario` when both are given).
 */
async function resolveScenario(flags: LoadTestFlags): Promise<{
  protocol: "openai" | "mlflow";
  endpoint: "chat" | "completions";
  scenarioFile?: { path: string; scenario: Scenario };
}> {
  const protocol = (flags.protocol ?? "openai") as "openai" | "mlflow";
  const endpoint = (flags.endpoint ?? "chat") as "chat" | "completions";
  if (flags.scenario === undefined) return { protocol, endpoint };
  const builtIn = Object.hasOwn(BUILT_IN_SCENARIOS, flags.scenario) ? BUILT_IN_SCENARIOS[flags.scenario] : undefined;
  if (builtIn !== undefined) {
    if (flags.protocol !== undefined && flags.protocol !== builtIn.protocol) {
      throw new UsageError(`--scenario ${flags.scenario} and --protocol ${flags.protocol} disagree: give one`);
    }
    if (flags.endpoint !== undefined && (builtIn.protocol === "mlflow" || flags.endpoint !== builtIn.endpoint)) {
      throw new UsageError(`--scenario ${flags.scenario} and --endpoint ${flags.endpoint} disagree: give one`);
    }
    return builtIn;
  }
  if (!flags.scenario.endsWith(".json")) {
    throw new UsageError(`--scenario: '${flags.scenario}' is not one of chat, completions, invocations or a FILE.json`);
  }
  if (flags.protocol !== undefined || flags.endpoint !== undefined) {
    throw new UsageError("--protocol and --endpoint are for the built-in scenarios, not a scenario file");
  }
  let text: string;
  try {
    text = await readFile(flags.scenario, "utf8");
  } catch {
    throw new UsageError(`--scenario: cannot read '${flags.scenario}'`);
  }
  try {
    return {
      protocol,
      endpoint,
      scenarioFile: { path: flags.scenario, scenario: parseScenario(text, flags.scenario) },
    };
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(`--scenario: ${error.message}`);
    throw error;
  }
}

/** `--warmup 20` (requests) or `--warmup 5s` (a duration). */
function parseWarmup(text: string): { warmupRequests: number } | { warmupMs: number } {
  if (/^\s*\d+\s*$/.test(text)) return { warmupRequests: whole(text, "--warmup", 1, 10_000_000) };
  const ms = parseDuration(text, "--warmup");
  if (ms <= 0) throw new UsageError("--warmup: must be longer than 0");
  return { warmupMs: ms };
}

/** Flags → options, refusing what cannot work before anything is sent. */
async function loadOptions(positional: string | undefined, flags: LoadTestFlags): Promise<LoadTestOptions> {
  const urlText = positional ?? flags.url;
  if (positional !== undefined && flags.url !== undefined && positional !== flags.url) {
    throw new UsageError("give the URL once: as an argument or as --url");
  }
  if (urlText === undefined)
    throw new UsageError("give the server's URL (example: slipway loadtest http://127.0.0.1:8000/v1 --model tiny)");
  if (flags.protocol !== undefined && flags.protocol !== "openai" && flags.protocol !== "mlflow")
    throw new UsageError(`--protocol: '${flags.protocol}' is not one of openai, mlflow`);
  if (flags.endpoint !== undefined && flags.endpoint !== "chat" && flags.endpoint !== "completions") {
    throw new UsageError(`--endpoint: '${flags.endpoint}' is not one of chat, completions`);
  }
  const { protocol, endpoint, scenarioFile } = await resolveScenario(flags);
  if (flags.requests !== undefined && flags.duration !== undefined) {
    throw new UsageError("give --requests or --duration, not both");
  }
  const requests = flags.requests === undefined ? undefined : whole(flags.requests, "--requests", 1, 10_000_000);
  const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration, "--duration");
  if (durationMs !== undefined && durationMs <= 0) throw new UsageError("--duration: must be longer than 0");
  const timeoutMs = parseDuration(flags.timeout, "--timeout");
  if (timeoutMs <= 0) throw new UsageError("--timeout: must be longer than 0");
  let apiKey: string | undefined;
  if (flags.apiKeyEnv !== undefined) {
    apiKey = process.env[flags.apiKeyEnv];
    if (apiKey === undefined || apiKey === "") {
      throw new UsageError(`--api-key-env: the environment variable ${flags.apiKeyEnv} is not set`);
    }
  }
  let rate: number | undefined;
  if (flags.rate !== undefined) {
    rate = Number(flags.rate);
    if (!/^\s*\d+(\.\d+)?\s*$/.test(flags.rate) || !(rate > 0) || rate > 1_000_000) {
      throw new UsageError(`--rate: '${flags.rate}' is not a number of requests per second above 0`);
    }
  }
  const arrivals = flags.arrivals as "poisson" | "uniform";
  if (!["poisson", "uniform"].includes(arrivals)) {
    throw new UsageError(`--arrivals: '${arrivals}' is not one of poisson, uniform`);
  }
  const warmup = flags.warmup === undefined ? {} : parseWarmup(flags.warmup);
  const common = {
    url: checkUrl(urlText),
    ...warmup,
    // open loop: the cap on requests in flight (default high: the schedule, not the client, sets the pace)
    concurrency: whole(flags.concurrency ?? (rate === undefined ? "8" : "1024"), "--concurrency", 1, 10_000),
    ...(rate === undefined ? {} : { rate, arrivals }),
    ...(requests === undefined ? {} : { requests }),
    ...(durationMs === undefined ? {} : { durationMs }),
    timeoutMs,
    ...(apiKey === undefined ? {} : { apiKey }),
  };
  if (scenarioFile !== undefined) {
    if (flags.body !== undefined)
      throw new UsageError("--body is for --scenario invocations (a scenario file holds its bodies)");
    if (flags.stream) throw new UsageError("--stream: a scenario file's templates say which requests stream");
    return {
      ...common,
      protocol: "openai",
      scenario: scenarioFile.scenario,
      scenarioName: scenarioFile.path,
      ...(flags.model === undefined ? {} : { model: flags.model }),
      promptTokens: whole(flags.promptTokens, "--prompt-tokens", 1, 1_000_000),
    };
  }
  if (protocol === "mlflow") {
    if (flags.body === undefined)
      throw new UsageError("--protocol mlflow needs --body FILE (the JSON to POST to /invocations)");
    let body: string;
    try {
      body = await readFile(flags.body, "utf8");
    } catch {
      throw new UsageError(`--body: cannot read '${flags.body}'`);
    }
    try {
      JSON.parse(body);
    } catch {
      throw new UsageError(`--body: '${flags.body}' is not JSON`);
    }
    if (flags.model !== undefined || flags.stream) {
      throw new UsageError("--model and --stream are for --protocol openai");
    }
    return { ...common, protocol, body };
  }
  if (flags.model === undefined) throw new UsageError("--model: give the model name to load-test (see GET /v1/models)");
  if (flags.body !== undefined) throw new UsageError("--body is for --protocol mlflow");
  return {
    ...common,
    protocol,
    endpoint,
    model: flags.model,
    promptTokens: whole(flags.promptTokens, "--prompt-tokens", 1, 1_000_000),
    maxTokens: whole(flags.maxTokens, "--max-tokens", 1, 1_000_000),
    stream: flags.stream === true,
    ignoreEos: flags.ignoreEos,
  };
}

function progressBar(p: LoadProgress): string {
  const width = 24;
  const filled = Math.round(p.fraction * width);
  return (
    `\r\x1b[2K${p.phase === "warmup" ? "warm-up " : ""}[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(p.fraction * 100).toFixed(0).padStart(3)}%  ` +
    `${p.done} done, ${p.errors} errors, ${(p.elapsedMs / 1000).toFixed(1)} s`
  );
}

async function loadtest(positional: string | undefined, flags: LoadTestFlags): Promise<void> {
  const options = await loadOptions(positional, flags);
  let assertions: Assertion[] = [];
  try {
    if (flags.assert !== undefined) assertions = parseAssertions(flags.assert);
  } catch (error) {
    if (error instanceof LoadTestUsageError) throw new UsageError(error.message);
    throw error;
  }
  const tty = process.stderr.isTTY === true && flags.json !== true;
  const stop = new AbortController();
  const onSigint = () => stop.abort(new Error("interrupted"));
  process.once("SIGINT", onSigint);
  let summary;
  try {
    summary = await runLoadTest({
      ...options,
      signal: stop.signal,
      ...(tty ? { onProgress: (p: LoadProgress) => process.stderr.write(progressBar(p)) } : {}),
    });
  } finally {
    process.off("SIGINT", onSigint);
    if (tty) process.stderr.write("\r\x1b[2K");
  }
  const results = checkAssertions(assertions, summary);
  const full = loadTestResults(
    summary,
    results.map((r) => ({ assertion: r.assertion.text, actual: r.actual ?? null, passed: r.passed })),
  );
  await writeReport(flags.out, "--out", `${JSON.stringify(full, null, 2)}\n`);
  await writeReport(flags.html, "--html", renderLoadTestHtml(full));
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify(full)}\n`);
  } else {
    process.stdout.write(formatLoadTestReport(summary));
    for (const r of results) {
      const actual = r.actual === undefined ? "not measured" : `${Number(r.actual.toPrecision(6))}`;
      process.stdout.write(`  assert ${r.assertion.text.padEnd(24)} ${r.passed ? "ok" : "FAILED"} (${actual})\n`);
    }
  }
  if (summary.requests > 0 && summary.succeeded === 0) {
    const kinds = Object.entries(summary.errors)
      .map(([k, n]) => `${k}: ${n}`)
      .join(", ");
    throw new Error(`all ${summary.requests} requests failed (${kinds})`);
  }
  const failed = results.filter((r) => !r.passed);
  if (failed.length > 0) {
    throw new Error(
      `assertion failed: ${failed
        .map(
          (r) =>
            `${r.assertion.text} (actual ${r.actual === undefined ? "not measured" : Number(r.actual.toPrecision(6))})`,
        )
        .join(", ")}`,
    );
  }
}

async function writeReport(path: string | undefined, flag: string, text: string): Promise<void> {
  if (path === undefined) return;
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new Error(`${flag}: cannot write '${path}' (${(error as Error).message})`);
  }
}

export function registerLoadTest(program: Command): void {
  program
    .command("loadtest")
    .description(
      "Load-test an OpenAI-compatible LLM server (or a model server's /invocations): latency, TTFT, tokens/s",
    )
    .argument("[url]", "the OpenAI API's base URL (http://127.0.0.1:8000/v1), or the model server's URL for mlflow")
    .option("--url <url>", "the URL, as a flag")
    .option("--model <name>", "the model to request (openai)")
    .option(
      "--scenario <name|file>",
      "chat | completions | invocations (POST --body) | FILE.json of weighted request templates (default chat)",
    )
    .option("--protocol <protocol>", "openai | mlflow: older spelling of --scenario chat|completions / invocations")
    .option("--endpoint <endpoint>", "chat | completions (openai; older spelling of --scenario)")
    .option(
      "--concurrency <n>",
      "closed loop: clients, each sending its next request when the last ends (default 8); with --rate: the most requests in flight (default 1024)",
    )
    .option("--rate <n>", "open loop: send N requests per second whatever the server's pace (reports late sends)")
    .option("--arrivals <kind>", "open loop: poisson (random gaps, as vLLM's benchmark) or uniform", "poisson")
    .option("--requests <n>", `requests to send (default ${DEFAULT_LOAD_REQUESTS})`)
    .option("--duration <duration>", "send for this long instead (e.g. 30s, 5m)")
    .option("--warmup <n|duration>", "first send N requests, or for a duration (e.g. 5s), not counted in the results")
    .option("--prompt-tokens <n>", "prompt length in tokens, about (openai)", String(DEFAULT_PROMPT_TOKENS))
    .option("--max-tokens <n>", "max_tokens per request (openai)", String(DEFAULT_MAX_TOKENS))
    .option("--stream", "stream the answers (measures time to first token and per output token)")
    .option("--no-ignore-eos", "do not send ignore_eos (answers may then end before max_tokens)")
    .option("--timeout <duration>", "per request", "60s")
    .option("--body <file>", "the JSON request body (mlflow)")
    .option("--api-key-env <var>", "environment variable holding an API key (sent as a Bearer token)")
    .option(
      "--assert <list>",
      "exit 1 unless all hold, e.g. 'p99_ttft_ms<500,error_rate<0.01,tokens_per_s>100' (also p50|p90|p99, errors<1%)",
    )
    .option("--json", "print the results as JSON")
    .option(
      "--out <file>",
      "write the full results as JSON (settings, summary, percentiles, errors, per-second timeline)",
    )
    .option("--html <file>", "write a self-contained HTML report with charts")
    .action(async (url: string | undefined, flags: LoadTestFlags) => loadtest(url, flags));
}
