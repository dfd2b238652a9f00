/**
 * Single sign-on in Chromium: the UI's "Sign in with SSO" button, the real provider's login and consent pages
 * filled in by clicking, back in Slipway signed in as the provider's user (and able to write), and a refused
 * person shown the error page.
 *
 * The provider is @slipway/server's test provider (`oidc-provider` is a test dependency of the server only, so
 * this package cannot import it by name). It is loaded from the server's build, beside its entry point, the way
 * bench/ui.mjs loads test helpers; without that build the suite is skipped with the reason.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { loadServerConfig, startServer, type RunningServer } from "@slipway/server";
import { browserSkipReason, launchChromium } from "./browser.js";

/** The part of the server's testing/oidc-provider.ts this test uses. */
interface TestOidcProviderModule {
  startTestOidcProvider: (options: {
    clientId: string;
    clientSecret: string;
    redirectUris: string[];
    accounts: { login: string; preferredUsername?: string; email?: string; groups?: string[] }[];
  }) => Promise<{ issuer: string; stop(): Promise<void> }>;
}

const require = createRequire(import.meta.url);
const bundle = join(dirname(require.resolve("@slipway/ui/package.json")), "dist", "web");
const providerModule = join(dirname(require.resolve("@slipway/server")), "testing", "oidc-provider.js");
const skip =
  browserSkipReason() ??
  (existsSync(providerModule) ? undefined : `the server's test OIDC provider is not built (${providerModule})`);
const CALLBACK = "/api/2.0/slipway/auth/oidc/callback";
const SECRET = "ui-test-client-secret-0123456789abcdef";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("single sign-on in Chromium through a real OIDC provider", { skip: skip ?? false }, () => {
  let dir: string;
  let provider: { issuer: string; stop(): Promise<void> };
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    assert.ok(existsSync(join(bundle, "index.html")), `the UI bundle is not built (${bundle})`);
    const { startTestOidcProvider } = (await import(pathToFileURL(providerModule).href)) as TestOidcProviderModule;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    provider = await startTestOidcProvider({
      clientId: "slipway-ui",
      clientSecret: SECRET,
      redirectUris: [`${url}${CALLBACK}`],
      accounts: [
        { login: "alice", preferredUsername: "alice", groups: ["ml-team", "slipway-admins"] },
        { login: "mallory", preferredUsername: "mallory", groups: ["marketing"] },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), "slipway-ui-sso-"));
    const config = loadServerConfig(
      {
        host: "127.0.0.1",
        port,
        backendStoreUri: `sqlite:///${join(dir, "slipway.db")}`,
        artifactsDestination: join(dir, "artifacts"),
        logLevel: "silent",
        monitorScheduler: false,
        auth: true,
        publicUrl: url,
        oidcIssuer: provider.issuer,
        oidcClientId: "slipway-ui",
        oidcAdminGroups: "slipway-admins",
        oidcAllowedGroups: "ml-team",
      },
      { SLIPWAY_OIDC_CLIENT_SECRET: SECRET },
    );
    server = await startServer(config);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.setDefaultTimeout(15_000);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await provider?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** From Slipway's login page through the provider's login and consent pages, as a person clicks. */
  async function signInWithSso(login: string): Promise<void> {
    await page.getByRole("link", { name: "Sign in with SSO" }).click();
    await page.waitForURL((url) => url.href.startsWith(provider.issuer));
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill("any password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
  }

  it("signs in through the provider and comes back to the page it started from", async () => {
    await page.goto(`${server.url}/models`);
    await page.getByRole("heading", { name: "Sign in to Slipway" }).waitFor();
    const href = await page.getByRole("link", { name: "Sign in with SSO" }).getAttribute("href");
    assert.equal(href, "/api/2.0/slipway/auth/oidc/login?return_to=%2Fmodels");
    await signInWithSso("alice");
    await page.waitForURL(`${server.url}/models`);
    await page.locator(".user-name").waitFor();
    assert.equal(await page.locator(".user-name").innerText(), "alice (admin)");
  });

  it("writes with the CSRF token read back after the redirect", async () => {
    await page.getByRole("link", { name: "Experiments" }).click();
    await page.getByRole("button", { name: "New experiment" }).click();
    await page.getByLabel("New experiment name").fill("made-by-sso-user");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.waitForURL(/\/experiments\/\d+$/);
  });

  it("shows a person outside the allowed groups the refusal page, with a way back", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Slipway" }).waitFor();
    // the provider remembers alice's session: sign her out there by starting afresh in a new context
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${server.url}/experiments`);
    await signInWithSso("mallory");
    await page.getByRole("heading", { name: "Sign-in not allowed" }).waitFor();
    assert.match(await page.locator("body").innerText(), /mallory is not a member of a group allowed/);
    await page.getByRole("link", { name: "Back to the login page" }).click();
    await page.getByRole("heading", { name: "Sign in to Slipway" }).waitFor();
  });
});
