/**
 * Registry webhooks: `WebhookService` stores them (the `webhooks` table) and `WebhookDispatcher` delivers the
 * `registry_events` rows to them, using the event table as an outbox.
 *
 * Each webhook has a `cursor`, the last event id its receiver acknowledged with a 2xx. The dispatcher POSTs the
 * first matching event after the cursor; a 2xx moves the cursor past it, anything else (another status, a
 * timeout, a refused connection) retries the same event later with exponential backoff. So each webhook gets its
 * events in order, at least once, and a failing receiver holds up only its own webhook.
 */
import { createHmac, randomUUID } from "node:crypto";
import { invalidParameter, notFound } from "@slipway/protocol";
import type { SqlDb, SqlExecutor } from "../../platform/db/sql-db.js";
import {
  REGISTRY_EVENT_KINDS,
  eventsAfter,
  type RegistryEventKind,
  type RegistryEvents,
  type StoredRegistryEvent,
} from "./registry-events.js";

export const WEBHOOK_STATUSES = ["ACTIVE", "DISABLED"] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** A webhook as the API returns it: never with its secret. */
export interface Webhook {
  webhook_id: string;
  name: string;
  description: string;
  url: string;
  events: RegistryEventKind[];
  status: WebhookStatus;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export interface WebhookInput {
  name?: unknown;
  description?: unknown;
  url?: unknown;
  events?: unknown;
  secret?: unknown;
  status?: unknown;
}

export interface WebhookDelivery {
  delivery_id: string;
  webhook_id: string;
  event_id: number;
  attempt: number;
  status_code: number | null;
  error: string | null;
  delivered_at: number;
}

interface WebhookRow {
  webhook_id: string;
  name: string;
  description: string;
  url: string;
  events: string;
  secret: string | null;
  status: WebhookStatus;
  creation_timestamp: number | string;
  last_updated_timestamp: number | string;
  cursor: number | string;
}

interface DeliveryRow {
  delivery_id: string;
  webhook_id: string;
  event_id: number | string;
  attempt: number | string;
  status_code: number | string | null;
  error: string | null;
  delivered_at: number | string;
}

/** A stored webhook with what delivery needs. */
interface StoredWebhook extends Webhook {
  secret: string | null;
  cursor: number;
}

const COLUMNS =
  "webhook_id, name, description, url, events, secret, status, creation_timestamp, last_updated_timestamp, cursor";

function toStored(row: WebhookRow): StoredWebhook {
  let events: RegistryEventKind[] = [];
  try {
    const parsed: unknown = JSON.parse(row.events);
    if (Array.isArray(parsed)) {
      events = parsed.filter((k): k is RegistryEventKind => (REGISTRY_EVENT_KINDS as readonly unknown[]).includes(k));
    }
  } catch {
    // a corrupt events column matches nothing
  }
  return {
    webhook_id: row.webhook_id,
    name: row.name,
    description: row.description,
    url: row.url,
    events,
    status: row.status,
    creation_timestamp: Number(row.creation_timestamp),
    last_updated_timestamp: Number(row.last_updated_timestamp),
    secret: row.secret,
    cursor: Number(row.cursor),
  };
}

function toPublic(webhook: StoredWebhook): Webhook {
  return {
    webhook_id: webhook.webhook_id,
    name: webhook.name,
    description: webhook.description,
    url: webhook.url,
    events: webhook.events,
    status: webhook.status,
    creation_timestamp: webhook.creation_timestamp,
    last_updated_timestamp: webhook.last_updated_timestamp,
  };
}

// ---------------------------------------------------------------- validation

function parseName(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw invalidParameter("Missing value for required parameter 'name'.");
  }
  return value;
}

function parseDescription(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw invalidParameter("Parameter 'description' must be a string.");
  return value;
}

