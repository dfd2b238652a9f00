/**
 * Reading the control plane's firing alerts (`GET /api/2.0/slipway/alerts?state=firing`, every page) for
 * alert triggers. Only the fields a trigger needs are read, and checked: an answer of another shape is an
 * error naming the field, not a silent "no alerts".
 */
import type { TriggerAlert } from "@slipway/sdk";

export interface FetchAlertsOptions {
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
  readonly headers?: Record<string, string>;
}

function bad(where: string): Error {
  return new Error(`the alerts API answered with an unexpected shape: ${where}`);
}

function parseAlert(value: unknown, i: number): TriggerAlert & { state: string } {
  if (typeof value !== "object" || value === null) throw bad(`alerts[${i}] is not an object`);
  const a = value as Record<string, unknown>;
  if (typeof a.alert_id !== "number") throw bad(`alerts[${i}].alert_id is not a number`);
  if (typeof a.monitor !== "string") throw bad(`alerts[${i}].monitor is not a string`);
  if (typeof a.rule !== "string") throw bad(`alerts[${i}].rule is not a string`);
  if (typeof a.state !== "string") throw bad(`alerts[${i}].state is not a string`);
  return {
    id: a.alert_id,
    monitor: a.monitor,
    rule: a.rule,
    state: a.state,
    message: typeof a.message === "string" ? a.message : "",
    startedAt: typeof a.started_at === "number" ? a.started_at : 0,
  };
}

/** Every firing alert. */
export async function fetchFiringAlerts(
  trackingUri: string,
  options: FetchAlertsOptions = {},
): Promise<TriggerAlert[]> {
  const doFetch = options.fetch ?? fetch;
  const base = `${trackingUri.replace(/\/+$/, "")}/api/2.0/slipway/alerts`;
  const alerts: TriggerAlert[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ state: "firing", max_results: "1000" });
    if (token !== undefined) query.set("page_token", token);
    const response = await doFetch(`${base}?${query.toString()}`, {
      headers: { accept: "application/json", ...options.headers },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${base} answered ${response.status}: ${text.slice(0, 200)}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw bad("the body is not JSON");
    }
    const list = (body as { alerts?: unknown }).alerts ?? [];
    if (!Array.isArray(list)) throw bad("'alerts' is not a list");
    list.forEach((value, i) => {
      const alert = parseAlert(value, i);
      if (alert.state !== "firing") return;
      const { state: _state, ...rest } = alert;
      alerts.push(rest);
    });
    const next = (body as { next_page_token?: unknown }).next_page_token;
    if (typeof next !== "string" || next === "" || next === token) break;
    token = next;
  }
  return alerts;
}
