import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConsumedStates, FlowCookieCodec, safeReturnTo, type LoginFlow } from "./oidc-flow-cookie.js";

const flow: LoginFlow = { state: "st", verifier: "ver", nonce: "no", returnTo: "/runs/1", expiresAt: 2_000 };

describe("login flow cookie", () => {
  it("round-trips, and refuses edits, other keys and expired flows", () => {
    const codec = new FlowCookieCodec("secret");
    const value = codec.encode(flow);
    assert.deepEqual(codec.decode(value, 1_000), flow);
    assert.equal(codec.decode(value, 2_000), "flow_expired");
    assert.equal(codec.decode(undefined), "missing_flow");
    assert.equal(codec.decode(""), "missing_flow");
    assert.equal(codec.decode("no-dot"), "bad_flow_cookie");
    const [body = "", mac = ""] = value.split(".");
    const edited = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, "base64url").toString()), e: 9e15 }));
    assert.equal(codec.decode(`${edited.toString("base64url")}.${mac}`, 1_000), "bad_flow_cookie");
    assert.equal(new FlowCookieCodec("other secret").decode(value, 1_000), "bad_flow_cookie");
    assert.deepEqual(new FlowCookieCodec("secret").decode(value, 1_000), flow, "replicas sharing the secret agree");
    const random = new FlowCookieCodec(undefined);
    assert.equal(new FlowCookieCodec(undefined).decode(random.encode(flow), 1_000), "bad_flow_cookie");
  });

  it("remembers consumed states until they expire", () => {
    const consumed = new ConsumedStates(3);
    assert.equal(consumed.consume("a", 100, 0), true);
    assert.equal(consumed.consume("a", 100, 50), false);
    assert.equal(consumed.consume("b", 300, 150), true, "a has expired and is dropped");
    assert.equal(consumed.consume("a", 400, 160), true);
    for (const state of ["c", "d", "e"]) consumed.consume(state, 1_000, 200);
    assert.equal(consumed.consume("e", 1_000, 200), false);
  });
});

describe("safeReturnTo", () => {
  it("keeps same-origin paths and turns everything else into /", () => {
    assert.equal(safeReturnTo("/experiments/1?tab=runs#chart"), "/experiments/1?tab=runs#chart");
    assert.equal(safeReturnTo("/models/a%20b"), "/models/a%20b");
    for (const bad of [
      undefined,
      "",
      ["/a", "/b"],
      "https://evil.example/",
      "//evil.example",
      "/\\evil.example",
      "/%0d%0aSet-Cookie:x",
      "/a\r\nLocation: x",
      "javascript:alert(1)",
      "experiments",
      `/${"a".repeat(3000)}`,
    ]) {
      const result = safeReturnTo(bad);
      assert.ok(result === "/" || !/[\r\n]/.test(result), String(bad));
      if (bad !== "/%0d%0aSet-Cookie:x") assert.equal(result, "/", String(bad));
    }
  });
});