function parseUrl(value: unknown): string {
  if (typeof value !== "string" || value === "") throw invalidParameter("Missing value for required parameter 'url'.");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidParameter(`Invalid value '${value}' for parameter 'url': not a URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalidParameter(`Invalid value '${value}' for parameter 'url': only http and https URLs are supported.`);
  }
  return value;
}

function parseEvents(value: unknown): RegistryEventKind[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidParameter(
      `Missing value for required parameter 'events': expected a non-empty list of ${REGISTRY_EVENT_KINDS.join(", ")}.`,
    );
  }
  const kinds: RegistryEventKind[] = [];
  for (const kind of value as unknown[]) {
    if (typeof kind !== "string" || !(REGISTRY_EVENT_KINDS as readonly string[]).includes(kind)) {
      throw invalidParameter(
        `Invalid value '${String(kind)}' for parameter 'events': expected one of ${REGISTRY_EVENT_KINDS.join(", ")}.`,
      );
    }
    if (!kinds.includes(kind as RegistryEventKind)) kinds.push(kind as RegistryEventKind);
  }
  return kinds;
}

function parseSecret(value: unknown): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw invalidParameter("Parameter 'secret' must be a string.");
  return value;
}

function parseStatus(value: unknown): WebhookStatus {
  if (value === undefined || value === null) return "ACTIVE";
  if (typeof value !== "string" || !(WEBHOOK_STATUSES as readonly string[]).includes(value)) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(value)} for parameter 'status': expected ACTIVE or DISABLED.`,
    );
  }
  return value as WebhookStatus;
}

// ---------------------------------------------------------------- service

async function maxEventId(db: SqlExecutor): Promise<number> {
  const row = await db.get<{ max_id: number | string | null }>("SELECT MAX(event_id) AS max_id FROM registry_events");
  return Number(row?.max_id ?? 0);
}

export class WebhookService {
  constructor(private readonly db: SqlDb) {}

  async create(input: WebhookInput): Promise<Webhook> {
    const name = parseName(input.name);
    const description = parseDescription(input.description);
    const url = parseUrl(input.url);
    const events = parseEvents(input.events);
    const secret = parseSecret(input.secret);
    const status = parseStatus(input.status);
    const id = randomUUID();
    const now = Date.now();
    await this.db.transaction(async (tx) => {
      // a new webhook starts after the newest event: it gets only what happens from now on
      const cursor = await maxEventId(tx);
      await tx.run(`INSERT INTO webhooks (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        id,
        name,
        description,
        url,
        JSON.stringify(events),
        secret,
        status,
        now,
        now,
        cursor,
      ]);
    });
    return this.get(id);
  }

  async list(): Promise<Webhook[]> {
    const rows = await this.db.all<WebhookRow>(
      `SELECT ${COLUMNS} FROM webhooks ORDER BY creation_timestamp, webhook_id`,
    );
    return rows.map((row) => toPublic(toStored(row)));
  }

  async get(id: string): Promise<Webhook> {
    return toPublic(await this.stored(id));
  }

  async update(id: string, input: WebhookInput): Promise<Webhook> {
    const sets: string[] = [];
    const params: (string | number | null)[] = [];
    if (input.name !== undefined) {
      sets.push("name = ?");
      params.push(parseName(input.name));
    }
    if (input.description !== undefined) {
      sets.push("description = ?");
      params.push(parseDescription(input.description));
    }
    if (input.url !== undefined) {
      sets.push("url = ?");
      params.push(parseUrl(input.url));
    }
    if (input.events !== undefined) {
      sets.push("events = ?");
      params.push(JSON.stringify(parseEvents(input.events)));
    }
    if (input.secret !== undefined) {
      sets.push("secret = ?");
      params.push(parseSecret(input.secret));
    }
    const status = input.status === undefined ? undefined : parseStatus(input.status);
    await this.db.transaction(async (tx) => {
      const row = await tx.get<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks WHERE webhook_id = ?`, [id]);
      if (row === undefined) throw notFound(`Webhook with id '${id}' not found.`);
      if (status !== undefined) {
        sets.push("status = ?");
        params.push(status);
        // a webhook that is enabled again starts from now: it was switched off on purpose
        if (status === "ACTIVE" && row.status === "DISABLED") {
          sets.push("cursor = ?");
          params.push(await maxEventId(tx));
        }
      }
      sets.push("last_updated_timestamp = ?");
      params.push(Math.max(Date.now(), Number(row.last_updated_timestamp)));
      await tx.run(`UPDATE webhooks SET ${sets.join(", ")} WHERE webhook_id = ?`, [...params, id]);
    });
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const { changes } = await this.db.run("DELETE FROM webhooks WHERE webhook_id = ?", [id]);
    if (changes === 0) throw notFound(`Webhook with id '${id}' not found.`);
    await this.db.run("DELETE FROM webhook_deliveries WHERE webhook_id = ?", [id]);
  }

