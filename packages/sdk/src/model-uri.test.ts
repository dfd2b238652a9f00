import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelUriError, formatModelUri, parseModelUri } from "./model-uri.js";

describe("parseModelUri", () => {
  it("reads every form", () => {
    assert.deepEqual(parseModelUri("runs:/abc123/model"), { form: "run", runId: "abc123", path: "model" });
    assert.deepEqual(parseModelUri("runs:/abc123/nested/dir/"), { form: "run", runId: "abc123", path: "nested/dir" });
    assert.deepEqual(parseModelUri("runs:/abc123"), { form: "run", runId: "abc123", path: "" });
    assert.deepEqual(parseModelUri("models:/spam/3"), { form: "version", name: "spam", version: "3" });
    assert.deepEqual(parseModelUri("models:/spam@champion"), { form: "alias", name: "spam", alias: "champion" });
    assert.deepEqual(parseModelUri("models:/spam/production"), { form: "stage", name: "spam", stage: "Production" });
    assert.deepEqual(parseModelUri("models:/spam/None"), { form: "stage", name: "spam", stage: "None" });
    assert.deepEqual(parseModelUri("models:/spam/Latest"), { form: "latest", name: "spam" });
    assert.deepEqual(parseModelUri("models:/my model/1"), { form: "version", name: "my model", version: "1" });
    assert.deepEqual(parseModelUri("models:/a@b@c"), { form: "alias", name: "a@b", alias: "c" });
    assert.deepEqual(parseModelUri("file:///srv/models/spam"), { form: "local", path: "/srv/models/spam" });
    assert.deepEqual(parseModelUri("/srv/models/spam"), { form: "local", path: "/srv/models/spam" });
    assert.deepEqual(parseModelUri("models/spam", { cwd: "/work" }), { form: "local", path: "/work/models/spam" });
    assert.deepEqual(parseModelUri("mlflow-artifacts:/1/abc/artifacts/model"), {
      form: "artifact",
      artifactUri: "mlflow-artifacts:/1/abc/artifacts/model",
    });
  });

  it("formats parsed URIs back", () => {
    for (const uri of [
      "runs:/abc/model",
      "models:/spam/3",
      "models:/spam@champion",
      "models:/spam/Staging",
      "models:/spam/latest",
    ]) {
      assert.equal(formatModelUri(parseModelUri(uri)), uri);
    }
    assert.equal(formatModelUri(parseModelUri("models:/spam/staging")), "models:/spam/Staging");
  });

  it("refuses malformed URIs with a message that says what is wrong", () => {
    const bad = (uri: string, message: RegExp) =>
      assert.throws(
        () => parseModelUri(uri),
        (e: unknown) =>
          e instanceof ModelUriError &&
          e.code === "INVALID_PARAMETER_VALUE" &&
          e.uri === uri &&
          e.message.startsWith(`Invalid model URI '${uri}': `) &&
          message.test(e.message),
      );
    bad("", /a model URI is required/);
    bad("runs:", /runs:\/<run_id>\/<path>/);
    bad("runs:/", /runs:\/<run_id>\/<path>/);
    bad("runs://abc/model", /one slash after 'runs:'/);
    bad("runs:/abc/../../etc", /must stay inside the run/);
    bad("runs:/a b/model", /'a b' is not a run id/);
    bad("models:", /a models URI is models:\/<name>\/<version>/);
    bad("models:/", /a models URI is/);
    bad("models:/spam", /names a model but no version/);
    bad("models:/spam/", /nothing after the model name/);
    bad("models:/spam/1/extra", /too many parts/);
    bad(
      "models:/spam/Champion",
      /'Champion' is neither a version number, 'latest', nor a stage \(None, Staging, Production, Archived\)/,
    );
    bad("models:/spam@", /the alias after '@' is empty/);
    bad("models:/@champion", /the model name before '@' is empty/);
    bad("models:/spam@champion/1", /either an alias .* or a version or stage, not both/);
    bad("models:/ /1", /the model name is empty/);
    bad("models://profile/spam/1", /registry profiles/);
    bad("s3://bucket/model", /the scheme 's3:' is not supported/);
    bad("http://host/model", /the scheme 'http:' is not supported/);
  });
});
