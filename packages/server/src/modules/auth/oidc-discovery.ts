/**
 * The provider's metadata (OpenID Connect Discovery 1.0) and its signing keys (JWKS). Discovery runs once at
 * boot so a wrong issuer stops the server with a clear message; keys are cached and refetched when a token names
 * a key id we have not seen (the provider rotated its keys).
 */
import type { JsonWebKey } from "node:crypto";

export interface OidcProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  userinfoEndpoint?: string;
  /** How the token endpoint accepts client credentials (default, per the spec: client_secret_basic). */
  tokenEndpointAuthMethods: readonly string[];
  idTokenSigningAlgs: readonly string[];
  scopesSupported?: readonly string[];
  codeChallengeMethods?: readonly string[];
}

/** Discovery or key retrieval failed; the message says what and where. */
export class OidcDiscoveryError extends Error {
  override readonly name = "OidcDiscoveryError";
}

/** Bounds every call to the provider, so a hung provider cannot hang a login or the boot. */
export const PROVIDER_TIMEOUT_MS = 10_000;

async function fetchJson(url: string, what: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
      redirect: "error",
    });
  } catch (error) {
    throw new OidcDiscoveryError(`could not fetch the ${what} at ${url}: ${describe(error)}`);
  }
  const text = await response.text();
  if (!response.ok) {
    throw new OidcDiscoveryError(`the ${what} at ${url} answered HTTP ${response.status}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OidcDiscoveryError(`the ${what} at ${url} is not JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OidcDiscoveryError(`the ${what} at ${url} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : undefined;
}

/** Fetches `<issuer>/.well-known/openid-configuration` and checks what the login flow needs is there. */
export async function discoverProvider(issuer: string): Promise<OidcProviderMetadata> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const doc = await fetchJson(url, "OpenID provider configuration");
  // The spec requires the document's issuer to be identical to the one configured (no trailing-slash leniency).
  if (doc.issuer !== issuer) {
    throw new OidcDiscoveryError(
      `${url} names the issuer '${String(doc.issuer)}', not '${issuer}'; set --oidc-issuer to exactly the provider's issuer`,
    );
  }
  const endpoint = (key: string, required: boolean): string | undefined => {
    const value = doc[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== "string" || !/^https?:\/\//.test(value)) {
      throw new OidcDiscoveryError(`${url} has no valid ${key} (found ${JSON.stringify(value)})`);
    }
    return value;
  };
  const authorizationEndpoint = endpoint("authorization_endpoint", true)!;
  const tokenEndpoint = endpoint("token_endpoint", true)!;
  const jwksUri = endpoint("jwks_uri", true)!;
  const userinfoEndpoint = endpoint("userinfo_endpoint", false);
  const responseTypes = stringList(doc.response_types_supported);
  if (responseTypes !== undefined && !responseTypes.some((type) => type.split(" ").includes("code"))) {
    throw new OidcDiscoveryError(`${url}: the provider does not offer the authorization-code flow`);
  }
  const codeChallengeMethods = stringList(doc.code_challenge_methods_supported);
  if (codeChallengeMethods !== undefined && !codeChallengeMethods.includes("S256")) {
    throw new OidcDiscoveryError(`${url}: the provider does not support PKCE with S256`);
  }
  const scopesSupported = stringList(doc.scopes_supported);
  return {
    issuer,
    authorizationEndpoint,
    tokenEndpoint,
    jwksUri,
    ...(userinfoEndpoint === undefined ? {} : { userinfoEndpoint }),
    tokenEndpointAuthMethods: stringList(doc.token_endpoint_auth_methods_supported) ?? ["client_secret_basic"],
    idTokenSigningAlgs: stringList(doc.id_token_signing_alg_values_supported) ?? ["RS256"],
    ...(scopesSupported === undefined ? {} : { scopesSupported }),
    ...(codeChallengeMethods === undefined ? {} : { codeChallengeMethods }),
  };
}

export interface Jwk extends JsonWebKey {
  kid?: string;
  use?: string;
  alg?: string;
}

/** Where verification gets keys from: the provider's JWKS in production, a fixed set in tests. */
export interface KeySource {
  /** Keys that may have signed a token with this key id (all keys when the token names none). */
  keysFor(kid: string | undefined): Promise<readonly Jwk[]>;
}

/**
 * The provider's JWKS, fetched on first use and again when a token names an unknown key id — at most once per
 * `minRefreshMs`, so tokens with made-up key ids cannot make us hammer the provider.
 */
export class RemoteJwks implements KeySource {
  private keys: Jwk[] | undefined;
  private fetchedAt = 0;
  private inflight: Promise<Jwk[]> | undefined;

  constructor(
    private readonly jwksUri: string,
    private readonly minRefreshMs = 30_000,
  ) {}

  async keysFor(kid: string | undefined): Promise<readonly Jwk[]> {
    let keys = this.keys ?? (await this.refresh());
    const known = (set: Jwk[]) => kid === undefined || set.some((key) => key.kid === kid);
    if (!known(keys) && Date.now() - this.fetchedAt >= this.minRefreshMs) keys = await this.refresh();
    return kid === undefined ? keys : keys.filter((key) => key.kid === kid);
  }

  private refresh(): Promise<Jwk[]> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<Jwk[]> {
    const doc = await fetchJson(this.jwksUri, "provider's signing keys (JWKS)");
    if (!Array.isArray(doc.keys)) throw new OidcDiscoveryError(`${this.jwksUri} has no "keys" array`);
    const keys = (doc.keys as unknown[]).filter(
      (key): key is Jwk => key !== null && typeof key === "object" && typeof (key as Jwk).kty === "string",
    );
    this.keys = keys;
    this.fetchedAt = Date.now();
    return keys;
  }
}
