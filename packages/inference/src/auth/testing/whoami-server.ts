/**
 * Test support: a CONTRACT DOUBLE of the control plane's whoami endpoint, over real HTTP. The control
 * plane's auth (packages/server, `GET /api/2.0/slipway/auth/whoami[?registered_model_name=NAME]`) is built
 * alongside this code; this server answers exactly that contract — 200 `{user, registered_model_permission}`
 * for a known `Authorization` header, 401 `UNAUTHENTICATED` otherwise — so the data planes can be tested
 * before it lands. It counts its calls, and can be stopped to play an unreachable control plane.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface WhoamiUserFixture {
  id: number;
  username: string;
  isAdmin?: boolean;
  /** Registered model name → permission; others get `defaultPermission`. */
  permissions?: Record<string, "READ" | "EDIT" | "MANAGE" | "NO_PERMISSIONS">;
}

export interface WhoamiDouble {
  url: string;
  /** Requests answered so far. */
  calls: number;
  /** The `registered_model_name` of each call, in order (undefined when absent). */
  asked: (string | undefined)[];
  close(): Promise<void>;
}

/** `credentials`: Authorization header value → the user it proves. */
export async function startWhoamiDouble(
  credentials: Record<string, WhoamiUserFixture>,
  options: { defaultPermission?: "READ" | "NO_PERMISSIONS" } = {},
): Promise<WhoamiDouble> {
  const double: WhoamiDouble = { url: "", calls: 0, asked: [], close: async () => {} };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (url.pathname !== "/api/2.0/slipway/auth/whoami" || request.method !== "GET") {
      send(404, { error_code: "ENDPOINT_NOT_FOUND", message: `No endpoint at ${request.method} ${url.pathname}` });
      return;
    }
    double.calls++;
    const model = url.searchParams.get("registered_model_name") ?? undefined;
    double.asked.push(model);
    const user = credentials[request.headers.authorization ?? ""];
    if (user === undefined) {
      send(401, { error_code: "UNAUTHENTICATED", message: "Invalid credentials" });
      return;
    }
    send(200, {
      user: { id: user.id, username: user.username, is_admin: user.isAdmin === true, kind: "user" },
      registered_model_permission:
        model === undefined
          ? (options.defaultPermission ?? "READ")
          : (user.permissions?.[model] ?? options.defaultPermission ?? "READ"),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  double.close = () =>
    (closed ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }));
  return double;
}

/** `Authorization: Basic …` for a username and password. */
export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
