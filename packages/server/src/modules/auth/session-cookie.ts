/**
 * The UI session's cookie, as the password login (auth-routes.ts) and the SSO login (oidc-routes.ts) both set it:
 * one definition, so the hook that reads it authenticates both.
 */
import type { FastifyRequest } from "fastify";
import { SESSION_COOKIE } from "@slipway/protocol";

/** Whether the browser reached us over https, directly or through a proxy that says so. */
export function isHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers["x-forwarded-proto"];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim().toLowerCase();
  return request.protocol === "https" || proto === "https";
}

/**
 * The Set-Cookie value for the session cookie: `value` "" with `maxAgeSeconds` 0 clears it. `secure` forces the
 * Secure attribute (an SSO redirect URL on https means the browser is on https even when a proxy does not say so).
 */
export function sessionCookieHeader(
  request: FastifyRequest,
  value: string,
  maxAgeSeconds: number,
  options: { secure?: boolean } = {},
): string {
  const parts = [
    `${SESSION_COOKIE}=${value}`,
    "HttpOnly",
    "SameSite=Lax",
    "Path=/",
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    ...(options.secure === true || isHttps(request) ? ["Secure"] : []),
  ];
  return parts.join("; ");
}
