import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { SERVER_SETTINGS } from "@slipway/server";
import { buildProgram } from "../main.js";
import { CONFIG_REFERENCE_PATH, documentedVariables, renderConfigReference } from "./config-reference.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/** Variables read only to pass them on to child processes, never as configuration. */
const NOT_CONFIGURATION = new Set(["PATH", "HOME"]);

/** The non-test TypeScript sources of every package. */
function sources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "testing" && entry.name !== "node_modules") walk(path);
      } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
        out.push({ path, text: readFileSync(path, "utf8") });
      }
    }
  };
  for (const pkg of readdirSync(resolve(repoRoot, "packages"))) {
    if (pkg === "ui") continue; // the browser bundle reads no environment
    walk(resolve(repoRoot, "packages", pkg, "src"));
  }
  return out;
}

/** Names read from an environment: `env.NAME`, `env?.NAME`, `env["NAME"]`, `X_ENV = "NAME"`, shell `${NAME:-…}`. */
function variablesRead(text: string): string[] {
  const patterns = [
    /\benv\??\.([A-Z][A-Z0-9_]+)\b/g,
    /\benv\[\s*"([A-Z][A-Z0-9_]+)"\s*\]/g,
    /_ENV\s*=\s*"([A-Z][A-Z0-9_]+)"/g,
    /\$\{([A-Z][A-Z0-9_]+):-/g,
    /for \(const name of \[([^\]]*)\]\)/g,
  ];
  const names: string[] = [];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      names.push(...(match[1]!.match(/[A-Z][A-Z0-9_]+/g) ?? []));
    }
  }
  return names;
}

test("the committed configuration reference is the one the settings tables render (run `npm run docs:reference`)", () => {
  const committed = readFileSync(resolve(repoRoot, CONFIG_REFERENCE_PATH), "utf8");
  assert.equal(committed, renderConfigReference(buildProgram()));
});

test("every environment variable the packages read is in the configuration reference, and none it lists is unread", () => {
  const documented = documentedVariables();
  const all = sources();
  const read = new Map<string, string>();
  for (const { path, text } of all) for (const name of variablesRead(text)) read.set(name, path);
  assert.ok(
    read.has("SLIPWAY_TRACKING_URI") && read.has("SLIPWAY_HOST") && read.has("AIP_HTTP_PORT"),
    "the scan works",
  );
  const missing = [...read].filter(([name]) => !documented.has(name) && !NOT_CONFIGURATION.has(name));
  assert.deepEqual(missing, [], "read but not documented: add them to SERVER_SETTINGS or ENVIRONMENT_VARIABLES");
  const everything = all.map((s) => s.text).join("\n");
  const unread = [...documented].filter((name) => !read.has(name) && !everything.includes(`"${name}"`));
  assert.deepEqual(unread, [], "documented but read nowhere");
});

test("every flag of `slipway server` is a setting in the table, and every setting's flag exists", () => {
  const server = buildProgram().commands.find((c) => c.name() === "server")!;
  const flags = server.options.map((o) => o.long).filter((f) => f !== "--config");
  assert.deepEqual(
    flags.filter((f) => !SERVER_SETTINGS.some((s) => s.flag === f)),
    [],
    "flags of `slipway server` without a row in SERVER_SETTINGS",
  );
  for (const setting of SERVER_SETTINGS) {
    if (setting.flag !== undefined) assert.ok(flags.includes(setting.flag), `${setting.key}: no ${setting.flag}`);
  }
});

test("the reference shows each server setting's key, variable, flag and default, and refuses unknown flags", () => {
  const text = renderConfigReference(buildProgram());
  assert.ok(text.includes("| `port` | `SLIPWAY_PORT` | `--port` | port (0-65535) | `5000` | The port. |"));
  assert.ok(text.includes("| — (environment only) | `SLIPWAY_OIDC_CLIENT_SECRET` | `--oidc-client-secret` |"));
  assert.ok(text.includes("`SLIPWAY_S3_ENDPOINT_URL`, then `MLFLOW_S3_ENDPOINT_URL`, then `AWS_ENDPOINT_URL`"));
  assert.match(text, /\| `SLIPWAY_LLM_PORT` \| \[`slipway llm serve --port`\]\(cli\.md#llm-serve\) \| `8000` \|/);
  // a flag renamed in the CLI but not in the table fails the rendering
  const program = buildProgram();
  const llmServe = program.commands.find((c) => c.name() === "llm")!.commands.find((c) => c.name() === "serve")!;
  const port = llmServe.options.find((o) => o.long === "--port")!;
  port.long = "--listen-port";
  assert.throws(() => renderConfigReference(program), /'serve' has no --port/);
});
