/**
 * Single sign-on end to end: a real OpenID Connect provider (oidc-provider, with its login form) and a real
 * Slipway server started with --auth and --oidc-*, walked through with a fetch-based browser. Covers the happy
 * path, groups → admin (and back), allowed groups, tampered and replayed callbacks, provider errors, foreign
 * return_to values, and a provider that authenticates clients by POST and signs ID tokens with ES256.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServer, type RunningServer } from "../../main-server.js";
import { ConfigError, loadServerConfig, type ServerFlags } from "../../platform/config.js";
import { FetchBrowser, type PageResponse } from "../../testing/oidc-provider-browser.js";
import { startTestOidcProvider, type TestAccount, type TestOidcProvider } from "../../testing/oidc-provider.js";
import { OIDC_CALLBACK_PATH } from "./oidc-config.js";
import { FLOW_COOKIE, FLOW_COOKIE_PATH, FlowCookieCodec } from "./oidc-flow-cookie.js";
import { OidcRelyingParty } from "./oidc-relying-party.js";

const CLIENT_ID = "slipway-ui";
const CLIENT_SECRET = "test-client-secret-0123456789abcdef0123456789";
const LOGIN = "/api/2.0/slipway/auth/oidc/login";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Rig {
  provider: TestOidcProvider;
  server: RunningServer;
  url: string;
  accounts: Map<string, TestAccount>;
  stop(): Promise<void>;
}

async function startRig(options: {
  accounts: TestAccount[];
  flags?: Partial<ServerFlags>;
  provider?: Partial<Parameters<typeof startTestOidcProvider>[0]>;
}): Promise<Rig> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const provider = await startTestOidcProvider({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`${url}${OIDC_CALLBACK_PATH}`],
    accounts: options.accounts,
    ...options.provider,
  });
  const dir = await mkdtemp(join(tmpdir(), "slipway-oidc-"));
  try {
    const config = loadServerConfig(
      {
        host: "127.0.0.1",
        port,
        backendStoreUri: `sqlite:///${join(dir, "slipway.db")}`,
        artifactsDestination: join(dir, "artifacts"),
        logLevel: "silent",
        monitorScheduler: false,
        auth: true,
        oidcIssuer: provider.issuer,
        oidcClientId: CLIENT_ID,
        publicUrl: url,
        ...options.flags,
      },
      { SLIPWAY_OIDC_CLIENT_SECRET: CLIENT_SECRET },
    );
    const server = await startServer(config);
    return {
      provider,
      server,
      url,
      accounts: new Map(options.accounts.map((account) => [account.login, account])),
      async stop() {
        await server.close();
        await provider.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await provider.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts a login at Slipway and fills in the provider's pages (login form, then consent) as a person would.
 * Returns the callback URL the provider sends the browser to, without requesting it.
 */
async function signInAtProvider(browser: FetchBrowser, rig: Rig, login: string, returnTo = "/"): Promise<string> {
  const start = await browser.request(`${rig.url}${LOGIN}?return_to=${encodeURIComponent(returnTo)}`);
  assert.equal(start.status, 302);
  assert.ok(start.location?.startsWith(`${rig.provider.issuer}/auth?`), start.location);
  const isCallback = (target: string) => target.startsWith(`${rig.url}${OIDC_CALLBACK_PATH}`);
  let page = await browser.follow(start.location!, { stopAt: isCallback });
  for (let step = 0; !("stoppedAt" in page); step++) {
    assert.ok(step < 4, `the provider kept showing pages: ${page.body.slice(0, 300)}`);
    const form = FetchBrowser.form(page);
    const fields = form.fields.prompt === "login" ? { ...form.fields, login, password: "any password" } : form.fields;
    page = await browser.follow(form.action, { form: fields, stopAt: isCallback });
  }
  return page.stoppedAt;
}

async function session(rig: Rig, browser: FetchBrowser): Promise<{ status: number; body: Record<string, unknown> }> {
  const page = await browser.request(`${rig.url}/api/2.0/slipway/auth/session`);
  return { status: page.status, body: JSON.parse(page.body) as Record<string, unknown> };
}

