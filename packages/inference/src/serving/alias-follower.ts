/**
 * Hot swap: a model served from `models:/NAME@ALIAS` follows its alias. The follower subscribes to the
 * registry's event stream (`subscribeRegistryEvents`, which reconnects and resumes by itself); when an
 * alias event names a followed (model, alias), it asks the registry where the alias points now — the event
 * is only a wake-up, so replayed or reordered events can never move the server backwards — and when that
 * version differs from the one served, loads it beside the old one, warms it, and swaps it in with
 * `ModelSet.replace` (one map update; requests already holding the old version finish on it while it
 * drains). A version that fails to download, load or warm is never swapped in: the old one keeps serving,
 * the failure is reported (`onReport`, the `slipway_inference_model_swaps_total{result="failed"}`
 * counter), and the same version is not retried until the alias moves again.
 *
 * Swaps of one model never overlap: an event during a swap marks the model to be checked again when the
 * swap ends, so a burst of moves ends on the last one.
 */
import { parseModelUri, subscribeRegistryEvents, type RegistryEvent, type TrackingClient } from "@slipway/sdk";
import type { InferenceMetrics } from "./metrics.js";
import type { ModelSet } from "./model-set.js";
import type { ServedModel } from "./served-model.js";

export interface AliasFollowerOptions {
  client: TrackingClient;
  /** The tracking server's URL (where the event stream is). */
  trackingUri: string;
  models: ModelSet;
  /** Loads and warms `uri` to be served as `name`, recording `source` as where it came from. */
  load: (model: { uri: string; name: string; source: string }) => Promise<ServedModel>;
  metrics?: InferenceMetrics;
  /** One line per swap, failure, or lost connection. */
  onReport?: (line: string) => void;
  /** Event-stream reconnect delays (tests shorten them). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

interface Followed {
  /** The served name. */
  name: string;
  registered: string;
  alias: string;
  /** A swap is running. */
  busy: boolean;
  /** An event came during the swap: check again after it. */
  again: boolean;
  /** The last version that failed to load: not retried until the alias points elsewhere. */
  failedVersion?: string;
}

export class AliasFollower {
  private readonly followed: Followed[] = [];
  private readonly controller = new AbortController();
  private subscription: Promise<void> | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: AliasFollowerOptions) {
    for (const model of options.models.list()) {
      if (model.source === undefined) continue;
      const parsed = parseModelUri(model.source);
      if (parsed.form !== "alias") continue;
      this.followed.push({ name: model.name, registered: parsed.name, alias: parsed.alias, busy: false, again: false });
    }
  }

  /** The served models that follow an alias, as `name ← models:/NAME@ALIAS`. */
  describe(): string[] {
    return this.followed.map((f) => `${f.name} ← models:/${f.registered}@${f.alias}`);
  }

  /** Starts following (no-op when no model was loaded by alias). */
  start(): void {
    if (this.followed.length === 0 || this.subscription) return;
    const models = new Set(this.followed.map((f) => f.registered));
    this.subscription = subscribeRegistryEvents(this.options.trackingUri, {
      // one model: the server filters; several: filter here
      ...(models.size === 1 ? { model: [...models][0]! } : {}),
      kinds: ["alias.set", "alias.deleted"],
      signal: this.controller.signal,
      ...(this.options.minDelayMs === undefined ? {} : { minDelayMs: this.options.minDelayMs }),
      ...(this.options.maxDelayMs === undefined ? {} : { maxDelayMs: this.options.maxDelayMs }),
      onEvent: (event) => this.onEvent(event),
      onError: (error) =>
        this.report(`registry event stream: ${error instanceof Error ? error.message : String(error)}; reconnecting`),
    }).catch((error: unknown) => {
      if (!this.controller.signal.aborted) {
        this.report(`stopped following aliases: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    // the alias may have moved between loading and subscribing: check once now
    for (const f of this.followed) this.check(f);
  }

  /** Stops following and waits for a running swap to end. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.subscription;
    await Promise.allSettled([...this.running]);
  }

  private onEvent(event: RegistryEvent): void {
    for (const f of this.followed) {
      if (f.registered === event.name && f.alias === event.alias) this.check(f);
    }
  }

  private check(f: Followed): void {
    if (f.busy) {
      f.again = true;
      return;
    }
    f.busy = true;
    const task = this.sync(f).finally(() => {
      this.running.delete(task);
      f.busy = false;
      if (f.again && !this.controller.signal.aborted) {
        f.again = false;
        this.check(f);
      }
    });
    this.running.add(task);
  }

  /** Brings the served version of `f` to where its alias points now. Never throws. */
  private async sync(f: Followed): Promise<void> {
    const current = this.options.models.get(f.name);
    let target: string;
    try {
      const { model_version } = await this.options.client.getModelVersionByAlias({
        name: f.registered,
        alias: f.alias,
      });
      target = model_version.version;
    } catch (error) {
      this.report(
        `'${f.name}': cannot resolve models:/${f.registered}@${f.alias} (${error instanceof Error ? error.message : String(error)}); still serving version ${current?.version ?? "?"}`,
      );
      return;
    }
    if (current?.version === target || f.failedVersion === target || this.controller.signal.aborted) return;
    const uri = `models:/${f.registered}/${target}`;
    this.report(`'${f.name}': alias ${f.alias} moved to version ${target}; loading ${uri}`);
    let next: ServedModel;
    try {
      next = await this.options.load({ uri, name: f.name, source: `models:/${f.registered}@${f.alias}` });
    } catch (error) {
      f.failedVersion = target;
      this.options.metrics?.recordSwap(f.name, "failed");
      this.report(
        `'${f.name}': version ${target} failed to load, still serving version ${current?.version ?? "?"}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    if (this.controller.signal.aborted) {
      await next.close();
      return;
    }
    f.failedVersion = undefined;
    await this.options.models.replace(next);
    this.options.metrics?.recordSwap(f.name, "swapped");
    this.report(`'${f.name}': now serving version ${target} (was ${current?.version ?? "?"}); the old one drained`);
  }

  private report(line: string): void {
    this.options.onReport?.(line);
  }
}
