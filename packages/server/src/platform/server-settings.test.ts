import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ConfigError, loadServerConfig } from "./config.js";
import { serverSettingsFromFile } from "./config-file.js";
import { SERVER_SETTINGS } from "./server-settings.js";

/** The SLIPWAY_* names a compiled module beside this one mentions. */
function slipwayNames(module: string): Set<string> {
  const text = readFileSync(new URL(module, import.meta.url), "utf8");
  return new Set(text.match(/\bSLIPWAY_[A-Z0-9_]+\b/g) ?? []);
}

test("the variables config.ts and the OIDC settings read are exactly the ones SERVER_SETTINGS lists", () => {
  const read = new Set([...slipwayNames("./config.js"), ...slipwayNames("../modules/auth/oidc-config.js")]);
  read.delete("SLIPWAY_OIDC_"); // the OIDC module's error messages name the prefix
  const listed = new Set(SERVER_SETTINGS.map((setting) => setting.env));
  assert.deepEqual([...read].filter((name) => !listed.has(name)).sort(), [], "read but not in SERVER_SETTINGS");
  assert.deepEqual([...listed].filter((name) => !read.has(name)).sort(), [], "in SERVER_SETTINGS but never read");
  for (const setting of SERVER_SETTINGS) {
    for (const alias of setting.aliases ?? []) {
      assert.ok(readFileSync(new URL("./config.js", import.meta.url), "utf8").includes(`env.${alias}`), alias);
    }
  }
});

test("every key of the table is taken from the project file under its variable; secrets are refused", () => {
  for (const setting of SERVER_SETTINGS) {
    const [section, key] = setting.key.includes(".") ? setting.key.split(".") : [undefined, setting.key];
    const value =
      typeof setting.kind !== "string"
        ? setting.kind[0]!
        : { string: "x", port: 5001, boolean: true, list: ["a", "b"] }[setting.kind];
    const yaml = section
      ? `server:\n  ${section}:\n    ${key}: ${JSON.stringify(value)}\n`
      : `server:\n  ${key}: ${JSON.stringify(value)}\n`;
    if (setting.secret) {
      assert.throws(
        () => serverSettingsFromFile(yaml, "slipway.yaml"),
        (e: unknown) => e instanceof ConfigError && e.message.includes(`set ${setting.env} in the environment`),
        setting.key,
      );
      continue;
    }
    const expected = Array.isArray(value) ? value.join(",") : String(value);
    assert.deepEqual(serverSettingsFromFile(yaml, "slipway.yaml"), { [setting.env]: expected }, setting.key);
  }
});

test("the defaults the table states are the ones loadServerConfig applies", () => {
  const config = loadServerConfig({}, {}, "/srv/app");
  const value = (key: string) => SERVER_SETTINGS.find((s) => s.key === key)?.default;
  assert.equal(config.host, value("host"));
  assert.equal(String(config.port), value("port"));
  assert.equal(config.logLevel, value("log_level"));
  assert.equal(String(config.monitorScheduler), value("monitor_scheduler"));
  assert.equal(String(config.auth), value("auth"));
  assert.equal(config.defaultPermission, value("default_permission"));
  assert.equal(String(config.insecureNoAuth), value("insecure_no_auth"));
  assert.equal(config.backendStoreUri, `sqlite:///${value("backend_store_uri")!.replace("sqlite:///./", "/srv/app/")}`);
  assert.equal(config.artifactsDestination, value("artifacts_destination")!.replace("./", "/srv/app/"));
});
