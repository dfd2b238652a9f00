/**
 * Per-key rate limits of the LLM server: requests per minute (`rpm`) and tokens per minute (`tpm`,
 * prompt + completion), over a sliding window of one minute (shorter in tests).
 *
 * Each key keeps, per limit, a log of what it used, coalesced into slots of 1/60 of the window (so a
 * key's log never holds more than ~60 entries, and an entry may leave the window up to one slot early).
 * A request is admitted when the key's requests in the window are below `rpm` and its tokens in the window
 * are below `tpm`; a request's own tokens are not known in advance, so they are counted as they are
 * generated (each streamed piece of text as one token, corrected to the exact usage when the generation
 * ends), and a long generation can overshoot the limit by what it produces — the next request waits.
 *
 * A refused request gets `Retry-After` (whole seconds until enough of the window has passed) and OpenAI's
 * `x-ratelimit-*` headers; admitted ones get the headers too.
 */

export interface RateLimits {
  readonly rpm?: number | undefined;
  readonly tpm?: number | undefined;
}

export type LimitKind = "requests" | "tokens";

export interface RateDecision {
  readonly allowed: boolean;
  /** The limit that refused the request. */
  readonly kind?: LimitKind;
  /** What the refusing limit allows, and how much of it was used. */
  readonly limit?: number;
  readonly used?: number;
  /** Milliseconds until the request would be admitted (0 when allowed). */
  readonly retryAfterMs: number;
  /** OpenAI's `x-ratelimit-*` headers for the key's limits. */
  readonly headers: Record<string, string>;
}

export const DEFAULT_RATE_WINDOW_MS = 60_000;
const SLOTS_PER_WINDOW = 60;

/** What one limit used inside the window, oldest first. */
class SlidingWindow {
  private readonly times: number[] = [];
  private readonly amounts: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(
    private readonly windowMs: number,
    private readonly slotMs: number,
  ) {}

  used(now: number): number {
    this.expire(now);
    return this.sum;
  }

  /** Adds `amount` now (a negative one corrects an estimate: it comes off the newest entry, never below 0). */
  add(now: number, amount: number): void {
    this.expire(now);
    const last = this.times.length - 1;
    if (amount < 0) {
      if (last < this.head) return;
      const taken = Math.min(-amount, this.amounts[last]!);
      this.amounts[last]! -= taken;
      this.sum -= taken;
      return;
    }
    if (last >= this.head && now - this.times[last]! < this.slotMs) this.amounts[last]! += amount;
    else {
      this.times.push(now);
      this.amounts.push(amount);
    }
    this.sum += amount;
  }

  /** Milliseconds until what is used drops below `limit`. */
  waitBelow(now: number, limit: number): number {
    this.expire(now);
    let remaining = this.sum;
    for (let i = this.head; i < this.times.length; i++) {
      if (remaining < limit) return 0;
      remaining -= this.amounts[i]!;
      if (remaining < limit) return Math.max(0, this.times[i]! + this.windowMs - now);
    }
    return 0;
  }

  /** Milliseconds until everything used has left the window. */
  resetMs(now: number): number {
    this.expire(now);
    const last = this.times.length - 1;
    return last < this.head ? 0 : Math.max(0, this.times[last]! + this.windowMs - now);
  }

  private expire(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) {
      this.sum -= this.amounts[this.head]!;
      this.head++;
    }
    if (this.head > 32 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.amounts.splice(0, this.head);
      this.head = 0;
    }
    if (this.head === this.times.length) this.sum = 0;
  }
}

export interface RateLimiterOptions {
  /** The window the limits apply to (default one minute; tests shorten it). */
  windowMs?: number;
  now?: () => number;
}

/** Go-style durations, as OpenAI writes `x-ratelimit-reset-*`: `250ms`, `1.5s`, `1m0s`. */
export function formatResetDuration(ms: number): string {
  const rounded = Math.max(0, Math.ceil(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const seconds = rounded / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(3))}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Number((seconds - minutes * 60).toFixed(3))}s`;
}

export class RateLimiter {
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, { requests: SlidingWindow; tokens: SlidingWindow }>();

  constructor(options: RateLimiterOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_RATE_WINDOW_MS;
    if (!(this.windowMs > 0)) throw new RangeError("RateLimiter: windowMs must be positive");
    this.now = options.now ?? Date.now;
  }

  /** Admits one request of `key` (and counts it) or refuses it, with the headers either way. */
  admit(key: string, limits: RateLimits): RateDecision {
    if (limits.rpm === undefined && limits.tpm === undefined) return { allowed: true, retryAfterMs: 0, headers: {} };
    const now = this.now();
    const w = this.windowsOf(key);
    const requestsUsed = w.requests.used(now);
    const tokensUsed = w.tokens.used(now);
    let refusal: { kind: LimitKind; limit: number; used: number; wait: number } | undefined;
    if (limits.rpm !== undefined && requestsUsed >= limits.rpm) {
      refusal = {
        kind: "requests",
        limit: limits.rpm,
        used: requestsUsed,
        wait: w.requests.waitBelow(now, limits.rpm),
      };
    } else if (limits.tpm !== undefined && tokensUsed >= limits.tpm) {
      refusal = { kind: "tokens", limit: limits.tpm, used: tokensUsed, wait: w.tokens.waitBelow(now, limits.tpm) };
    }
    if (refusal === undefined) w.requests.add(now, 1);
    const headers = this.headers(now, w, limits);
    if (refusal === undefined) return { allowed: true, retryAfterMs: 0, headers };
    return {
      allowed: false,
      kind: refusal.kind,
      limit: refusal.limit,
      used: refusal.used,
      retryAfterMs: Math.max(1, refusal.wait),
      headers,
    };
  }

  /** Counts tokens against `key`'s tpm (negative: corrects an earlier estimate). */
  addTokens(key: string, tokens: number): void {
    if (tokens === 0) return;
    this.windowsOf(key).tokens.add(this.now(), tokens);
  }

  /** Tokens `key` used inside the window now. */
  tokensUsed(key: string): number {
    return this.windows.get(key)?.tokens.used(this.now()) ?? 0;
  }

  private windowsOf(key: string): { requests: SlidingWindow; tokens: SlidingWindow } {
    let w = this.windows.get(key);
    if (w === undefined) {
      const slot = this.windowMs / SLOTS_PER_WINDOW;
      w = { requests: new SlidingWindow(this.windowMs, slot), tokens: new SlidingWindow(this.windowMs, slot) };
      this.windows.set(key, w);
    }
    return w;
  }

  private headers(
    now: number,
    w: { requests: SlidingWindow; tokens: SlidingWindow },
    limits: RateLimits,
  ): Record<string, string> {
    const headers: Record<string, string> = {};
    if (limits.rpm !== undefined) {
      headers["x-ratelimit-limit-requests"] = String(limits.rpm);
      headers["x-ratelimit-remaining-requests"] = String(Math.max(0, limits.rpm - w.requests.used(now)));
      headers["x-ratelimit-reset-requests"] = formatResetDuration(w.requests.resetMs(now));
    }
    if (limits.tpm !== undefined) {
      headers["x-ratelimit-limit-tokens"] = String(limits.tpm);
      headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, limits.tpm - w.tokens.used(now)));
      headers["x-ratelimit-reset-tokens"] = formatResetDuration(w.tokens.resetMs(now));
    }
    return headers;
  }
}
