/**
 * The deployments API (`/api/2.0/slipway/deployments`) for a `TrackingClient`: what model servers following a
 * deployment and the CLI call. Error answers arrive as `MlflowError`s with the server's code and message.
 */
import {
  parseJson,
  type Deployment,
  type DeploymentEvent,
  type DeploymentInput,
  type DeploymentStatsReport,
  type DeploymentUpdate,
} from "@slipway/protocol";
import type { TrackingClient } from "@slipway/sdk";

const BASE = "/api/2.0/slipway/deployments";

export class DeploymentsClient {
  constructor(
    private readonly client: TrackingClient,
    private readonly options: { timeoutMs?: number } = {},
  ) {}

  private async call<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
    const json = body === undefined ? undefined : JSON.stringify(body);
    return this.client.transport.request({
      method,
      path: `${BASE}${path}`,
      headers: { accept: "application/json", ...(json === undefined ? {} : { "content-type": "application/json" }) },
      ...(json === undefined ? {} : { body: () => json }),
      ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
      read: async (response) => {
        const text = await response.text();
        return (text.trim() === "" ? {} : parseJson(text)) as T;
      },
    });
  }

  async create(input: DeploymentInput): Promise<Deployment> {
    return (await this.call<{ deployment: Deployment }>("POST", "", input)).deployment;
  }

  async get(name: string): Promise<Deployment> {
    return (await this.call<{ deployment: Deployment }>("GET", `/${encodeURIComponent(name)}`)).deployment;
  }

  async list(query: { model_name?: string; max_results?: number; page_token?: string } = {}): Promise<{
    deployments: Deployment[];
    next_page_token?: string;
  }> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.size > 0 ? `?${params.toString()}` : "";
    const answer = await this.call<{ deployments?: Deployment[]; next_page_token?: string }>("GET", qs);
    return {
      deployments: answer.deployments ?? [],
      ...(answer.next_page_token ? { next_page_token: answer.next_page_token } : {}),
    };
  }

  async update(name: string, update: DeploymentUpdate): Promise<Deployment> {
    return (await this.call<{ deployment: Deployment }>("PATCH", `/${encodeURIComponent(name)}`, update)).deployment;
  }

  async delete(name: string): Promise<void> {
    await this.call("DELETE", `/${encodeURIComponent(name)}`, {});
  }

  async promote(name: string, reason?: string): Promise<Deployment> {
    const body = reason === undefined ? {} : { reason };
    return (await this.call<{ deployment: Deployment }>("POST", `/${encodeURIComponent(name)}/promote`, body))
      .deployment;
  }

  async rollback(name: string, reason?: string): Promise<Deployment> {
    const body = reason === undefined ? {} : { reason };
    return (await this.call<{ deployment: Deployment }>("POST", `/${encodeURIComponent(name)}/rollback`, body))
      .deployment;
  }

  /** Sends a model server's statistics; answers the deployment as it is now. */
  async report(name: string, report: DeploymentStatsReport): Promise<Deployment> {
    return (await this.call<{ deployment: Deployment }>("POST", `/${encodeURIComponent(name)}/stats`, report))
      .deployment;
  }

  async events(
    name: string,
    query: { max_results?: number; page_token?: string } = {},
  ): Promise<{ events: DeploymentEvent[]; next_page_token?: string }> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.size > 0 ? `?${params.toString()}` : "";
    const answer = await this.call<{ events?: DeploymentEvent[]; next_page_token?: string }>(
      "GET",
      `/${encodeURIComponent(name)}/events${qs}`,
    );
    return {
      events: answer.events ?? [],
      ...(answer.next_page_token ? { next_page_token: answer.next_page_token } : {}),
    };
  }
}
