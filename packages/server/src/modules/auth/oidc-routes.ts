/**
 * The single sign-on routes, all public (the flow itself is the authentication):
 *   GET /api/2.0/slipway/auth/oidc/config    → {enabled, auth} — whether the UI shows "Sign in with SSO", and
 *                                               whether it needs a sign-in at all (also under /ajax-api/2.0)
 *   GET /api/2.0/slipway/auth/oidc/login     → 302 to the provider (sets the flow cookie)
 *   GET /api/2.0/slipway/auth/oidc/callback  → 302 to return_to with a session cookie, or an HTML error page
 * These are browser navigations, not API calls, so refusals are a page a person can read, not MLflow JSON.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuditEvent, AuthApi } from "./auth-api.js";
import { readCookie } from "./auth-hooks.js";
import { API_PREFIXES } from "../../platform/http/route-table.js";
import { FLOW_COOKIE, FLOW_COOKIE_PATH } from "./oidc-flow-cookie.js";
import { OidcLoginError, type OidcRelyingParty } from "./oidc-relying-party.js";
import { isHttps, sessionCookieHeader } from "./session-cookie.js";

export const OIDC_ROUTES = {
  /** Below each of API_PREFIXES. */
  config: "/slipway/auth/oidc/config",
  login: `${FLOW_COOKIE_PATH}/login`,
  callback: `${FLOW_COOKIE_PATH}/callback`,
} as const;

function flowCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  // SameSite=Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
  return `${FLOW_COOKIE}=${value}; Path=${FLOW_COOKIE_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small self-contained page (no scripts, strict CSP) saying what went wrong and how to try again. */
export function errorPage(status: number, message: string): string {
  const title = status === 403 ? "Sign-in not allowed" : "Sign-in failed";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Slipway</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}a{color:#2456c8}.box{border:1px solid #ddd;border-radius:8px;padding:1rem 1.25rem}</style>
</head><body><div class="box"><h1>${title}</h1><p>${escapeHtml(message)}</p>
<p><a href="${OIDC_ROUTES.login}?return_to=%2F">Sign in with SSO again</a> · <a href="/">Back to the login page</a></p>
</div></body></html>
`;
}

/** Records an audit event; a failing audit log is logged, and does not turn a login into a 500. */
async function audit(request: FastifyRequest, auth: AuthApi, event: AuditEvent): Promise<void> {
  try {
    await auth.audit(event);
  } catch (error) {
    request.log.error({ err: error, action: event.action }, "could not write the audit log");
  }
}

function clearFlowCookie(reply: FastifyReply, secure: boolean): void {
  reply.header("set-cookie", flowCookie("", 0, secure));
}

/**
 * Mounts the SSO routes. Without `oidc` only the config route is mounted and answers `{enabled: false}`, so the
 * UI can always ask (and learn from `auth` whether this server wants a sign-in before it shows anything).
 */
export function registerOidcRoutes(app: FastifyInstance, deps: { oidc?: OidcRelyingParty; auth?: AuthApi }): void {
  const { oidc, auth } = deps;
  const config = { enabled: oidc !== undefined && auth !== undefined, auth: auth !== undefined };
  for (const prefix of API_PREFIXES) app.get(`${prefix}${OIDC_ROUTES.config}`, () => config);
  if (oidc === undefined || auth === undefined) return;

  // no automatic HEAD routes: a prefetching HEAD must not start or, worse, consume a login
  app.get(OIDC_ROUTES.login, { exposeHeadRoute: false }, (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const started = oidc.begin(query.return_to);
    return reply
      .header(
        "set-cookie",
        flowCookie(started.flowCookie, started.maxAgeSeconds, oidc.secureCookies || isHttps(request)),
      )
      .header("cache-control", "no-store")
      .redirect(started.location, 302);
  });

  app.get(OIDC_ROUTES.callback, { exposeHeadRoute: false }, async (request, reply) => {
    const userAgent = request.headers["user-agent"];
    reply.header("cache-control", "no-store");
    clearFlowCookie(reply, oidc.secureCookies || isHttps(request));
    try {
      const result = await oidc.complete({
        query: (request.query ?? {}) as Record<string, unknown>,
        flowCookie: readCookie(request.headers.cookie, FLOW_COOKIE),
        ip: request.ip,
        ...(userAgent === undefined ? {} : { userAgent }),
      });
      await audit(request, auth, {
        principal: { ...result.principal, via: "session", sessionId: result.session.sessionId },
        action: "login.oidc",
        method: request.method,
        path: OIDC_ROUTES.callback,
        resourceType: "session",
        resourceId: result.session.sessionId,
        status: 302,
        ip: request.ip,
        ...(userAgent === undefined ? {} : { userAgent }),
        details: { issuer: result.identity.issuer, subject: result.identity.subject, isAdmin: result.identity.isAdmin },
      });
      return reply
        .header(
          "set-cookie",
          sessionCookieHeader(request, result.session.sessionCookie, (result.session.expiresAt - Date.now()) / 1000, {
            secure: oidc.secureCookies,
          }),
        )
        .redirect(result.returnTo, 302);
    } catch (error) {
      const failure =
        error instanceof OidcLoginError
          ? error
          : new OidcLoginError(
              500,
              "internal_error",
              "Slipway could not finish the sign-in; the server log has the details.",
            );
      if (!(error instanceof OidcLoginError)) request.log.error({ err: error }, "OIDC callback failed");
      await audit(request, auth, {
        principal: null,
        action: "login.oidc.failed",
        method: request.method,
        path: OIDC_ROUTES.callback,
        status: failure.status,
        ip: request.ip,
        ...(userAgent === undefined ? {} : { userAgent }),
        details: { reason: failure.reason, ...failure.details },
      });
      return reply
        .code(failure.status)
        .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
        .type("text/html; charset=utf-8")
        .send(errorPage(failure.status, failure.message));
    }
  });
}
