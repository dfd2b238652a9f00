/**
 * The web UI on a server started with --auth, in Debian's Chromium: the login page instead of the data, a wrong
 * password refused in words, a password sign-in that shows the user and lets the UI write (its CSRF token sent),
 * the session surviving a reload, and sign-out. (Single sign-on through a real provider is tested by
 * @slipway/server's oidc-login.test.ts; the provider package is a test dependency of the server only.)
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { loadServerConfig, startServer, type RunningServer } from "@slipway/server";
import { browserSkipReason, launchChromium } from "./browser.js";

const skip = browserSkipReason();
const bundle = join(dirname(createRequire(import.meta.url).resolve("@slipway/ui/package.json")), "dist", "web");
const ADMIN = "admin";
const PASSWORD = "correct horse battery staple";

describe("web UI sign-in in Chromium (server with --auth)", { skip: skip ?? false }, () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    assert.ok(existsSync(join(bundle, "index.html")), `the UI bundle is not built (${bundle})`);
    dir = await mkdtemp(join(tmpdir(), "slipway-ui-login-"));
    const config = loadServerConfig(
      {
        host: "127.0.0.1",
        port: 0,
        backendStoreUri: `sqlite:///${join(dir, "slipway.db")}`,
        artifactsDestination: join(dir, "artifacts"),
        logLevel: "silent",
        monitorScheduler: false,
        auth: true,
      },
      { SLIPWAY_ADMIN_USERNAME: ADMIN, SLIPWAY_ADMIN_PASSWORD: PASSWORD },
    );
    server = await startServer(config);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.setDefaultTimeout(15_000);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows the login page, without SSO on a server that has none", async () => {
    await page.goto(`${server.url}/experiments`);
    await page.getByRole("heading", { name: "Sign in to Slipway" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Sign in with SSO" }).count(), 0);
    assert.equal(await page.getByTestId("experiments-table").count(), 0, "no data before signing in");
  });

  it("refuses a wrong password in words", async () => {
    await page.getByLabel("Username").fill(ADMIN);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong username or password" }).waitFor();
  });

  it("signs in, shows the user, and writes with the session's CSRF token", async () => {
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByTestId("experiments-table").waitFor();
    assert.equal(await page.locator(".user-name").innerText(), "admin (admin)");
    await page.getByRole("button", { name: "New experiment" }).click();
    await page.getByLabel("New experiment name").fill("made-while-signed-in");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.waitForURL(/\/experiments\/\d+$/);
  });

  it("keeps the session across a reload (user and CSRF token read back from the server)", async () => {
    await page.goto(`${server.url}/experiments`);
    await page.getByTestId("experiments-table").getByRole("link", { name: "made-while-signed-in" }).waitFor();
    await page.locator(".user-name").waitFor();
    await page.getByRole("button", { name: "New experiment" }).click();
    await page.getByLabel("New experiment name").fill("made-after-reload");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.waitForURL(/\/experiments\/\d+$/);
  });

  it("signs out back to the login page, and the old session no longer works", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Slipway" }).waitFor();
    const status = await page.evaluate(async () => (await fetch("/ajax-api/2.0/slipway/auth/session")).status);
    assert.equal(status, 401);
  });
});
