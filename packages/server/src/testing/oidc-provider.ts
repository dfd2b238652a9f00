/**
 * Test support: a real OpenID Connect provider (the `oidc-provider` package, a certified implementation) on a
 * free port, with one confidential client, accounts carrying a `groups` claim, and its built-in development login
 * form (any password; the login name picks the account).
 */
import { generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

export interface TestAccount {
  /** The login name typed into the provider's form; also the subject. */
  login: string;
  preferredUsername?: string;
  email?: string;
  groups?: string[];
}

export interface TestOidcProviderOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  accounts: TestAccount[];
  /** How the client authenticates at the token endpoint (default client_secret_basic). */
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post";
  /** The ID token's signature algorithm (default RS256). */
  idTokenAlg?: "RS256" | "ES256";
  /**
   * true (oidc-provider's default): profile and group claims only at the userinfo endpoint; false: also in the
   * ID token (as Dex and Keycloak do).
   */
  conformIdTokenClaims?: boolean;
}

export interface TestOidcProvider {
  issuer: string;
  /** Stops the HTTP server. */
  stop(): Promise<void>;
}

function signingKey(type: "rsa" | "ec", kid: string): JsonWebKey {
  const { privateKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...privateKey.export({ format: "jwk" }), kid, use: "sig" };
}

export async function startTestOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  // the provider needs its issuer URL, so its port, before it exists: the server delegates once it does
  const routes: { handler?: (request: IncomingMessage, response: ServerResponse) => void } = {};
  const server: Server = createServer((request, response) => {
    if (routes.handler) routes.handler(request, response);
    else response.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map(options.accounts.map((account) => [account.login, account]));
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: options.tokenEndpointAuthMethod ?? "client_secret_basic",
        id_token_signed_response_alg: options.idTokenAlg ?? "RS256",
      },
    ],
    async findAccount(_ctx: unknown, id: string) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          ...(account.preferredUsername === undefined ? {} : { preferred_username: account.preferredUsername }),
          ...(account.email === undefined ? {} : { email: account.email, email_verified: true }),
          ...(account.groups === undefined ? {} : { groups: account.groups }),
        }),
      };
    },
    claims: {
      openid: ["sub"],
      profile: ["preferred_username"],
      email: ["email", "email_verified"],
      groups: ["groups"],
    },
    scopes: ["openid", "profile", "email", "groups"],
    conformIdTokenClaims: options.conformIdTokenClaims ?? true,
    features: { devInteractions: { enabled: true } },
    pkce: { methods: ["S256"], required: () => true },
    jwks: { keys: [signingKey("rsa", "test-rsa"), signingKey("ec", "test-ec")] },
    cookies: { keys: ["slipway-test-provider-cookie-key"] },
  });
  routes.handler = provider.callback();
  return {
    issuer,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
