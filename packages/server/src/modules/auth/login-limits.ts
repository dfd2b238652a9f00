/**
 * In-memory limits on failed logins per client address (a fixed window per address), so one machine cannot try
 * passwords for many users quickly. Per-user lockout lives in the database (it must hold across replicas); this
 * one is per process, which is enough to slow a guesser down and costs nothing on the success path.
 */
import { MlflowError } from "@slipway/protocol";

/** REQUEST_LIMIT_EXCEEDED (429) carrying how long to wait, for the `Retry-After` header. */
export class RateLimitedError extends MlflowError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      "REQUEST_LIMIT_EXCEEDED",
      `Too many failed sign-in attempts from this address; retry in ${retryAfterSeconds} s.`,
      {
        status: 429,
      },
    );
  }
}

export interface IpLimitOptions {
  /** Failed attempts allowed per address per window (default 20). */
  maxFailures: number;
  /** Window length in milliseconds (default 60 000). */
  windowMs: number;
}

const MAX_TRACKED = 100_000;

export class FailedLoginLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly options: IpLimitOptions,
    private readonly now: () => number,
  ) {}

  /** Throws RateLimitedError when the address used up its failures for the current window. */
  check(ip: string): void {
    const entry = this.current(ip);
    if (entry && entry.count >= this.options.maxFailures) {
      const waitMs = entry.start + this.options.windowMs - this.now();
      throw new RateLimitedError(Math.max(1, Math.ceil(waitMs / 1000)));
    }
  }

  fail(ip: string): void {
    const entry = this.current(ip);
    if (entry) entry.count += 1;
    else {
      if (this.windows.size >= MAX_TRACKED) this.prune();
      this.windows.set(ip, { start: this.now(), count: 1 });
    }
  }

  private current(ip: string): { start: number; count: number } | undefined {
    const entry = this.windows.get(ip);
    if (entry && this.now() - entry.start >= this.options.windowMs) {
      this.windows.delete(ip);
      return undefined;
    }
    return entry;
  }

  private prune(): void {
    const now = this.now();
    for (const [ip, entry] of this.windows) if (now - entry.start >= this.options.windowMs) this.windows.delete(ip);
    // still full (a flood from many addresses): forget the oldest half rather than grow without bound
    if (this.windows.size >= MAX_TRACKED) {
      let drop = this.windows.size / 2;
      for (const ip of this.windows.keys()) {
        if (drop-- <= 0) break;
        this.windows.delete(ip);
      }
    }
  }
}
