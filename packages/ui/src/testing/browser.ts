/**
 * Debian's Chromium through playwright-core (never a downloaded browser), and the server the UI tests and the
 * benchmark drive: `startServer` from @slipway/server, the same code `slipway server` runs, on a fresh store.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { loadServerConfig, startServer } from "@slipway/server";

export const CHROMIUM = "/usr/bin/chromium";

/** Why browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `Debian's Chromium is not installed at ${CHROMIUM} (apt-get install chromium); browser tests skipped`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

export interface UiServer {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** A server on a fresh SQLite store in a temporary directory, serving the built UI (or `uiDir`). */
export async function startUiServer(options: { uiDir?: string; prefix?: string } = {}): Promise<UiServer> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? "slipway-ui-"));
  const config = loadServerConfig(
    {
      host: "127.0.0.1",
      port: 0,
      backendStoreUri: `sqlite:///${join(dir, "db", "slipway.db")}`,
      artifactsDestination: join(dir, "artifacts"),
      logLevel: "silent",
      monitorScheduler: false,
      ...(options.uiDir === undefined ? {} : { uiDir: options.uiDir }),
    },
    {},
  );
  const server = await startServer(config);
  return {
    url: server.url,
    dir,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
