/**
 * Claims on trigger firings: before a scheduler starts a run for `(pipeline, trigger, time)` (or alert id, or
 * event id), it claims that key; only the one whose claim succeeds starts the run. With `--redis`, claims are
 * Redis keys set with `SET key owner NX PX ttl`, atomic across any number of schedulers; without, they live
 * in this process (one scheduler).
 */
import { hostname } from "node:os";
import { Redis } from "ioredis";
import { redisReady } from "./redis-url.js";

export interface TriggerClaims {
  /** True for the first caller only (within `ttlMs`). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export class MemoryClaims implements TriggerClaims {
  private readonly claims = new Map<string, number>();

  claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    for (const [k, until] of this.claims) if (until <= now) this.claims.delete(k);
    if (this.claims.has(key)) return Promise.resolve(false);
    this.claims.set(key, now + ttlMs);
    return Promise.resolve(true);
  }

  async close(): Promise<void> {}
}

const PREFIX = "slipway:pipeline-trigger:";

export class RedisClaims implements TriggerClaims {
  private readonly owner = `${hostname()}:${process.pid}`;

  private constructor(private readonly redis: Redis) {}

  static async open(url: string): Promise<RedisClaims> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    redis.on("error", () => undefined);
    try {
      await redisReady(redis.connect(), url, redis);
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    return new RedisClaims(redis);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const answer = await this.redis.set(`${PREFIX}${key}`, this.owner, "PX", Math.max(1, Math.round(ttlMs)), "NX");
    return answer === "OK";
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
