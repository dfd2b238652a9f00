#!/usr/bin/env node
// Rewrites the generated reference pages of the guide from the code's own definitions (run after `tsc -b`):
// the CLI reference from the commander program, the configuration reference from the settings tables (and the
// program's flags), the HTTP reference from a real server's OpenAPI document
// (started with --auth, so that the auth module's routes are in it).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildProgram } from "../packages/cli/dist/main.js";
import { CLI_REFERENCE_PATH, renderCliReference } from "../packages/cli/dist/reference/cli-reference.js";
import { CONFIG_REFERENCE_PATH, renderConfigReference } from "../packages/cli/dist/reference/config-reference.js";
import { HTTP_REFERENCE_PATH, renderHttpReference } from "../packages/cli/dist/reference/http-reference.js";
import { loadServerConfig, startServer } from "../packages/server/dist/index.js";

mkdirSync(dirname(CLI_REFERENCE_PATH), { recursive: true });
writeFileSync(CLI_REFERENCE_PATH, renderCliReference(buildProgram()));
console.log(`wrote ${CLI_REFERENCE_PATH}`);
writeFileSync(CONFIG_REFERENCE_PATH, renderConfigReference(buildProgram()));
console.log(`wrote ${CONFIG_REFERENCE_PATH}`);

const dir = mkdtempSync(join(tmpdir(), "slipway-reference-"));
try {
  const config = loadServerConfig(
    {
      port: 0,
      backendStoreUri: `sqlite:///${join(dir, "slipway.db")}`,
      artifactsDestination: join(dir, "artifacts"),
      logLevel: "silent",
      auth: true,
    },
    {},
  );
  const server = await startServer({ ...config, monitorScheduler: false });
  try {
    const document = await (await fetch(`${server.url}/api/2.0/slipway/openapi.json`)).json();
    writeFileSync(HTTP_REFERENCE_PATH, renderHttpReference(document));
    console.log(`wrote ${HTTP_REFERENCE_PATH}`);
  } finally {
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
