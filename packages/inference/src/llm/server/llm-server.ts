/**
 * A running LLM server: the app listening on a host and port, and a graceful `close`: stop accepting
 * (new requests get 503), let in-flight requests and streams finish for up to `graceMs`, then cancel
 * what still runs (streams end with an error event), and free the engines.
 */
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Registry } from "prom-client";
import { buildLlmApp } from "./llm-app.js";
import type { ModelRouter } from "./model-router.js";
import type { LlmAccess } from "./llm-access.js";

export interface StartLlmServerOptions {
  router: ModelRouter;
  host: string;
  /** 0 picks a free port. */
  port: number;
  bodyLimit?: number;
  logger?: FastifyServerOptions["logger"];
  /** Served at `/metrics` when given. */
  metrics?: Registry;
  /** Keys, rate limits, usage accounting and vLLM's metrics. */
  access?: LlmAccess;
}

export interface RunningLlmServer {
  readonly url: string;
  readonly app: FastifyInstance;
  /** Graceful shutdown; `graceMs` (default 30 s) bounds the wait for in-flight requests. */
  close(options?: { graceMs?: number }): Promise<void>;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
const SWEEP_MS = 25;

export async function startLlmServer(options: StartLlmServerOptions): Promise<RunningLlmServer> {
  const app = await buildLlmApp({
    router: options.router,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.access === undefined ? {} : { access: options.access }),
  });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    app,
    close({ graceMs = DEFAULT_SHUTDOWN_GRACE_MS } = {}) {
      closing ??= (async () => {
        const drained = app.close();
        // a keep-alive connection becomes idle when its last response ends; close it then, rather than
        // wait for the client's keep-alive timeout
        const sweeper = setInterval(() => app.server.closeIdleConnections(), SWEEP_MS);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        });
        try {
          const late = await Promise.race([drained.then(() => false), timedOut]);
          // past the grace period, cancelling the engines ends the remaining streams
          await options.router.close();
          if (late) {
            await new Promise((resolve) => setTimeout(resolve, SWEEP_MS));
            app.server.closeAllConnections();
            await drained;
          }
        } finally {
          clearTimeout(timer);
          clearInterval(sweeper);
        }
      })();
      return closing;
    },
  };
}
