/**
 * Authentication on the control plane's HTTP app: an onRequest hook that reads the caller's credentials (HTTP basic,
 * a bearer API token, or the UI's session cookie), sets `request.principal`, refuses anonymous requests outside the
 * public paths, and checks the CSRF token of cookie-authenticated writes. What a principal may do is decided later
 * (the authorization policy's own preHandler hook); this only establishes who is calling.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AUTH_SESSION_PATHS, CSRF_HEADER, MlflowError, SESSION_COOKIE } from "@slipway/protocol";
import { API_PREFIXES } from "../../platform/http/route-table.js";
import type { AuthApi, Principal } from "./auth-api.js";
import { RateLimitedError } from "./login-limits.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Who is calling: null for anonymous requests (only ever on public paths when auth is on). */
    principal: Principal | null;
  }
}

/** Longest Authorization header read (a bearer token is ~50 bytes; basic auth of long passwords a few hundred). */
export const MAX_AUTHORIZATION_BYTES = 8 * 1024;

export interface AuthenticationOptions {
  /** Extra public routes (route patterns, exact or prefixes ending in `/`), besides the built-in ones. */
  publicPaths?: readonly string[];
}

/** Paths that answer without credentials: probes, Prometheus' scrape, and the ways to sign in. */
const PUBLIC_EXACT = new Set(["/health", "/version", "/metrics"]);
// login and logout, and the API's own description (no data in it)
const PUBLIC_API: readonly string[] = [AUTH_SESSION_PATHS.login, AUTH_SESSION_PATHS.logout, "/slipway/openapi.json"];
const PUBLIC_API_PREFIXES = ["/slipway/auth/oidc/"];
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The value of one cookie in a Cookie header (first occurrence), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/** The part of an API route after `/api/2.0` or `/ajax-api/2.0`, or undefined for other routes. */
function apiSubpath(path: string): string | undefined {
  for (const prefix of API_PREFIXES) if (path.startsWith(`${prefix}/`)) return path.slice(prefix.length);
  return undefined;
}

/** The web UI's catch-all route (ui-static.ts): it only ever answers the bundle's files, or the app's 404. */
const UI_ROUTE = "/*";

/**
 * Whether a request that matched the route `routeUrl` (Fastify's route pattern, not the raw URL) needs no
 * credentials. Deciding by the matched route rather than by the request's text means no spelling of a path
 * (percent-encoding, doubled slashes, case) can reach a protected handler as if it were a public one. A request
 * no route matched (undefined) is not public: it gets 401 rather than 404, revealing nothing.
 */
export function isPublicRoute(routeUrl: string | undefined, extra: readonly string[] = []): boolean {
  if (routeUrl === undefined) return false;
  if (routeUrl === UI_ROUTE || PUBLIC_EXACT.has(routeUrl)) return true;
  const sub = apiSubpath(routeUrl);
  if (sub !== undefined) {
    if (PUBLIC_API.includes(sub)) return true;
    if (PUBLIC_API_PREFIXES.some((prefix) => sub.startsWith(prefix))) return true;
  }
  return extra.some((p) => (p.endsWith("/") ? routeUrl.startsWith(p) : routeUrl === p));
}

/** Browsers show a password dialog for a Basic challenge, so the UI's namespace (/ajax-api) gets none. */
function challenge(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.url.startsWith("/ajax-api/")) reply.header("www-authenticate", 'Basic realm="slipway"');
}

export function registerAuthentication(app: FastifyInstance, auth: AuthApi, options: AuthenticationOptions = {}): void {
  app.decorateRequest("principal", null);
  const extra = options.publicPaths ?? [];

  app.addHook("onRequest", async (request, reply) => {
    request.principal = null;
    const authorization = request.headers.authorization;
    if (authorization !== undefined && Buffer.byteLength(authorization) > MAX_AUTHORIZATION_BYTES) {
      throw new MlflowError(
        "BAD_REQUEST",
        `The Authorization header is longer than ${MAX_AUTHORIZATION_BYTES} bytes; send a token (Bearer) or a shorter password.`,
      );
    }
    if (isPublicRoute(request.routeOptions.url, extra)) return;
    let principal: Principal | null;
    try {
      principal = await auth.authenticate({
        ...(authorization === undefined ? {} : { authorization }),
        ...sessionCookieOf(request),
        ip: request.ip,
      });
    } catch (error) {
      if (error instanceof RateLimitedError) reply.header("retry-after", String(error.retryAfterSeconds));
      else if (error instanceof MlflowError && error.status === 401) challenge(request, reply);
      throw error;
    }
    if (principal === null) {
      challenge(request, reply);
      throw new MlflowError(
        "UNAUTHENTICATED",
        "Authentication required: send HTTP basic credentials (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD), " +
          "a bearer token (MLFLOW_TRACKING_TOKEN), or sign in (`slipway login`).",
      );
    }
    if (principal.via === "session" && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      const token = typeof sent === "string" ? sent : undefined;
      if (token === undefined || !(await auth.verifyCsrf(principal.sessionId ?? "", token))) {
        throw new MlflowError("PERMISSION_DENIED", "missing or invalid CSRF token");
      }
    }
    request.principal = principal;
  });
}

/** `{ sessionCookie }` when the request carries the session cookie. */
export function sessionCookieOf(request: FastifyRequest): { sessionCookie?: string } {
  const value = readCookie(request.headers.cookie, SESSION_COOKIE);
  return value === undefined || value === "" ? {} : { sessionCookie: value };
}

/** Throws UNAUTHENTICATED unless the request has a principal (for routes reachable without one). */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new MlflowError("UNAUTHENTICATED", "Authentication required.");
  return request.principal;
}

/** Throws PERMISSION_DENIED unless the caller is an admin. */
export function requireAdmin(request: FastifyRequest): Principal {
  const principal = requirePrincipal(request);
  if (!principal.isAdmin) {
    throw new MlflowError("PERMISSION_DENIED", `Permission denied: '${principal.username}' is not an admin.`);
  }
  return principal;
}
