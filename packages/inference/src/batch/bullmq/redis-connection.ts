/**
 * The Redis connection settings of the queue, its workers and its event listener, from a `redis://` or
 * `rediss://` URL (BullMQ hands them to ioredis). Workers need `maxRetriesPerRequest: null` so a blocking
 * read is never given up on; reaching Redis at all is checked with a deadline, so a wrong URL is an error
 * that names it instead of a silent wait.
 */
import { BatchError } from "../batch-error.js";

export interface RedisSettings {
  readonly url: string;
  readonly maxRetriesPerRequest: null;
}

export function redisSettings(url: string): RedisSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BatchError(`--redis: '${url}' is not a URL (e.g. redis://127.0.0.1:6379)`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new BatchError(`--redis: '${url}' is not a redis:// or rediss:// URL`);
  }
  return { url, maxRetriesPerRequest: null };
}

/** The URL without its password, for messages. */
export function showRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

interface ErrorSource {
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
}

/**
 * Resolves when `ready` does; fails with a message naming Redis at the first connection error of
 * `source` (a refused connection is not worth waiting on) or after `ms`.
 */
export async function readyWithin(
  ready: Promise<unknown>,
  ms: number,
  url: string,
  source?: ErrorSource,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onError: ((error: Error) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BatchError(`cannot reach Redis at ${showRedisUrl(url)} (no answer within ${ms / 1000} s)`)),
      ms,
    );
    onError = (error) => reject(new BatchError(`cannot reach Redis at ${showRedisUrl(url)}: ${error.message}`));
    source?.on("error", onError);
  });
  try {
    await Promise.race([ready, failed]);
  } finally {
    clearTimeout(timer);
    if (onError) source?.off("error", onError);
  }
}
