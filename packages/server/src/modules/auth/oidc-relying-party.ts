/**
 * Slipway as an OpenID Connect relying party: the authorization-code flow with PKCE (S256), state and nonce.
 * `begin` builds the redirect to the provider and the flow cookie; `complete` checks the callback against that
 * cookie, redeems the code, verifies the ID token and turns it into a Slipway user and session. Knows nothing of
 * HTTP frameworks (oidc-routes.ts does the requests and responses).
 */
import { createHash, randomBytes } from "node:crypto";
import { MlflowError } from "@slipway/protocol";
import type { AuthApi, IssuedSession, OidcIdentity, Principal } from "./auth-api.js";
import { USERNAME_PATTERN } from "./auth-service.js";
import type { OidcSettings } from "./oidc-config.js";
import {
  discoverProvider,
  PROVIDER_TIMEOUT_MS,
  RemoteJwks,
  type KeySource,
  type OidcProviderMetadata,
} from "./oidc-discovery.js";
import { ConsumedStates, FlowCookieCodec, safeReturnTo, sameString, type LoginFlow } from "./oidc-flow-cookie.js";
import { IdTokenError, SUPPORTED_ID_TOKEN_ALGS, verifyIdToken, type IdTokenClaims } from "./oidc-id-token.js";

/** How long a person has between leaving for the provider and coming back. */
export const FLOW_TTL_MS = 10 * 60 * 1000;

