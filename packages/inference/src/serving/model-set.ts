/**
 * The models a server serves, by name. Handlers look a model up on every request (never keep one), so
 * replacing a model (`replace`, the seam for hot swap on registry events) is one map update: requests
 * that already hold the old model finish on it while it drains, new ones get the new model.
 */
import { unknownModel } from "../errors.js";
import type { ServedModel } from "./served-model.js";

export class ModelSet {
  private readonly models = new Map<string, ServedModel>();
  private first: ServedModel | undefined;

  /** Adds a model; its name must be new. The first model added is the default one (`/invocations`). */
  add(model: ServedModel): void {
    if (this.models.has(model.name)) throw new Error(`a model named '${model.name}' is already served`);
    this.models.set(model.name, model);
    this.first ??= model;
  }

  get size(): number {
    return this.models.size;
  }

  list(): ServedModel[] {
    return [...this.models.values()];
  }

  get(name: string): ServedModel | undefined {
    return this.models.get(name);
  }

  /** The model of that name (and version, when given), or a 404 `InferenceError`. */
  require(name: string, version?: string): ServedModel {
    const model = this.models.get(name);
    if (!model) throw unknownModel(name);
    if (version !== undefined && model.version !== version) throw unknownModel(name, version);
    return model;
  }

  /** The model protocols without a model name use (MLflow, SageMaker, Vertex): the first one added. */
  default(): ServedModel {
    const model = this.first === undefined ? undefined : this.models.get(this.first.name);
    if (!model) throw new Error("no model is served");
    return model;
  }

  /** Every model is ready. */
  ready(): boolean {
    for (const m of this.models.values()) if (!m.ready) return false;
    return this.models.size > 0;
  }

  /**
   * Puts `next` in place of the model of the same name and closes the old one once its queued and
   * running requests are done. `next` should be started (warm) before.
   */
  async replace(next: ServedModel): Promise<void> {
    const old = this.models.get(next.name);
    this.models.set(next.name, next);
    if (this.first?.name === next.name) this.first = next;
    this.first ??= next;
    if (old && old !== next) await old.close();
  }

  /** Closes every model (draining first). */
  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((m) => m.close()));
  }
}
