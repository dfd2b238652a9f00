/**
 * Starting and stopping a model server: build the app, listen, and on `close()` shut down gracefully —
 * stop accepting connections (new requests on kept-alive ones get 503), let in-flight requests finish,
 * then drain every model's queue and release the predictors.
 */
import type { FastifyInstance } from "fastify";
import { buildModelServerApp, type ModelServerAppOptions } from "./app.js";

export interface ModelServerOptions extends ModelServerAppOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface RunningModelServer {
  /** `http://host:port`. */
  url: string;
  app: FastifyInstance;
  /** Graceful shutdown; resolves when every request is answered and every model released. */
  close(): Promise<void>;
}

export async function startModelServer(options: ModelServerOptions): Promise<RunningModelServer> {
  const app = await buildModelServerApp(options);
  options.metrics.watchQueues(options.models);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    app,
    close() {
      closing ??= (async () => {
        await app.close();
        await options.models.close();
      })();
      return closing;
    },
  };
}