/** A refused login: `status` for the page, `reason` (one word) for the audit log, `message` for the person. */
export class OidcLoginError extends Error {
  override readonly name = "OidcLoginError";
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface OidcLoginResult {
  principal: Principal;
  session: IssuedSession;
  identity: OidcIdentity;
  returnTo: string;
}

export interface OidcCallbackInput {
  query: Record<string, unknown>;
  flowCookie: string | undefined;
  ip: string;
  userAgent?: string;
}

function random(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** application/x-www-form-urlencoded encoding of one value, as RFC 6749 §2.3.1 wants for HTTP basic. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

export class OidcRelyingParty {
  private readonly flows: FlowCookieCodec;
  private readonly consumed = new ConsumedStates();

  constructor(
    readonly settings: OidcSettings,
    readonly provider: OidcProviderMetadata,
    private readonly auth: AuthApi,
    private readonly keys: KeySource = new RemoteJwks(provider.jwksUri),
  ) {
    this.flows = new FlowCookieCodec(settings.clientSecret);
  }

  /**
   * Discovers the provider and fetches its signing keys, so that a wrong issuer or an unreachable key set stops
   * the start instead of the first login (throws `OidcDiscoveryError` with a readable message).
   */
  static async open(settings: OidcSettings, auth: AuthApi): Promise<OidcRelyingParty> {
    const provider = await discoverProvider(settings.issuer);
    const keys = new RemoteJwks(provider.jwksUri);
    await keys.keysFor(undefined);
    return new OidcRelyingParty(settings, provider, auth, keys);
  }

  /** The scopes requested: configured, else openid profile email (+ groups when the provider offers it). */
  get scopes(): readonly string[] {
    if (this.settings.scopes) return this.settings.scopes;
    const scopes = ["openid", "profile", "email"];
    if (this.provider.scopesSupported?.includes("groups")) scopes.push("groups");
    return scopes;
  }

  /** Whether the flow cookie needs `Secure` (the browser reaches us over https). */
  get secureCookies(): boolean {
    return this.settings.redirectUrl.startsWith("https:");
  }

  /** Starts a login: where to send the browser, and the flow cookie to set. */
  begin(returnTo: unknown, now = Date.now()): { location: string; flowCookie: string; maxAgeSeconds: number } {
    const flow: LoginFlow = {
      state: random(),
      verifier: random(48),
      nonce: random(),
      returnTo: safeReturnTo(returnTo),
      expiresAt: now + FLOW_TTL_MS,
    };
    const url = new URL(this.provider.authorizationEndpoint);
    const params: Record<string, string> = {
      response_type: "code",
      client_id: this.settings.clientId,
      redirect_uri: this.settings.redirectUrl,
      scope: this.scopes.join(" "),
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: createHash("sha256").update(flow.verifier).digest("base64url"),
      code_challenge_method: "S256",
    };
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return { location: url.href, flowCookie: this.flows.encode(flow), maxAgeSeconds: FLOW_TTL_MS / 1000 };
  }

  /** Finishes a login from the provider's redirect back; throws `OidcLoginError` for every refusal. */
  async complete(input: OidcCallbackInput): Promise<OidcLoginResult> {
    const { query } = input;
    if (query.error !== undefined) {
      const error = typeof query.error === "string" ? query.error : JSON.stringify(query.error);
      const description = typeof query.error_description === "string" ? `: ${query.error_description}` : "";
      throw new OidcLoginError(
        400,
        "provider_error",
        `The identity provider refused the login (${error}${description}).`,
        { error },
      );
    }
    const { code, state } = query;
    if (typeof code !== "string" || code === "" || typeof state !== "string" || state === "") {
      throw new OidcLoginError(
        400,
        "missing_parameters",
        "The provider's answer lacks the code or the state parameter.",
      );
    }
    const flow = this.flows.decode(input.flowCookie);
    if (typeof flow === "string") {
      const messages = {
        missing_flow:
          "This sign-in was not started in this browser, or it took too long. Start again from the login page.",
        bad_flow_cookie: "This sign-in's state cookie was altered. Start again from the login page.",
        flow_expired: "This sign-in took too long. Start again from the login page.",
      };
      throw new OidcLoginError(400, flow, messages[flow]);
    }
    if (!sameString(state, flow.state)) {
      throw new OidcLoginError(
        400,
        "state_mismatch",
        "The provider's answer does not belong to this sign-in (state mismatch).",
      );
    }
    if (!this.consumed.consume(flow.state, flow.expiresAt)) {
      throw new OidcLoginError(400, "state_replayed", "This sign-in was already completed; start a new one.");
    }

    const tokens = await this.redeem(code, flow.verifier);
    let claims: IdTokenClaims;
    try {
      claims = await verifyIdToken(tokens.idToken, {
        issuer: this.provider.issuer,
        clientId: this.settings.clientId,
        nonce: flow.nonce,
        keys: this.keys,
        allowedAlgs: this.provider.idTokenSigningAlgs.filter((alg) => SUPPORTED_ID_TOKEN_ALGS.includes(alg)),
      });
    } catch (error) {
      if (error instanceof IdTokenError) {
        throw new OidcLoginError(400, error.reason, `The provider's ID token was refused: ${error.message}.`);
      }
      throw new OidcLoginError(
        502,
        "provider_unreachable",
        `Could not fetch the provider's signing keys: ${String(error)}`,
      );
    }
    const merged = await this.withUserinfo(claims, tokens.accessToken);
    const identity = this.identityOf(merged);
    const allowed = this.settings.allowedGroups;
    if (allowed !== undefined && !identity.isAdmin && !identity.groups.some((group) => allowed.includes(group))) {
      throw new OidcLoginError(
        403,
        "group_not_allowed",
        `${identity.username} is not a member of a group allowed to use Slipway (${allowed.join(", ")}).`,
        { username: identity.username, groups: identity.groups },
      );
    }
    let principal: Principal;
    let session: IssuedSession;
    try {
      principal = await this.auth.upsertOidcUser(identity);
      session = await this.auth.createSession(principal.userId, {
        ip: input.ip,
        ...(input.userAgent === undefined ? {} : { userAgent: input.userAgent }),
      });
    } catch (error) {
      // the account service's refusals (a name taken by a local account, an invalid name) are meant for people;
      // anything else (the database) is an internal error, logged by the route, its text not shown
      if (!(error instanceof MlflowError) || error.status >= 500) throw error;
      throw new OidcLoginError(
        403,
        "user_refused",
        `Slipway could not sign in ${identity.username}: ${error.message}`,
        {
          username: identity.username,
        },
      );
    }
    return { principal, session, identity, returnTo: flow.returnTo };
  }

  /** Maps verified claims to an identity: username, groups and the admin flag. */
  identityOf(claims: Record<string, unknown>): OidcIdentity {
    const raw = claims[this.settings.groupsClaim];
    const groups =
      typeof raw === "string"
        ? [raw]
        : Array.isArray(raw)
          ? raw.filter((group): group is string => typeof group === "string")
          : [];
    const subject = String(claims.sub);
    const usable = (value: unknown) =>
      typeof value === "string" && USERNAME_PATTERN.test(value.trim()) ? value.trim() : undefined;
    // Slipway usernames allow no spaces or colons; an identity without a usable name gets subject@issuer-host.
    const fallback = `${subject}@${new URL(this.provider.issuer).hostname}`
      .replace(/[^A-Za-z0-9._@+-]/g, "-")
      .replace(/^[^A-Za-z0-9]+/, "")
      .slice(0, 128);
    const username = usable(claims.preferred_username) ?? usable(claims.email) ?? fallback;
    return {
      issuer: this.provider.issuer,
      subject,
      username,
      groups,
      // without admin groups configured, SSO does not decide who is an admin (admins set by hand stay admins)
      ...(this.settings.adminGroups.length === 0
        ? {}
        : { isAdmin: groups.some((group) => this.settings.adminGroups.includes(group)) }),
    };
  }

  /** Exchanges the code (with the PKCE verifier) at the token endpoint. */
  private async redeem(code: string, verifier: string): Promise<{ idToken: string; accessToken?: string }> {
    const { clientId, clientSecret, redirectUrl } = this.settings;
    const form = new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUrl,
      code_verifier: verifier,
    });
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    const methods = this.provider.tokenEndpointAuthMethods;
    if (clientSecret === undefined) form.set("client_id", clientId);
    else if (methods.includes("client_secret_basic") || !methods.includes("client_secret_post")) {
      const pair = `${formEncode(clientId)}:${formEncode(clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
    } else {
      form.set("client_id", clientId);
      form.set("client_secret", clientSecret);
    }
    let response: Response;
    let body: Record<string, unknown>;
    try {
      response = await fetch(this.provider.tokenEndpoint, {
        method: "POST",
        headers,
        body: form.toString(),
        redirect: "error",
        signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
      });
      const parsed: unknown = JSON.parse(await response.text());
      body = parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
    } catch (error) {
      throw new OidcLoginError(
        502,
        "provider_unreachable",
        `Could not redeem the login at the provider: ${String(error)}`,
      );
    }
    if (!response.ok) {
      const error = typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
      const description = typeof body.error_description === "string" ? `: ${body.error_description}` : "";
      throw new OidcLoginError(
        400,
        "code_rejected",
        `The provider did not accept the login code (${error}${description}).`,
        {
          error,
        },
      );
    }
    if (typeof body.id_token !== "string") {
      throw new OidcLoginError(
        400,
        "no_id_token",
        "The provider answered without an ID token (is 'openid' in the scopes?).",
      );
    }
    return {
      idToken: body.id_token,
      ...(typeof body.access_token === "string" ? { accessToken: body.access_token } : {}),
    };
  }

  /**
   * Providers may keep profile and group claims out of the ID token and serve them at the userinfo endpoint
   * (oidc-provider does by default); fetch them there when the token lacks them. Claims in the signed ID token
   * win; userinfo counts only when it is about the same subject (Core §5.3.2).
   */
  private async withUserinfo(claims: IdTokenClaims, accessToken: string | undefined): Promise<Record<string, unknown>> {
    const wanted = [this.settings.groupsClaim, "preferred_username", "email"];
    const endpoint = this.provider.userinfoEndpoint;
    if (endpoint === undefined || accessToken === undefined || wanted.every((name) => claims[name] !== undefined)) {
      return claims;
    }
    let info: Record<string, unknown>;
    try {
      const response = await fetch(endpoint, {
        headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
        redirect: "error",
        signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
      });
      if (!response.ok) return claims;
      const parsed: unknown = await response.json();
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return claims;
      info = parsed as Record<string, unknown>;
    } catch {
      // A signed-JWT userinfo answer or an outage: the ID token alone decides.
      return claims;
    }
    if (info.sub !== claims.sub) return claims;
    return { ...info, ...claims };
  }
}
