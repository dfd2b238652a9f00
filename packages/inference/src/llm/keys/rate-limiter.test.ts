/** The sliding-window limits on a fake clock: admission, refusal with a wait, recovery, headers. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatResetDuration, RateLimiter } from "./rate-limiter.js";

describe("RateLimiter", () => {
  it("admits rpm requests per window, then refuses until the oldest leaves it", () => {
    let now = 1_000;
    const limiter = new RateLimiter({ windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      const d = limiter.admit("k", { rpm: 3 });
      assert.ok(d.allowed);
      assert.equal(d.headers["x-ratelimit-remaining-requests"], String(2 - i));
      now += 10_000;
    }
    const refused = limiter.admit("k", { rpm: 3 });
    assert.equal(refused.allowed, false);
    assert.equal(refused.kind, "requests");
    assert.equal(refused.retryAfterMs, 30_000, "the first request leaves the window 60 s after it came");
    assert.equal(refused.headers["x-ratelimit-limit-requests"], "3");
    assert.equal(refused.headers["x-ratelimit-remaining-requests"], "0");
    now += 30_000;
    assert.ok(limiter.admit("k", { rpm: 3 }).allowed);
    assert.equal(limiter.admit("k", { rpm: 3 }).allowed, false);
    assert.ok(limiter.admit("other", { rpm: 3 }).allowed, "keys are limited separately");
  });

  it("refuses once the tokens used reach tpm, and forgets them as they leave the window", () => {
    let now = 0;
    const limiter = new RateLimiter({ windowMs: 1_000, now: () => now });
    assert.ok(limiter.admit("k", { tpm: 100 }).allowed);
    limiter.addTokens("k", 60);
    now = 400;
    assert.ok(limiter.admit("k", { tpm: 100 }).allowed);
    limiter.addTokens("k", 50);
    const refused = limiter.admit("k", { tpm: 100 });
    assert.equal(refused.allowed, false);
    assert.equal(refused.kind, "tokens");
    assert.equal(refused.used, 110);
    assert.equal(refused.retryAfterMs, 600, "below 100 once the first 60 leave");
    assert.equal(refused.headers["x-ratelimit-remaining-tokens"], "0");
    limiter.addTokens("k", -20);
    assert.equal(limiter.tokensUsed("k"), 90, "a correction comes off the newest entry");
    assert.ok(limiter.admit("k", { tpm: 100 }).allowed);
    now = 1_400;
    assert.equal(limiter.tokensUsed("k"), 0);
  });

  it("writes reset durations as OpenAI does", () => {
    assert.equal(formatResetDuration(12), "12ms");
    assert.equal(formatResetDuration(1500), "1.5s");
    assert.equal(formatResetDuration(60_000), "1m0s");
    assert.equal(formatResetDuration(-5), "0ms");
  });

  it("adds no headers and no state for a key without limits", () => {
    const limiter = new RateLimiter();
    assert.deepEqual(limiter.admit("k", {}), { allowed: true, retryAfterMs: 0, headers: {} });
  });
});
