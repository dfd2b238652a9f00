/**
 * `GET /api/2.0/slipway/events` (and `/ajax-api/2.0/slipway/events`): the registry event stream, as
 * server-sent events. It first replays every stored event after `Last-Event-ID` (header) or `?after=` (query),
 * then sends new ones as they commit: it wakes on the service's commit signal, and also reads the table every
 * second so that events committed by another replica over a shared PostgreSQL arrive too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { invalidParameter } from "@slipway/protocol";
import { parseEventId, parseKinds, type EventFilter } from "./registry-events.js";
import type { RegistryService } from "./registry-service.js";

export const EVENTS_PATHS = ["/api/2.0/slipway/events", "/ajax-api/2.0/slipway/events"] as const;

export interface EventStreamOptions {
  /** How often the table is read for events committed elsewhere, in ms. */
  pollMs?: number;
  /** How often a `: keep-alive` comment is sent, in ms. */
  keepAliveMs?: number;
}

/** Events read per query; a replay of a longer backlog takes several. */
const BATCH = 500;

/** The open streams of each app (for its close hook, and for tests). */
const openStreams = new WeakMap<FastifyInstance, Set<() => void>>();

/** How many event streams `app` is serving. */
export function openEventStreams(app: FastifyInstance): number {
  return openStreams.get(app)?.size ?? 0;
}

function single(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  throw invalidParameter(`Parameter '${what}' must be given at most once.`);
}

interface StreamRequest {
  after: number;
  filter: EventFilter;
}

function parseRequest(request: FastifyRequest): StreamRequest {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const header = single(request.headers["last-event-id"], "Last-Event-ID");
  const afterParam = single(query.after, "after");
  // the header wins: it is what an EventSource sends on reconnect, with the URL it first opened
  let after = 0;
  if (header !== undefined) after = parseEventId(header, "header 'Last-Event-ID'");
  else if (afterParam !== undefined) after = parseEventId(afterParam, "parameter 'after'");
  const model = single(query.model, "model");
  const kinds = single(query.kinds, "kinds");
  if (model === "") throw invalidParameter("Parameter 'model' must not be empty.");
  return { after, filter: { model, kinds: kinds === undefined ? undefined : parseKinds(kinds) } };
}

export function registerRegistryEventRoutes(
  app: FastifyInstance,
  service: RegistryService,
  options: EventStreamOptions = {},
): void {
  const pollMs = options.pollMs ?? 1000;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const streams = new Set<() => void>();
  openStreams.set(app, streams);

  // `close()` waits for open connections; a stream never ends by itself, so end them all first.
  app.addHook("preClose", (done) => {
    for (const end of [...streams]) end();
    done();
  });

  const handler = (request: FastifyRequest, reply: FastifyReply): void => {
    // errors here are thrown before the stream starts, and answered as MLflow's JSON errors
    const { after, filter } = parseRequest(request);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": slipway registry events\n\n");

    let last = after;
    let closed = false;
    let running = false;
    let again = false;

    const end = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(end);
      if (!res.writableEnded) res.end();
    };

    const write = async (text: string): Promise<void> => {
      if (res.write(text) || closed) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    };

    /** Sends every event after `last`; a wake-up while it runs makes it read once more. */
    const pump = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          for (;;) {
            const events = await service.eventsAfter(last, BATCH, filter);
            if (closed) return;
            for (const event of events) {
              await write(`id: ${event.id}\nevent: ${event.kind}\ndata: ${JSON.stringify(event.data)}\n\n`);
              if (closed) return;
              last = event.id;
            }
            if (events.length < BATCH) break;
          }
        } while (again && !closed);
      } catch (error) {
        request.log.error({ err: error }, "registry event stream failed");
        end();
      } finally {
        running = false;
      }
    };

    const wake = (): void => void pump();
    const unsubscribe = service.events.subscribe(wake);
    const poll = setInterval(wake, pollMs);
    const keepAlive = setInterval(() => {
      if (!closed) res.write(": keep-alive\n\n");
    }, keepAliveMs);
    streams.add(end);
    res.on("close", end);
    wake();
  };

  for (const url of EVENTS_PATHS) app.get(url, handler);
}
