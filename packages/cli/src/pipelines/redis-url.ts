/**
 * The Redis of pipeline queues and trigger claims, from `--redis URL`: a bad URL is a usage error, and
 * reaching Redis at all is checked with a deadline, so a wrong address is an error that names it instead of
 * a silent wait.
 */
import { BatchError, readyWithin, redisSettings } from "@slipway/inference";
import { UsageError } from "../errors.js";

export { showRedisUrl } from "@slipway/inference";

/** `url` when it is a redis:// or rediss:// URL; else a usage error naming `flag`. */
export function checkRedisUrl(url: string, flag = "--redis"): string {
  try {
    return redisSettings(url).url;
  } catch (error) {
    if (error instanceof BatchError) throw new UsageError(error.message.replace(/^--redis:/, `${flag}:`));
    throw error;
  }
}

interface ErrorSource {
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
}

/** Resolves when `ready` does; fails naming Redis at the first error of `source`, or after `ms`. */
export function redisReady(ready: Promise<unknown>, url: string, source?: ErrorSource, ms = 10_000): Promise<void> {
  return readyWithin(ready, ms, url, source);
}
