/** The data planes' auth flags, as `slipway serve` and `slipway llm serve` parse them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadLlmServeConfig, LlmServeConfigError } from "../llm/llm-serve-config.js";
import { loadServeConfig, ServeConfigError } from "../serve-config.js";

describe("auth flags", () => {
  it("turns auth on with --auth control-plane (tracking URI from the flag or the environment) and --api-keys", () => {
    assert.equal(loadServeConfig(["./m"], {}, {}).auth, undefined);
    assert.deepEqual(loadServeConfig(["./m"], { auth: "control-plane", trackingUri: "http://cp:5000" }, {}).auth, {
      controlPlane: "http://cp:5000",
    });
    assert.deepEqual(
      loadServeConfig(["./m"], { auth: "control-plane", apiKeys: "keys.yaml" }, { SLIPWAY_TRACKING_URI: "http://cp" })
        .auth,
      { controlPlane: "http://cp", apiKeysFile: "keys.yaml" },
    );
    assert.equal(loadServeConfig(["./m"], { auth: "none" }, {}).auth, undefined);
    assert.deepEqual(loadLlmServeConfig({ upstream: ["a=http://u/v1"], apiKeys: "k.json" }, {}).auth, {
      apiKeysFile: "k.json",
    });
  });

  it("refuses bad values with the flag named", () => {
    assert.throws(
      () => loadServeConfig(["./m"], { auth: "control-plane" }, {}),
      (e: unknown) => e instanceof ServeConfigError && /--auth control-plane: give --tracking-uri/.test(e.message),
    );
    assert.throws(
      () => loadServeConfig(["./m"], { auth: "oidc" }, {}),
      (e: unknown) =>
        e instanceof ServeConfigError && /--auth: 'oidc' is not one of control-plane, none/.test(e.message),
    );
    assert.throws(
      () => loadLlmServeConfig({ upstream: ["a=http://u/v1"], auth: "control-plane", trackingUri: "cp:5000" }, {}),
      (e: unknown) => e instanceof LlmServeConfigError && /not an http\(s\) URL/.test(e.message),
    );
    assert.throws(
      () => loadLlmServeConfig({ upstream: ["a=http://u/v1"], apiKeys: " " }, {}),
      (e: unknown) => e instanceof LlmServeConfigError && /--api-keys: give the path/.test(e.message),
    );
  });
});
