/**
 * Model name → the provider that serves it. Today a flat table (each embedded model, each upstream
 * pool under its names); the routing tree of fallbacks and weighted upstreams plugs in here, behind the
 * same `resolve`.
 */
import { modelNotFound } from "../errors.js";
import type { LlmModelCard, LlmProvider } from "../engine/llm-provider.js";

export interface RoutedModel {
  readonly card: LlmModelCard;
  readonly provider: LlmProvider;
}

export class ModelRouter {
  private readonly routes = new Map<string, RoutedModel>();
  private readonly providers: LlmProvider[] = [];

  /** Adds every model the provider serves; a name served twice is a configuration error. */
  add(provider: LlmProvider): void {
    const cards = provider.models();
    for (const card of cards) {
      if (this.routes.has(card.id)) throw new Error(`model name '${card.id}' is served twice`);
    }
    for (const card of cards) this.routes.set(card.id, { card, provider });
    this.providers.push(provider);
  }

  /** The provider for `model`, or a 404 `model_not_found`. */
  resolve(model: string): RoutedModel {
    const route = this.routes.get(model);
    if (!route) throw modelNotFound(model);
    return route;
  }

  models(): RoutedModel[] {
    return [...this.routes.values()];
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.providers.map((p) => p.close()));
  }
}
