/**
 * Single sign-on settings (`--oidc-*` flags, then SLIPWAY_OIDC_* environment): parsed once at boot into
 * `OidcSettings`, so a typo fails the start with a message naming the flag instead of a login that breaks later.
 */

/** The path Slipway answers the provider's redirect on; registered at the provider as the redirect URI. */
export const OIDC_CALLBACK_PATH = "/api/2.0/slipway/auth/oidc/callback";

export interface OidcSettings {
  /** The provider's issuer URL, exactly as its discovery document and ID tokens state it. */
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE only, token endpoint auth "none"). */
  clientSecret?: string;
  /** Where the provider sends the browser back: `<public url>/api/2.0/slipway/auth/oidc/callback` by default. */
  redirectUrl: string;
  /** Scopes to ask for; undefined means "openid profile email", plus "groups" when the provider lists it. */
  scopes?: readonly string[];
  /** The ID token (or userinfo) claim holding the user's groups. */
  groupsClaim: string;
  /** Members of any of these groups are Slipway admins. */
  adminGroups: readonly string[];
  /** When set, only members of one of these groups (or of an admin group) may sign in. */
  allowedGroups?: readonly string[];
}

export interface OidcFlags {
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcClientSecret?: string;
  oidcRedirectUrl?: string;
  oidcScopes?: string;
  oidcGroupsClaim?: string;
  oidcAdminGroups?: string;
  oidcAllowedGroups?: string;
  /** The URL people reach the server at (`--public-url`), when it differs from the bind address. */
  publicUrl?: string;
}

/** Scopes are separated by spaces (or commas); group names may contain spaces, so groups only by commas. */
function list(text: string | undefined, separator: RegExp): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(separator)
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

/** True for the loopback names where plain http cannot be intercepted on the network. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Parses an http(s) URL, allowing plain http only on loopback (a test provider, a local Dex). */
function httpUrl(flag: string, text: string, fail: (message: string) => Error): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail(`${flag}: '${text}' is not a URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw fail(`${flag}: '${text}' must be an https URL (plain http is accepted only for localhost)`);
  }
  if (url.username !== "" || url.password !== "") throw fail(`${flag}: must not contain credentials`);
  return url;
}

/**
 * The OIDC settings, or undefined when no issuer is configured. `fail` builds the error to throw (the caller's
 * ConfigError), so this module does not depend on the platform's config module.
 */
export function parseOidcSettings(
  flags: OidcFlags,
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error,
): OidcSettings | undefined {
  const issuer = nonEmpty(flags.oidcIssuer ?? env.SLIPWAY_OIDC_ISSUER);
  const clientId = nonEmpty(flags.oidcClientId ?? env.SLIPWAY_OIDC_CLIENT_ID);
  if (issuer === undefined) {
    if (clientId !== undefined) throw fail("--oidc-client-id: given without --oidc-issuer");
    return undefined;
  }
  const issuerUrl = httpUrl("--oidc-issuer", issuer, fail);
  if (issuerUrl.search !== "" || issuerUrl.hash !== "") {
    throw fail(`--oidc-issuer: '${issuer}' must not have a query or fragment`);
  }
  if (clientId === undefined) throw fail("--oidc-issuer: also needs --oidc-client-id");

  const clientSecret = nonEmpty(flags.oidcClientSecret ?? env.SLIPWAY_OIDC_CLIENT_SECRET);

  let redirectUrl = nonEmpty(flags.oidcRedirectUrl ?? env.SLIPWAY_OIDC_REDIRECT_URL);
  if (redirectUrl === undefined) {
    const publicUrl = nonEmpty(flags.publicUrl ?? env.SLIPWAY_PUBLIC_URL);
    if (publicUrl === undefined) {
      throw fail(
        "--oidc-issuer: the provider must know where to send people back; give --public-url (e.g. https://slipway.example.com) or --oidc-redirect-url",
      );
    }
    const base = httpUrl("--public-url", publicUrl, fail);
    redirectUrl = `${base.origin}${base.pathname.replace(/\/+$/, "")}${OIDC_CALLBACK_PATH}`;
  }
  const redirect = httpUrl("--oidc-redirect-url", redirectUrl, fail);
  if (!redirect.pathname.endsWith(OIDC_CALLBACK_PATH)) {
    throw fail(`--oidc-redirect-url: '${redirectUrl}' must end with ${OIDC_CALLBACK_PATH}, where Slipway answers`);
  }
  if (redirect.search !== "" || redirect.hash !== "") {
    throw fail(`--oidc-redirect-url: '${redirectUrl}' must not have a query or fragment`);
  }

  const scopes = list(flags.oidcScopes ?? env.SLIPWAY_OIDC_SCOPES, /[\s,]+/);
  if (scopes !== undefined && !scopes.includes("openid")) {
    throw fail(`--oidc-scopes: '${scopes.join(" ")}' must include openid`);
  }

  const groupsClaim = nonEmpty(flags.oidcGroupsClaim ?? env.SLIPWAY_OIDC_GROUPS_CLAIM) ?? "groups";
  const adminGroups = list(flags.oidcAdminGroups ?? env.SLIPWAY_OIDC_ADMIN_GROUPS, /,/) ?? [];
  const allowedGroups = list(flags.oidcAllowedGroups ?? env.SLIPWAY_OIDC_ALLOWED_GROUPS, /,/);
  if (allowedGroups !== undefined && allowedGroups.length === 0) {
    throw fail("--oidc-allowed-groups: names no group; leave it out to let every provider user sign in");
  }

  return {
    issuer,
    clientId,
    ...(clientSecret === undefined ? {} : { clientSecret }),
    redirectUrl: redirect.href,
    ...(scopes === undefined ? {} : { scopes }),
    groupsClaim,
    adminGroups,
    ...(allowedGroups === undefined ? {} : { allowedGroups }),
  };
}
