/**
 * Delivers alert transitions to monitor webhooks from the `monitor_alert_events` outbox, with the registry
 * webhooks' signing and retry code (`postSignedWebhook`, `webhookRetryDelay`): `X-Slipway-Signature: sha256=…`,
 * the HMAC-SHA256 of `<X-Slipway-Timestamp>.<body>` with the monitor's secret; exponential backoff with jitter.
 *
 * Each monitor's events go out in order: the oldest undelivered one first, the next only after a 2xx. A replica
 * leases an event while posting it, so two replicas never post the same event at once. After `maxAttempts` failed
 * attempts an event is given up (`failed_at`), so one dead receiver does not hold back that monitor's later alerts
 * forever.
 */
import type { AlertWebhookPayload } from "@slipway/protocol";
import type { SqlDb } from "../../platform/db/sql-db.js";
import { postSignedWebhook, webhookRetryDelay } from "../registry/webhooks.js";
import { MonitorStore } from "./monitor-store.js";

export interface AlertDispatcherOptions {
  /** First retry delay, ms; doubles per failed attempt (default 1 000). */
  retryBaseMs?: number;
  /** Longest retry delay, ms (default 300 000). */
  retryMaxMs?: number;
  /** How long a receiver has to answer, ms (default 5 000). */
  timeoutMs?: number;
  /** How often the outbox is read without a wake-up, ms (default 2 000). */
  pollMs?: number;
  /** Attempts before an event is given up (default 12). */
  maxAttempts?: number;
}

export interface AlertDispatcherDeps extends AlertDispatcherOptions {
  db: SqlDb;
}

export class AlertDispatcher {
  private readonly store: MonitorStore;
  private readonly options: Required<AlertDispatcherOptions>;
  private readonly stopping = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private poll: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(deps: AlertDispatcherDeps) {
    this.store = new MonitorStore(deps.db);
    this.options = {
      retryBaseMs: deps.retryBaseMs ?? 1000,
      retryMaxMs: deps.retryMaxMs ?? 300_000,
      timeoutMs: deps.timeoutMs ?? 5000,
      pollMs: deps.pollMs ?? 2000,
      maxAttempts: deps.maxAttempts ?? 12,
    };
  }

  start(): void {
    if (this.poll !== undefined || this.stopped) return;
    this.poll = setInterval(() => this.wake(), this.options.pollMs);
    this.poll.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll !== undefined) clearInterval(this.poll);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.stopping.abort();
    await this.running;
  }

  /** Delivers what is due now (called after an evaluation queued events, and by the poll timer). */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.deliverDue()
      .catch(() => {
        // the database was busy or gone: the next wake-up tries again
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async deliverDue(): Promise<void> {
    const monitors = await this.store.pendingMonitors();
    await Promise.all(monitors.map((id) => this.deliverMonitor(id)));
  }

  /** Posts a monitor's due events in order until one fails or none is left. */
  private async deliverMonitor(monitorId: string): Promise<void> {
    while (!this.stopped) {
      const event = await this.store.headEvent(monitorId);
      if (event === undefined) return;
      const now = Date.now();
      if (event.next_attempt_at > now) {
        this.later(event.next_attempt_at - now);
        return;
      }
      if (!(await this.store.leaseEvent(event.event_id, now, now + this.options.timeoutMs * 2 + 1000))) return;
      const monitor = await this.store.byId(monitorId);
      const webhook = monitor?.def.webhook;
      if (webhook === undefined) {
        await this.store.eventAttempted(event.event_id, {
          now,
          status: null,
          error: "the monitor or its webhook was removed",
          delivered: false,
          failed: true,
          nextAttemptAt: now,
        });
        continue;
      }
      const payload = JSON.parse(event.payload) as Omit<AlertWebhookPayload, "event_id" | "delivered_at">;
      const result = await postSignedWebhook({
        url: webhook.url,
        secret: webhook.secret ?? null,
        event: event.kind,
        timeoutMs: this.options.timeoutMs,
        signal: this.stopping.signal,
        body: (at) => JSON.stringify({ event_id: String(event.event_id), ...payload, delivered_at: at }),
      });
      if (result.aborted === true && this.stopped) return;
      const done = Date.now();
      const delivered = result.status !== undefined && result.status >= 200 && result.status < 300;
      const attempts = event.attempts + 1;
      const failed = !delivered && attempts >= this.options.maxAttempts;
      const delay = webhookRetryDelay(attempts, this.options.retryBaseMs, this.options.retryMaxMs);
      await this.store.eventAttempted(event.event_id, {
        now: done,
        status: result.status ?? null,
        error: result.error ?? null,
        delivered,
        failed,
        nextAttemptAt: done + delay,
      });
      if (!delivered && !failed) {
        this.later(delay);
        return;
      }
    }
  }

  private later(delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.wake();
    }, delayMs);
    this.timers.add(timer);
  }
}
