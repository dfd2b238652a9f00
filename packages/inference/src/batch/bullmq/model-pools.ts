/**
 * A worker's loaded models: one pool of prediction threads per model URI, loaded on the first chunk that
 * needs it (downloaded into the model cache, then loaded once per thread) and shared by the chunks of
 * that model running at once. A pool nobody uses is closed when another model is asked for, so a worker
 * serving job after job keeps one model in memory, not all of them.
 */
import { TrackingClient, loadModelPackage } from "@slipway/sdk";
import { builtinPredictors } from "../../predictors/builtin.js";
import { PredictionThreads } from "../prediction-threads.js";

export interface ModelPoolsOptions {
  /** Prediction threads per model. */
  readonly threads: number;
  /** Resolve models with this tracking server instead of the one each job names. */
  readonly trackingUri?: string;
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

interface Entry {
  readonly threads: Promise<PredictionThreads>;
  users: number;
}

export interface ModelLease {
  readonly threads: PredictionThreads;
  release(): void;
}

export class ModelPools {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: ModelPoolsOptions) {}

  async acquire(uri: string, jobTrackingUri: string): Promise<ModelLease> {
    const trackingUri = this.options.trackingUri ?? jobTrackingUri;
    const key = `${trackingUri} ${uri}`;
    let entry = this.entries.get(key);
    if (!entry) {
      await this.closeIdle();
      entry = { threads: this.load(uri, trackingUri), users: 0 };
      this.entries.set(key, entry);
      // a model that failed to load is tried again by the next chunk
      entry.threads.catch(() => this.entries.delete(key));
    }
    entry.users++;
    const held = entry;
    let threads: PredictionThreads;
    try {
      threads = await held.threads;
    } catch (error) {
      held.users--;
      throw error;
    }
    let released = false;
    return {
      threads,
      release: () => {
        if (!released) held.users--;
        released = true;
      },
    };
  }

  private async load(uri: string, trackingUri: string): Promise<PredictionThreads> {
    this.options.log?.(`loading ${uri}`);
    const client = new TrackingClient({ trackingUri, maxRetries: 2 });
    const pkg = await loadModelPackage(client, uri, {
      supportedFlavors: builtinPredictors().supportedFlavors(),
      ...(this.options.cacheDir === undefined ? {} : { cacheDir: this.options.cacheDir }),
    });
    const threads = await PredictionThreads.start({
      dir: pkg.dir,
      mlmodel: pkg.mlmodel,
      threads: this.options.threads,
      ...(this.options.threads > 1 ? { onnxThreads: 1 } : {}),
    });
    this.options.log?.(`loaded ${uri} on ${threads.size} thread${threads.size === 1 ? "" : "s"}`);
    return threads;
  }

  private async closeIdle(): Promise<void> {
    for (const [key, entry] of this.entries) {
      if (entry.users > 0) continue;
      this.entries.delete(key);
      await entry.threads.then((t) => t.close()).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(entries.map((e) => e.threads.then((t) => t.close())));
  }
}
