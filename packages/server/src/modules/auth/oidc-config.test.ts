import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadServerConfig } from "../../platform/config.js";
import { parseOidcSettings } from "./oidc-config.js";

const fail = (message: string) => new ConfigError(message);
const base = {
  oidcIssuer: "https://id.example.com/realms/ml",
  oidcClientId: "slipway",
  publicUrl: "https://slipway.example.com",
};

describe("OIDC settings", () => {
  it("is off without an issuer", () => {
    assert.equal(parseOidcSettings({}, {}, fail), undefined);
  });

  it("derives the redirect URL from --public-url and reads the secret from the environment", () => {
    const settings = parseOidcSettings(
      { ...base, publicUrl: "https://slipway.example.com/ml/" },
      { SLIPWAY_OIDC_CLIENT_SECRET: "s3cret" },
      fail,
    );
    assert.deepEqual(settings, {
      issuer: "https://id.example.com/realms/ml",
      clientId: "slipway",
      clientSecret: "s3cret",
      redirectUrl: "https://slipway.example.com/ml/api/2.0/slipway/auth/oidc/callback",
      groupsClaim: "groups",
      adminGroups: [],
    });
  });

  it("reads every setting from SLIPWAY_OIDC_* and splits groups on commas only", () => {
    const settings = parseOidcSettings(
      {},
      {
        SLIPWAY_OIDC_ISSUER: "http://127.0.0.1:5556/dex",
        SLIPWAY_OIDC_CLIENT_ID: "slipway",
        SLIPWAY_OIDC_REDIRECT_URL: "http://localhost:5000/api/2.0/slipway/auth/oidc/callback",
        SLIPWAY_OIDC_SCOPES: "openid email groups",
        SLIPWAY_OIDC_GROUPS_CLAIM: "roles",
        SLIPWAY_OIDC_ADMIN_GROUPS: "ML Admins, platform",
        SLIPWAY_OIDC_ALLOWED_GROUPS: "ml",
      },
      fail,
    );
    assert.deepEqual(settings?.scopes, ["openid", "email", "groups"]);
    assert.equal(settings?.groupsClaim, "roles");
    assert.deepEqual(settings?.adminGroups, ["ML Admins", "platform"]);
    assert.deepEqual(settings?.allowedGroups, ["ml"]);
    assert.equal(settings?.clientSecret, undefined, "a public client");
  });

  it("refuses bad settings with a message naming the flag", () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ oidcIssuer: "http://id.example.com" }, /--oidc-issuer: .*must be an https URL/],
      [{ oidcIssuer: "not a url" }, /--oidc-issuer: 'not a url' is not a URL/],
      [{ oidcClientId: "" }, /--oidc-issuer: also needs --oidc-client-id/],
      [{ publicUrl: "" }, /give --public-url .* or --oidc-redirect-url/],
      [{ oidcRedirectUrl: "https://slipway.example.com/callback" }, /--oidc-redirect-url: .*must end with/],
      [{ oidcScopes: "profile email" }, /--oidc-scopes: .*must include openid/],
      [{ oidcAllowedGroups: " , " }, /--oidc-allowed-groups: names no group/],
      [{ oidcIssuer: "https://user:pw@id.example.com" }, /must not contain credentials/],
    ];
    for (const [flags, message] of bad) {
      assert.throws(() => parseOidcSettings({ ...base, ...flags }, {}, fail), message, JSON.stringify(flags));
    }
    assert.throws(() => parseOidcSettings({ oidcClientId: "x" }, {}, fail), /given without --oidc-issuer/);
  });

  it("needs --auth in the server configuration", () => {
    assert.throws(() => loadServerConfig({ host: "127.0.0.1", ...base }, {}), /single sign-on .* add --auth/);
    const config = loadServerConfig({ host: "127.0.0.1", auth: true, ...base }, {});
    assert.equal(config.oidc?.clientId, "slipway");
  });
});