  /** The recorded delivery attempts of a webhook, oldest first. */
  async deliveries(id: string): Promise<WebhookDelivery[]> {
    // a webhook's events are delivered in order, so (event, attempt) order is time order
    const rows = await this.db.all<DeliveryRow>(
      `SELECT delivery_id, webhook_id, event_id, attempt, status_code, error, delivered_at
         FROM webhook_deliveries WHERE webhook_id = ? ORDER BY event_id, attempt`,
      [id],
    );
    return rows.map((row) => ({
      delivery_id: row.delivery_id,
      webhook_id: row.webhook_id,
      event_id: Number(row.event_id),
      attempt: Number(row.attempt),
      status_code: row.status_code === null ? null : Number(row.status_code),
      error: row.error,
      delivered_at: Number(row.delivered_at),
    }));
  }

  private async stored(id: string): Promise<StoredWebhook> {
    const row = await this.db.get<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks WHERE webhook_id = ?`, [id]);
    if (row === undefined) throw notFound(`Webhook with id '${id}' not found.`);
    return toStored(row);
  }
}

// ---------------------------------------------------------------- delivery

/** `sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export interface WebhookDispatcherOptions {
  /** The first retry delay, in ms; it doubles with each failed attempt (default 500). */
  retryBaseMs?: number;
  /** The longest retry delay, in ms (default 60 000). */
  retryMaxMs?: number;
  /** How long a receiver has to answer, in ms (default 5 000). */
  timeoutMs?: number;
  /** How often the tables are read without a commit signal, in ms (default 1 000). */
  pollMs?: number;
}

export interface WebhookDispatcherDeps extends WebhookDispatcherOptions {
  db: SqlDb;
  events: RegistryEvents;
}

/** Per-webhook retry state (in memory: after a restart a failing event is simply tried again at once). */
interface RetryState {
  attempt: number;
  eventId: number;
  notBefore: number;
}

const MAX_ERROR_LENGTH = 500;

export class WebhookDispatcher {
  private readonly db: SqlDb;
  private readonly events: RegistryEvents;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly retries = new Map<string, RetryState>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stopping = new AbortController();
  private unsubscribe: (() => void) | undefined;
  private poll: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private stopped = false;

  constructor(deps: WebhookDispatcherDeps) {
    this.db = deps.db;
    this.events = deps.events;
    this.retryBaseMs = deps.retryBaseMs ?? 500;
    this.retryMaxMs = deps.retryMaxMs ?? 60_000;
    this.timeoutMs = deps.timeoutMs ?? 5_000;
    this.pollMs = deps.pollMs ?? 1_000;
  }

  start(): void {
    if (this.unsubscribe !== undefined || this.stopped) return;
    this.unsubscribe = this.events.subscribe(() => this.wake());
    this.poll = setInterval(() => this.wake(), this.pollMs);
    this.wake();
  }

  /** Stops delivering: aborts requests in flight and waits for the delivery loops to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.poll !== undefined) clearInterval(this.poll);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.stopping.abort();
    await this.scanning;
    await Promise.allSettled([...this.running.values()]);
  }

  /** Starts a delivery loop for every active webhook that has none and is not waiting to retry. */
  wake(): void {
    if (this.stopped) return;
    if (this.scanning !== undefined) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scan()
      .catch(() => {
        // the next wake-up tries again (e.g. the database was busy)
      })
      .finally(() => {
        this.scanning = undefined;
        if (this.rescan) {
          this.rescan = false;
          this.wake();
        }
      });
  }

  private async scan(): Promise<void> {
    const rows = await this.db.all<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks WHERE status = 'ACTIVE'`);
    const now = Date.now();
    for (const row of rows) {
      if (this.stopped) return;
      const id = row.webhook_id;
      if (this.running.has(id)) continue;
      const retry = this.retries.get(id);
      if (retry !== undefined && retry.notBefore > now) continue;
      const loop = this.deliverAll(id)
        .catch(() => {
          // a database error ends this loop; the next wake-up starts another
        })
        .finally(() => this.running.delete(id));
      this.running.set(id, loop);
    }
  }

  /** Delivers a webhook's pending events in order, until none is left or one fails. */
  private async deliverAll(id: string): Promise<void> {
    while (!this.stopped) {
      const row = await this.db.get<WebhookRow>(`SELECT ${COLUMNS} FROM webhooks WHERE webhook_id = ?`, [id]);
      if (row === undefined || row.status !== "ACTIVE") {
        this.retries.delete(id);
        return;
      }
      const webhook = toStored(row);
      if (webhook.events.length === 0) return;
      const [event] = await eventsAfter(this.db, webhook.cursor, 1, { kinds: webhook.events });
      if (event === undefined) {
        this.retries.delete(id);
        return;
      }
      const previous = this.retries.get(id);
      const attempt = previous !== undefined && previous.eventId === event.id ? previous.attempt + 1 : 1;
      const result = await this.post(webhook, event);
      if (this.stopped && result.aborted) return;
      await this.db.run(
        `INSERT INTO webhook_deliveries (delivery_id, webhook_id, event_id, attempt, status_code, error, delivered_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [result.deliveryId, id, event.id, attempt, result.status ?? null, result.error ?? null, Date.now()],
      );
      if (result.status !== undefined && result.status >= 200 && result.status < 300) {
        this.retries.delete(id);
        // only forward: an older loop never moves the cursor back
        await this.db.run("UPDATE webhooks SET cursor = ? WHERE webhook_id = ? AND cursor < ?", [
          event.id,
          id,
          event.id,
        ]);
        continue;
      }
      const delay = this.backoff(attempt);
      this.retries.set(id, { attempt, eventId: event.id, notBefore: Date.now() + delay });
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.wake();
      }, delay);
      this.timers.add(timer);
      return;
    }
  }

  /** The delay before attempt `attempt + 1`. */
  private backoff(attempt: number): number {
    return webhookRetryDelay(attempt, this.retryBaseMs, this.retryMaxMs);
  }

  private async post(webhook: StoredWebhook, event: StoredRegistryEvent): Promise<SignedPostResult> {
    return postSignedWebhook({
      url: webhook.url,
      secret: webhook.secret,
      event: event.kind,
      timeoutMs: this.timeoutMs,
      signal: this.stopping.signal,
      body: (now) =>
        JSON.stringify({ event_id: event.data.event_id, kind: event.kind, data: event.data, delivered_at: now }),
    });
  }
}

