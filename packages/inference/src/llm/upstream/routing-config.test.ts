import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_HEALTH,
  DEFAULT_RETRIES,
  FAILURE_KINDS,
  RoutingConfigError,
  buildRoutingConfig,
  parseDurationMs,
  parseUpstreamFlag,
} from "./routing-config.js";

const env = { VLLM_KEY: "sk-vllm", OTHER_KEY: "sk-other" };

function fromFile(document: unknown, embedded: string[] = []) {
  return buildRoutingConfig({ flags: {}, file: { source: "routing.yaml", document }, embedded, env });
}

describe("routing config", () => {
  it("reads --upstream NAME=URL with @weight, @model and @key-env, keeping other @s in the URL", () => {
    assert.deepEqual(parseUpstreamFlag("big=http://vllm2:8000/v1@weight=3", { env }), {
      name: "big",
      target: { url: "http://vllm2:8000/v1", weight: 3, model: undefined, apiKey: undefined },
    });
    assert.deepEqual(
      parseUpstreamFlag("big=https://user@api.example.com/v1/@model=Qwen/Qwen2.5-7B@key-env=VLLM_KEY", { env }),
      {
        name: "big",
        target: { url: "https://user@api.example.com/v1", weight: 1, model: "Qwen/Qwen2.5-7B", apiKey: "sk-vllm" },
      },
    );
    assert.equal(parseUpstreamFlag("a=http://h/v1", { env, defaultKeyEnv: "OTHER_KEY" }).target.apiKey, "sk-other");
    for (const [text, message] of [
      ["http://h/v1", /expected NAME=URL/],
      ["a=h:8000", /not an http\(s\) URL/],
      ["a=not a url", /is not a URL/],
      ["a=http://h/v1?x=1", /query or fragment/],
      ["a=http://h/v1@weight=0", /@weight must be an integer from 1 to 1000/],
      ["a=http://h/v1@weight=2@weight=3", /@weight is given twice/],
      ["a=http://h/v1@key-env=MISSING", /the environment variable MISSING is not set/],
      ["bad name=http://h/v1", /not a usable model name/],
    ] as const) {
      assert.throws(() => parseUpstreamFlag(text, { env }), message, text);
    }
  });

  it("groups flag targets per name, applies --upstream-timeout and --fallback, fills defaults", () => {
    const config = buildRoutingConfig({
      flags: {
        upstream: ["big=http://a/v1@weight=3", "big=http://b/v1", "small=http://c/v1"],
        fallback: ["big=small,local"],
        upstreamTimeout: "90s",
      },
      embedded: ["local"],
      env,
    });
    assert.equal(config.routes.length, 2);
    const big = config.routes.find((r) => r.name === "big")!;
    assert.deepEqual(
      big.targets.map((t) => [t.url, t.weight]),
      [
        ["http://a/v1", 3],
        ["http://b/v1", 1],
      ],
    );
    assert.deepEqual(big.fallback, ["small", "local"]);
    assert.equal(big.timeoutMs, 90_000);
    assert.equal(big.idleTimeoutMs, 90_000);
    assert.deepEqual(big.retries, DEFAULT_RETRIES);
    assert.deepEqual(big.health, DEFAULT_HEALTH);
    assert.deepEqual(big.fallbackOn, FAILURE_KINDS);
  });

  it("reads a routing file: defaults, per-model overrides, targets as strings or mappings", () => {
    const config = fromFile(
      {
        defaults: {
          timeout: "30s",
          retries: { attempts: 5, budget: "10s" },
          health: { path: "/health", interval: "5s" },
          apiKeyEnv: "VLLM_KEY",
        },
        models: {
          big: {
            targets: ["http://a:8000/v1", { url: "http://b:8000/v1", weight: 2, model: "m", apiKeyEnv: "OTHER_KEY" }],
            retries: { backoff: "100ms" },
            idleTimeout: "2m",
            fallback: "local",
            fallbackOn: ["timeout", "unavailable"],
          },
          local: { fallback: ["big"] },
        },
      },
      ["local"],
    );
    const big = config.routes.find((r) => r.name === "big")!;
    assert.deepEqual(big.targets, [
      { url: "http://a:8000/v1", weight: 1, model: undefined, apiKey: "sk-vllm" },
      { url: "http://b:8000/v1", weight: 2, model: "m", apiKey: "sk-other" },
    ]);
    assert.equal(big.timeoutMs, 30_000);
    assert.equal(big.idleTimeoutMs, 120_000);
    assert.deepEqual(big.retries, { attempts: 5, backoffMs: 100, maxBackoffMs: 5000, budgetMs: 10_000 });
    assert.deepEqual(big.health, { ...DEFAULT_HEALTH, path: "/health", intervalMs: 5000 });
    assert.deepEqual(big.fallback, ["local"]);
    assert.deepEqual(big.fallbackOn, ["timeout", "unavailable"]);
    const local = config.routes.find((r) => r.name === "local")!;
    assert.deepEqual(local.targets, []);
    assert.deepEqual(local.fallback, ["big"]);
  });

  it("refuses a bad routing file, naming the setting", () => {
    const cases: [unknown, RegExp][] = [
      [[], /routing\.yaml: \(top level\): expected a mapping/],
      [{ modles: {} }, /routing\.yaml: \(top level\)\.modles: unknown setting \(known: defaults, models\)/],
      [
        { models: { big: { targets: [{ url: "http://a/v1", wieght: 2 }] } } },
        /models\.big\.targets\[0\]\.wieght: unknown setting/,
      ],
      [
        { models: { big: { targets: [{ url: "http://a/v1", weight: 0 }] } } },
        /models\.big\.targets\[0\]\.weight: expected an integer from 1 to 1000/,
      ],
      [{ models: { big: { targets: [{ weight: 2 }] } } }, /models\.big\.targets\[0\]\.url: missing/],
      [
        { models: { big: { targets: ["ftp://a"] } } },
        /models\.big\.targets\[0\]\.url: 'ftp:\/\/a' is not an http\(s\) URL/,
      ],
      [
        { models: { big: { targets: ["http://a/v1"], timeout: 30 } } },
        /models\.big\.timeout: expected a duration with a unit/,
      ],
      [
        { models: { big: { targets: ["http://a/v1"], timeout: "soon" } } },
        /models\.big\.timeout: 'soon' is not a duration/,
      ],
      [
        { models: { big: { targets: ["http://a/v1"], retries: { attempts: 0 } } } },
        /models\.big\.retries\.attempts: expected an integer from 1 to 20/,
      ],
      [
        { models: { big: { targets: ["http://a/v1"], fallbackOn: ["always"] } } },
        /models\.big\.fallbackOn: 'always' is not one of connect, timeout/,
      ],
      [
        { models: { big: { targets: ["http://a/v1"], apiKeyEnv: "NOPE" } } },
        /the environment variable NOPE is not set/,
      ],
      [{ models: { big: { targets: "http://a/v1" } } }, /models\.big\.targets: expected a list of targets/],
      [{ models: { big: { targets: ["http://a/v1"], fallback: ["big"] } } }, /'big' falls back to itself/],
      [
        { models: { big: { targets: ["http://a/v1"], fallback: ["nowhere"] } } },
        /'big' falls back to 'nowhere', which is neither a --model nor an upstream/,
      ],
      [
        { models: { lonely: { fallback: ["big"] }, big: { targets: ["http://a/v1"] } } },
        /'lonely' has no targets and is not a --model/,
      ],
      [
        { models: { "bad name": { targets: ["http://a/v1"] } } },
        /models\.bad name: 'bad name' is not a usable model name/,
      ],
    ];
    for (const [document, message] of cases) {
      assert.throws(
        () => fromFile(document),
        (error: unknown) => {
          assert.ok(error instanceof RoutingConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });

  it("refuses targets for one name in both the file and the flags, and a fallback flag without a name", () => {
    assert.throws(
      () =>
        buildRoutingConfig({
          flags: { upstream: ["big=http://b/v1"] },
          file: { source: "r.yaml", document: { models: { big: { targets: ["http://a/v1"] } } } },
          embedded: [],
          env,
        }),
      /'big' already has targets in r\.yaml; give them in one place/,
    );
    assert.throws(
      () => buildRoutingConfig({ flags: { fallback: ["small"] }, embedded: [], env }),
      /--fallback small: expected NAME=FALLBACK/,
    );
    assert.throws(
      () => buildRoutingConfig({ flags: { upstream: ["a=http://h/v1", "a=http://h/v1/"] }, embedded: [], env }),
      /http:\/\/h\/v1 is given twice for 'a'/,
    );
  });

  it("parses durations with units only", () => {
    assert.equal(parseDurationMs("500ms", "x"), 500);
    assert.equal(parseDurationMs("1.5s", "x"), 1500);
    assert.equal(parseDurationMs("2m", "x"), 120_000);
    assert.throws(() => parseDurationMs("60", "--upstream-timeout"), /--upstream-timeout: '60' is not a duration/);
  });
});
