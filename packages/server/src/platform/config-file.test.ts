import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadServerConfig } from "./config.js";
import { serverSettingsFromFile } from "./config-file.js";

const FILE = `
monitors: []   # other sections of the project file are not the server's business
server:
  host: 0.0.0.0
  port: 5050
  backend_store_uri: sqlite:////srv/slipway.db
  auth: true
  default_permission: EDIT
  log_level: info
  oidc:
    issuer: https://login.example.com/realms/ml
    client_id: slipway
    admin_groups: [ml-admins, platform]
`;

test("the server: section becomes the SLIPWAY_* settings, below flags and the environment", () => {
  const env = serverSettingsFromFile(FILE, "slipway.yaml");
  assert.deepEqual(env, {
    SLIPWAY_HOST: "0.0.0.0",
    SLIPWAY_PORT: "5050",
    SLIPWAY_BACKEND_STORE_URI: "sqlite:////srv/slipway.db",
    SLIPWAY_AUTH: "true",
    SLIPWAY_DEFAULT_PERMISSION: "EDIT",
    SLIPWAY_LOG_LEVEL: "info",
    SLIPWAY_OIDC_ISSUER: "https://login.example.com/realms/ml",
    SLIPWAY_OIDC_CLIENT_ID: "slipway",
    SLIPWAY_OIDC_ADMIN_GROUPS: "ml-admins,platform",
  });
  // the file alone (without its OIDC part, which would contact the provider): auth on a non-loopback host is taken
  const plain = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("SLIPWAY_OIDC_")));
  const fromFile = loadServerConfig({}, plain);
  assert.equal(fromFile.host, "0.0.0.0");
  assert.equal(fromFile.port, 5050);
  assert.equal(fromFile.auth, true);
  assert.equal(fromFile.defaultPermission, "EDIT");
  // the environment wins over the file, flags over both (the CLI layers them as { ...file, ...process.env })
  const layered = loadServerConfig(
    { port: "6060" },
    { ...plain, ...{ SLIPWAY_LOG_LEVEL: "warn", SLIPWAY_PORT: "7070" } },
  );
  assert.equal(layered.port, 6060);
  assert.equal(layered.logLevel, "warn");
});

test("a file without a server: section sets nothing", () => {
  assert.deepEqual(serverSettingsFromFile("monitors: []\n", "slipway.yaml"), {});
  assert.deepEqual(serverSettingsFromFile("", "slipway.yaml"), {});
});

test("mistakes in the file are refused, naming the file and the key", () => {
  const cases: [string, RegExp][] = [
    ["server:\n  prot: 5000\n", /slipway.yaml: server.prot: unknown setting \(known: host, port/],
    ["server:\n  port: '5000'\n", /server.port: expected a port number/],
    ["server:\n  port: 70000\n", /server.port: expected a port number/],
    ["server:\n  auth: yes please\n", /server.auth: expected true or false/],
    [
      "server:\n  default_permission: WRITE\n",
      /server.default_permission: expected one of READ, EDIT, MANAGE, NO_PERMISSIONS/,
    ],
    [
      "server:\n  admin_password: hunter2\n",
      /server.admin_password: secrets do not go in the project file; set SLIPWAY_ADMIN_PASSWORD/,
    ],
    [
      "server:\n  oidc:\n    client_secret: s3cret\n",
      /server.oidc.client_secret: secrets do not go .* SLIPWAY_OIDC_CLIENT_SECRET/,
    ],
    ["server:\n  oidc:\n    admin_groups: [a, 'b,c']\n", /server.oidc.admin_groups: expected a list of names/],
    ["server:\n  oidc: true\n", /server.oidc: expected a mapping/],
    ["server: [1, 2]\n", /server: expected a mapping/],
    ["server:\n  host: ''\n", /server.host: expected a non-empty string/],
    ["server: {\n", /slipway.yaml: /],
  ];
  for (const [source, message] of cases) {
    assert.throws(
      () => serverSettingsFromFile(source, "slipway.yaml"),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, source);
        assert.match(error.message, message, source);
        return true;
      },
    );
  }
});
