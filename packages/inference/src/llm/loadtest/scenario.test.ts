import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ScenarioError, parseScenario, pickTemplate, templateBody } from "./scenario.js";

const CHAT = {
  name: "chat",
  weight: 3,
  path: "/chat/completions",
  stream: true,
  body: { messages: [{ role: "user", content: "{{prompt}}" }], max_tokens: 8 },
};

describe("load-test scenario files", () => {
  it("reads templates with defaults: POST, weight 1, OpenAI paths read as completions", () => {
    const s = parseScenario(
      JSON.stringify({ requests: [CHAT, { path: "/models", method: "get", headers: { "x-team": "a" } }] }),
    );
    assert.equal(s.templates.length, 2);
    assert.deepEqual(
      s.templates.map((t) => [t.name, t.weight, t.method, t.kind, t.stream]),
      [
        ["chat", 3, "POST", "openai", true],
        ["request 2", 1, "GET", "plain", false],
      ],
    );
    assert.deepEqual(s.templates[1]!.headers, { "x-team": "a" });
  });

  it("fills the body: prompt, index, model and stream options unless given", () => {
    const [chat] = parseScenario(JSON.stringify({ requests: [CHAT] })).templates;
    const body = JSON.parse(templateBody(chat!, 7, { prompt: () => 'say "hi"\n', model: "tiny" })!) as Record<
      string,
      unknown
    >;
    assert.deepEqual(body, {
      model: "tiny",
      messages: [{ role: "user", content: 'say "hi"\n' }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    const [own] = parseScenario(
      JSON.stringify({
        requests: [{ path: "/completions", body: { model: "m", prompt: "n={{index}}", stream: false } }],
      }),
    ).templates;
    assert.equal(
      templateBody(own!, 12, { prompt: () => "x", model: "tiny" }),
      '{"model":"m","prompt":"n=12","stream":false}',
    );
    const [get] = parseScenario(JSON.stringify({ requests: [{ path: "/models", method: "GET" }] })).templates;
    assert.equal(templateBody(get!, 0, { prompt: () => "x" }), undefined);
  });

  it("picks by weight, the same template for the same request number", () => {
    const { templates } = parseScenario(
      JSON.stringify({ requests: [CHAT, { name: "rare", path: "/invocations", body: {} }] }),
    );
    const picks = Array.from({ length: 8000 }, (_, i) => pickTemplate(templates, i).name);
    const chat = picks.filter((n) => n === "chat").length;
    // weight 3 : 1 → 6000 expected; ±4σ of a binomial (σ ≈ 39)
    assert.ok(Math.abs(chat - 6000) < 160, String(chat));
    assert.deepEqual(
      Array.from({ length: 50 }, (_, i) => pickTemplate(templates, i).name),
      picks.slice(0, 50),
    );
  });

  it("names the field of every mistake", () => {
    const cases: [unknown, RegExp][] = [
      [[], /f\.json: must be a JSON object with a "requests" array/],
      [{ requests: [] }, /f\.json: requests: must be a non-empty array/],
      [{ requests: [CHAT], model: "x" }, /f\.json: unknown field 'model'/],
      [{ requests: [{ ...CHAT, weight: 0 }] }, /requests\[0\]\.weight: must be a number above 0, got 0/],
      [{ requests: [CHAT, { path: "v1/models" }] }, /requests\[1\]\.path: must be a string starting with '\/'/],
      [{ requests: [{ ...CHAT, method: "TRACE" }] }, /requests\[0\]\.method: "TRACE" is not one of GET, POST/],
      [{ requests: [{ ...CHAT, stream: "yes" }] }, /requests\[0\]\.stream: must be true or false/],
      [{ requests: [{ ...CHAT, headers: { a: 1 } }] }, /requests\[0\]\.headers\.a: must be a string/],
      [{ requests: [{ ...CHAT, headers: { "a b": "1" } }] }, /requests\[0\]\.headers: 'a b' is not a header name/],
      [
        { requests: [{ ...CHAT, body: "hi" }] },
        /requests\[0\]\.body: an OpenAI completion request needs a JSON object/,
      ],
      [{ requests: [{ path: "/models", method: "GET", body: {} }] }, /requests\[0\]\.body: a GET request has no body/],
      [{ requests: [{ path: "/invocations", stream: true }] }, /requests\[0\]\.stream: streaming is read for OpenAI/],
      [{ requests: [{ ...CHAT, prompt: "x" }] }, /requests\[0\]: unknown field 'prompt'/],
      [{ requests: [CHAT, CHAT] }, /requests\[1\]\.name: 'chat' is used twice/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseScenario(JSON.stringify(value), "f.json"), message, JSON.stringify(value));
    }
    assert.throws(
      () => parseScenario("{", "f.json"),
      (e: unknown) => e instanceof ScenarioError && /f\.json: not JSON/.test(e.message),
    );
  });
});
