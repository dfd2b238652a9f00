/**
 * Registry webhooks, a subset of MLflow 3's WebhookService: create, list, get, update and delete under
 * `/api/2.0/mlflow/webhooks` (and `/ajax-api/2.0/mlflow/webhooks`). Responses never carry the secret.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";

import type { WebhookInput, WebhookService } from "./webhooks.js";

export const WEBHOOKS_PREFIXES = ["/api/2.0/mlflow/webhooks", "/ajax-api/2.0/mlflow/webhooks"] as const;

function body(request: FastifyRequest): WebhookInput {
  const value: unknown = request.body;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  return value;
}

function webhookId(request: FastifyRequest): string {
  return (request.params as { webhook_id: string }).webhook_id;
}

/** Mounts the webhook routes when the server attached a webhook service to `registry` (see main-server.ts). */
export function registerWebhookRoutes(app: FastifyInstance, webhooks: WebhookService): void {
  for (const prefix of WEBHOOKS_PREFIXES) {
    app.post(prefix, async (request) => ({ webhook: await webhooks.create(body(request)) }));
    app.get(prefix, async () => ({ webhooks: await webhooks.list() }));
    app.get(`${prefix}/:webhook_id`, async (request) => ({ webhook: await webhooks.get(webhookId(request)) }));
    app.patch(`${prefix}/:webhook_id`, async (request) => ({
      webhook: await webhooks.update(webhookId(request), body(request)),
    }));
    app.delete(`${prefix}/:webhook_id`, async (request) => {
      await webhooks.delete(webhookId(request));
      return {};
    });
  }
}