async function failures(rig: Rig): Promise<string[]> {
  const { entries } = await rig.server.auth!.searchAudit({ action: "login.oidc.failed" });
  return entries.map((entry) => String(entry.details?.reason));
}

function assertErrorPage(page: PageResponse, status: number, text: RegExp): void {
  assert.equal(page.status, status, page.body);
  assert.match(page.body, /<!doctype html>/);
  assert.match(page.body, text);
  assert.match(page.body, new RegExp(`href="${LOGIN}`));
  assert.ok(!page.setCookies.some((line) => line.startsWith("slipway_session=")), "no session on a refusal");
}

describe("OIDC single sign-on against a real provider", () => {
  let rig: Rig;

  before(async () => {
    rig = await startRig({
      accounts: [
        { login: "alice", preferredUsername: "alice", email: "alice@example.com", groups: ["ml-team"] },
        { login: "root", preferredUsername: "root-admin", groups: ["ml-team", "slipway-admins"] },
        { login: "mallory", preferredUsername: "mallory", groups: ["marketing"] },
        { login: "bob", preferredUsername: "bob", groups: ["ml-team"] },
        { login: "erin-at-idp", preferredUsername: "erin", groups: ["ml-team"] },
      ],
      flags: { oidcAdminGroups: "slipway-admins", oidcAllowedGroups: "ml-team" },
    });
  });
  after(async () => {
    await rig?.stop();
  });

  it("says SSO is enabled", async () => {
    const response = await fetch(`${rig.url}/api/2.0/slipway/auth/oidc/config`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { enabled: true, auth: true });
    const ajax = await fetch(`${rig.url}/ajax-api/2.0/slipway/auth/oidc/config`);
    assert.deepEqual(await ajax.json(), { enabled: true, auth: true });
  });

  it("redirects to the provider with PKCE (S256), state and nonce, and sets a short-lived flow cookie", async () => {
    const browser = new FetchBrowser();
    const start = await browser.request(`${rig.url}${LOGIN}?return_to=%2Fmodels`);
    assert.equal(start.status, 302);
    const target = new URL(start.location!);
    assert.equal(target.origin + target.pathname, `${rig.provider.issuer}/auth`);
    const params = Object.fromEntries(target.searchParams);
    assert.equal(params.response_type, "code");
    assert.equal(params.client_id, CLIENT_ID);
    assert.equal(params.redirect_uri, `${rig.url}${OIDC_CALLBACK_PATH}`);
    assert.equal(params.code_challenge_method, "S256");
    assert.match(params.code_challenge ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.match(params.state ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.match(params.nonce ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.equal(params.scope, "openid profile email groups", "groups is asked for because the provider offers it");
    const cookie = start.setCookies.find((line) => line.startsWith(`${FLOW_COOKIE}=`));
    assert.ok(cookie, "flow cookie set");
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.match(cookie, /; Max-Age=600/);
    assert.match(cookie, /; Path=\/api\/2\.0\/slipway\/auth\/oidc/);
  });

  it("signs a person in through the provider's login form and the session then authenticates", async () => {
    const browser = new FetchBrowser();
    assert.equal((await session(rig, browser)).status, 401, "no session before the login");
    const callback = await signInAtProvider(browser, rig, "alice", "/experiments/0?tab=runs");
    const done = await browser.request(callback);
    assert.equal(done.status, 302, done.body);
    assert.equal(done.location, `${rig.url}/experiments/0?tab=runs`);
    const cookie = done.setCookies.find((line) => line.startsWith("slipway_session="));
    assert.ok(cookie, "session cookie set");
    assert.match(cookie, /; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+/);
    assert.ok(!browser.cookies.has(FLOW_COOKIE), "the flow cookie is cleared");
    const { status, body } = await session(rig, browser);
    assert.equal(status, 200);
    assert.deepEqual(body.user, {
      id: (body.user as { id: number }).id,
      username: "alice",
      is_admin: false,
      kind: "user",
    });
    assert.equal(typeof body.csrf_token, "string");
    const { entries } = await rig.server.auth!.searchAudit({ action: "login.oidc" });
    assert.ok(entries.some((entry) => entry.username === "alice" && entry.status === 302));
  });

  it("maps the admin group to an admin, and takes admin away when the group is gone", async () => {
    const browser = new FetchBrowser();
    assert.equal((await browser.request(await signInAtProvider(browser, rig, "root"))).status, 302);
    const first = await session(rig, browser);
    assert.equal((first.body.user as { username: string }).username, "root-admin");
    assert.equal((first.body.user as { is_admin: boolean }).is_admin, true);

    rig.accounts.get("root")!.groups = ["ml-team"];
    const again = new FetchBrowser();
    assert.equal((await again.request(await signInAtProvider(again, rig, "root"))).status, 302);
    const second = await session(rig, again);
    assert.equal((second.body.user as { id: number }).id, (first.body.user as { id: number }).id, "same user");
    assert.equal((second.body.user as { is_admin: boolean }).is_admin, false);
    rig.accounts.get("root")!.groups = ["ml-team", "slipway-admins"];
  });

  it("refuses a person in none of the allowed groups with a 403 page and an audit entry", async () => {
    const browser = new FetchBrowser();
    const page = await browser.request(await signInAtProvider(browser, rig, "mallory"));
    assertErrorPage(page, 403, /mallory is not a member of a group allowed/);
    assert.equal((await session(rig, browser)).status, 401);
    assert.ok((await failures(rig)).includes("group_not_allowed"));
  });

  it("never hands a local account to a provider user of the same name", async () => {
    await rig.server.auth!.createUser({ username: "erin", password: "local password 123" });
    const browser = new FetchBrowser();
    const page = await browser.request(await signInAtProvider(browser, rig, "erin-at-idp"));
    assertErrorPage(page, 403, /could not sign in erin: The username &#39;erin&#39; belongs to an account not linked/);
    assert.ok((await failures(rig)).includes("user_refused"));
  });

  it("refuses a callback whose state was tampered with", async () => {
    const browser = new FetchBrowser();
    const callback = new URL(await signInAtProvider(browser, rig, "bob"));
    callback.searchParams.set("state", `${callback.searchParams.get("state")!.slice(0, -2)}xx`);
    const page = await browser.request(callback.href);
    assertErrorPage(page, 400, /state mismatch/);
    assert.ok((await failures(rig)).includes("state_mismatch"));
  });

  it("refuses a flow cookie that was edited, and a callback without one (another browser)", async () => {
    const browser = new FetchBrowser();
    const callback = await signInAtProvider(browser, rig, "bob");
    const flow = browser.cookies.get(FLOW_COOKIE)!;
    const stranger = new FetchBrowser();
    assertErrorPage(await stranger.request(callback), 400, /not started in this browser/);
    const [body = "", mac = ""] = flow.value.split(".");
    const edited = JSON.parse(Buffer.from(body, "base64url").toString()) as Record<string, unknown>;
    edited.r = "/somewhere-else";
    stranger.cookies.set(FLOW_COOKIE, {
      path: flow.path,
      value: `${Buffer.from(JSON.stringify(edited)).toString("base64url")}.${mac}`,
    });
    assertErrorPage(await stranger.request(callback), 400, /altered/);
    const reasons = await failures(rig);
    assert.ok(reasons.includes("missing_flow") && reasons.includes("bad_flow_cookie"), reasons.join());
  });

  it("refuses an ID token whose nonce is not the one this login sent", async () => {
    // the test knows the client secret, so it can re-sign the flow cookie with another nonce, as a replica would
    const codec = new FlowCookieCodec(CLIENT_SECRET);
    const browser = new FetchBrowser();
    const callback = await signInAtProvider(browser, rig, "bob");
    const flow = codec.decode(browser.cookies.get(FLOW_COOKIE)!.value);
    if (typeof flow === "string") assert.fail(`the flow cookie was refused: ${flow}`);
    browser.cookies.set(FLOW_COOKIE, { path: FLOW_COOKIE_PATH, value: codec.encode({ ...flow, nonce: "other" }) });
    assertErrorPage(await browser.request(callback), 400, /nonce is not the one this login sent/);
    assert.ok((await failures(rig)).includes("nonce_mismatch"));
  });

  it("is refused by the provider when the PKCE verifier does not match the challenge", async () => {
    const codec = new FlowCookieCodec(CLIENT_SECRET);
    const browser = new FetchBrowser();
    const callback = await signInAtProvider(browser, rig, "bob");
    const flow = codec.decode(browser.cookies.get(FLOW_COOKIE)!.value);
    if (typeof flow === "string") assert.fail(`the flow cookie was refused: ${flow}`);
    const verifier = "x".repeat(64);
    browser.cookies.set(FLOW_COOKIE, { path: FLOW_COOKIE_PATH, value: codec.encode({ ...flow, verifier }) });
    assertErrorPage(await browser.request(callback), 400, /did not accept the login code \(invalid_grant/);
    assert.ok((await failures(rig)).includes("code_rejected"));
  });

  it("refuses a replayed callback, here and at a second replica (where the provider refuses the used code)", async () => {
    const browser = new FetchBrowser();
    const callback = await signInAtProvider(browser, rig, "bob");
    const flow = browser.cookies.get(FLOW_COOKIE)!;
    assert.equal((await browser.request(callback)).status, 302);
    browser.cookies.set(FLOW_COOKIE, flow);
    assertErrorPage(await browser.request(callback), 400, /already completed/);

    // A second relying party (another replica: same settings and so the same cookie key, but its own memory).
    const replica = await OidcRelyingParty.open(configOf(rig), rig.server.auth!);
    await assert.rejects(
      replica.complete({
        query: Object.fromEntries(new URL(callback).searchParams),
        flowCookie: flow.value,
        ip: "127.0.0.1",
      }),
      (error: Error & { reason?: string; status?: number }) => {
        assert.equal(error.reason, "code_rejected", error.message);
        assert.equal(error.status, 400);
        assert.match(error.message, /invalid_grant/);
        return true;
      },
    );
    assert.ok((await failures(rig)).includes("state_replayed"));
  });

  it("shows the provider's refusal (error parameter) as a page", async () => {
    const browser = new FetchBrowser();
    await browser.request(`${rig.url}${LOGIN}`);
    const page = await browser.request(
      `${rig.url}${OIDC_CALLBACK_PATH}?error=access_denied&error_description=${encodeURIComponent("<b>End-User aborted</b>")}`,
    );
    assertErrorPage(page, 400, /access_denied: &#60;b&#62;End-User aborted&#60;\/b&#62;/);
    assert.ok((await failures(rig)).includes("provider_error"));
  });

  it("answers a callback without code or state with a page, not a 500", async () => {
    const browser = new FetchBrowser();
    await browser.request(`${rig.url}${LOGIN}`);
    assertErrorPage(
      await browser.request(`${rig.url}${OIDC_CALLBACK_PATH}?code=abc`),
      400,
      /lacks the code or the state/,
    );
    assertErrorPage(
      await browser.request(`${rig.url}${OIDC_CALLBACK_PATH}?code=a&code=b&state=c`),
      400,
      /lacks the code or the state/,
    );
  });

  it("returns only to paths of this site", async () => {
    for (const returnTo of ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]) {
      const browser = new FetchBrowser();
      const done = await browser.request(await signInAtProvider(browser, rig, "alice", returnTo));
      assert.equal(done.status, 302);
      assert.equal(done.location, `${rig.url}/`, returnTo);
    }
  });

  function configOf(r: Rig) {
    return loadServerConfig(
      {
        auth: true,
        oidcIssuer: r.provider.issuer,
        oidcClientId: CLIENT_ID,
        publicUrl: r.url,
        oidcAdminGroups: "slipway-admins",
        oidcAllowedGroups: "ml-team",
      },
      { SLIPWAY_OIDC_CLIENT_SECRET: CLIENT_SECRET },
    ).oidc!;
  }
});

describe("OIDC with client_secret_post, ES256 ID tokens and claims inside the ID token", () => {
  let rig: Rig;

  before(async () => {
    rig = await startRig({
      accounts: [{ login: "carol", email: "carol@example.com", groups: ["Slipway Admins"] }, { login: "dave 2" }],
      flags: { oidcAdminGroups: "Slipway Admins,other" },
      provider: { tokenEndpointAuthMethod: "client_secret_post", idTokenAlg: "ES256", conformIdTokenClaims: false },
    });
  });
  after(async () => {
    await rig?.stop();
  });

  it("signs in with the email as username and an admin group containing a space", async () => {
    const browser = new FetchBrowser();
    const done = await browser.request(await signInAtProvider(browser, rig, "carol"));
    assert.equal(done.status, 302, done.body);
    const { body } = await session(rig, browser);
    assert.equal((body.user as { username: string }).username, "carol@example.com");
    assert.equal((body.user as { is_admin: boolean }).is_admin, true);
  });

  it("names a person without a usable username after subject and issuer host", async () => {
    const browser = new FetchBrowser();
    const done = await browser.request(await signInAtProvider(browser, rig, "dave 2"));
    assert.equal(done.status, 302, done.body);
    const { body } = await session(rig, browser);
    assert.equal((body.user as { username: string }).username, "dave-2@127.0.0.1");
  });
});

describe("OIDC startup", () => {
  let dir: string;
  let fake: Server;
  let fakeUrl: string;
  let document: Record<string, unknown> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-oidc-start-"));
    fake = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(document));
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => fake.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  function config(issuer: string) {
    return loadServerConfig(
      {
        host: "127.0.0.1",
        port: 0,
        backendStoreUri: `sqlite:///${join(dir, "slipway.db")}`,
        artifactsDestination: join(dir, "artifacts"),
        logLevel: "silent",
        monitorScheduler: false,
        auth: true,
        oidcIssuer: issuer,
        oidcClientId: CLIENT_ID,
        publicUrl: "http://127.0.0.1:5000",
      },
      {},
    );
  }

  it("fails with a clear message when the provider cannot be reached", async () => {
    const port = await freePort();
    await assert.rejects(startServer(config(`http://127.0.0.1:${port}`)), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /--oidc-issuer: could not fetch the OpenID provider configuration at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration/,
      );
      return true;
    });
  });

  it("fails when discovery lacks an endpoint, names another issuer, lacks S256, or the keys are missing", async () => {
    document = { issuer: fakeUrl, authorization_endpoint: `${fakeUrl}/auth`, jwks_uri: `${fakeUrl}/jwks` };
    await assert.rejects(startServer(config(fakeUrl)), /--oidc-issuer: .*has no valid token_endpoint/);
    document = { ...document, issuer: "https://elsewhere.example", token_endpoint: `${fakeUrl}/token` };
    await assert.rejects(startServer(config(fakeUrl)), /names the issuer 'https:\/\/elsewhere\.example'/);
    document = { ...document, issuer: fakeUrl, code_challenge_methods_supported: ["plain"] };
    await assert.rejects(startServer(config(fakeUrl)), /does not support PKCE with S256/);
    document = { ...document, code_challenge_methods_supported: ["S256"] };
    await assert.rejects(
      startServer(config(fakeUrl)),
      /--oidc-issuer: http:\/\/127\.0\.0\.1:\d+\/jwks has no "keys" array/,
      "the signing keys are fetched at start-up too",
    );
  });

  it("says SSO is off on a server without it", async () => {
    const server = await startServer(
      loadServerConfig(
        {
          host: "127.0.0.1",
          port: 0,
          backendStoreUri: `sqlite:///${join(dir, "plain.db")}`,
          artifactsDestination: join(dir, "artifacts"),
          logLevel: "silent",
          monitorScheduler: false,
        },
        {},
      ),
    );
    try {
      const response = await fetch(`${server.url}/api/2.0/slipway/auth/oidc/config`);
      assert.deepEqual(await response.json(), { enabled: false, auth: false });
      assert.equal((await fetch(`${server.url}${LOGIN}`, { redirect: "manual" })).status, 404);
    } finally {
      await server.close();
    }
  });
});
