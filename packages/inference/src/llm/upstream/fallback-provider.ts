/**
 * A model name with fallbacks: its own provider first (upstream targets or the embedded engine), then
 * each fallback model's provider in order, when the failure is one of `fallbackOn` (by default every
 * failure that is not the client's: unreachable, timeout, 429, 5xx, unreadable answer, every target
 * down, an embedded engine at capacity). Fallbacks are not chained: a fallback's own fallbacks are not
 * tried. Since providers commit before their first event, a fallback never follows streamed tokens.
 */
import { LlmError } from "../errors.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResult,
  GenerationStream,
  JsonObject,
  LlmModelCard,
  LlmProvider,
  ProviderLoad,
} from "../engine/llm-provider.js";
import type { UpstreamFailureKind } from "./routing-config.js";
import { UpstreamRouteError, failureKindOf } from "./upstream-errors.js";
import type { UpstreamMetrics } from "./upstream-metrics.js";
import type { RouteLog } from "./upstream-provider.js";

export interface FallbackStep {
  readonly name: string;
  readonly provider: LlmProvider;
}

export interface FallbackProviderOptions {
  name: string;
  primary: LlmProvider;
  fallbacks: readonly FallbackStep[];
  on: readonly UpstreamFailureKind[];
  metrics: UpstreamMetrics;
  log?: RouteLog;
}

export class FallbackProvider implements LlmProvider {
  readonly kind: string;

  constructor(private readonly options: FallbackProviderOptions) {
    this.kind = options.primary.kind;
  }

  models(): readonly LlmModelCard[] {
    return this.options.primary.models().filter((card) => card.id === this.options.name);
  }

  load(): ProviderLoad {
    return this.options.primary.load();
  }

  chat(request: ChatRequest, signal: AbortSignal): Promise<GenerationStream> {
    return this.run(request, signal, (provider, r) => provider.chat(r, signal));
  }

  complete(request: CompletionRequest, signal: AbortSignal): Promise<GenerationStream> {
    return this.run(request, signal, (provider, r) => provider.complete(r, signal));
  }

  embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    return this.run(request, signal, (provider, r) => provider.embed(r, signal));
  }

  /** Closes its own provider; fallbacks belong to their own names. */
  close(): Promise<void> {
    return this.options.primary.close();
  }

  private async run<R extends { model: string; raw: JsonObject }, T>(
    request: R,
    signal: AbortSignal,
    call: (provider: LlmProvider, request: R) => Promise<T>,
  ): Promise<T> {
    const { name, primary, fallbacks, on, metrics, log } = this.options;
    const failed: { name: string; error: LlmError }[] = [];
    const steps: FallbackStep[] = [{ name, provider: primary }, ...fallbacks];
    for (const [i, step] of steps.entries()) {
      if (i > 0) {
        metrics.fallback(name, step.name);
        log?.("warn", `'${name}' falls back to '${step.name}'`, {
          model: name,
          fallback: step.name,
          after: failed.map((f) => ({ model: f.name, status: f.error.status, code: f.error.code })),
        });
      }
      const routed = i === 0 ? request : { ...request, model: step.name, raw: { ...request.raw, model: step.name } };
      try {
        return await call(step.provider, routed);
      } catch (error) {
        const kind = failureKindOf(error);
        if (signal.aborted || kind === undefined || !on.includes(kind) || !(error instanceof LlmError)) throw error;
        failed.push({ name: step.name, error });
      }
    }
    throw combined(name, failed);
  }
}

/** The last failure's status and code, with every step's message. */
function combined(name: string, failed: readonly { name: string; error: LlmError }[]): LlmError {
  const last = failed.at(-1)!.error;
  const message =
    `Model '${name}' and its fallback${failed.length > 2 ? "s" : ""} ${failed
      .slice(1)
      .map((f) => `'${f.name}'`)
      .join(", ")} all failed. ` +
    failed
      .map((f) => (f.error.message.startsWith("Model '") ? f.error.message : `Model '${f.name}': ${f.error.message}`))
      .join(" ");
  if (last instanceof UpstreamRouteError) {
    return new UpstreamRouteError(message, {
      model: name,
      kind: last.kind,
      status: last.status,
      code: last.code ?? "upstream_error",
      ...(last.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: last.retryAfterSeconds }),
    });
  }
  return new LlmError(message, {
    status: last.status,
    type: last.type,
    code: last.code,
    ...(last.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: last.retryAfterSeconds }),
  });
}