/** The delay before attempt `attempt + 1`: base·2^(attempt−1), capped at `maxMs`, with ±20% jitter. */
export function webhookRetryDelay(attempt: number, baseMs: number, maxMs: number): number {
  const exact = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.max(1, Math.round(exact * (0.8 + Math.random() * 0.4)));
}

export interface SignedPost {
  url: string;
  /** Signs the delivery (`X-Slipway-Signature`) when not null. */
  secret: string | null;
  /** `X-Slipway-Event`. */
  event: string;
  /** The JSON body, given the delivery time (epoch ms). */
  body: (now: number) => string;
  timeoutMs: number;
  /** Aborts the request (the dispatcher is stopping). */
  signal?: AbortSignal;
}

export interface SignedPostResult {
  deliveryId: string;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  error?: string;
  /** The request was cut short by `signal`. */
  aborted?: boolean;
}

/**
 * One delivery attempt: POSTs the body with Slipway's webhook headers (`X-Slipway-Event`, `-Delivery`,
 * `-Timestamp`, and `-Signature` when there is a secret). Never throws: a failure is in `error`.
 */
export async function postSignedWebhook(request: SignedPost): Promise<SignedPostResult> {
  const deliveryId = randomUUID();
  const now = Date.now();
  const timestamp = String(Math.floor(now / 1000));
  const body = request.body(now);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "slipway-webhooks",
    "x-slipway-event": request.event,
    "x-slipway-delivery": deliveryId,
    "x-slipway-timestamp": timestamp,
  };
  if (request.secret !== null) headers["x-slipway-signature"] = signWebhook(request.secret, timestamp, body);
  const timeout = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]),
    });
    await response.body?.cancel().catch(() => undefined);
    return { deliveryId, status: response.status, error: response.ok ? undefined : `HTTP ${response.status}` };
  } catch (error) {
    const aborted = request.signal?.aborted === true;
    return { deliveryId, error: describe(error, request.timeoutMs).slice(0, MAX_ERROR_LENGTH), aborted };
  }
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return `timed out after ${timeoutMs} ms`;
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
