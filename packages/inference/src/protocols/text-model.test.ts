/**
 * A real text classifier (TF-IDF + logistic regression, packaged by `@slipway/ml`, loaded by the
 * built-in `text-classifier` predictor) over every protocol, with the request examples of
 * serving-protocols.md.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } from "@slipway/ml";
import { saveModelPackage } from "@slipway/sdk";
import { get, post, startTestServer, type TestServer } from "../testing/test-server.js";
import { vertexSettings } from "./vertex.js";

let scratch: string;
let server: TestServer;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "slipway-text-serving-"));
  const texts = [
    "win a free prize now",
    "free money click here",
    "cheap pills free offer",
    "meeting moved to monday",
    "see you at 5 for the review",
    "lunch on friday with the team",
  ];
  const labels = ["spam", "spam", "spam", "ham", "ham", "ham"];
  const classifier = new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(texts, labels);
  const dir = join(scratch, "spam");
  await saveModelPackage(dir, textClassifierPackage(classifier));
  server = await startTestServer([{ name: "spam", dir, version: "1" }]);
});

after(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

type Records = { label: string; probabilities: number[] }[];

describe("a text classifier over every protocol", () => {
  it("answers MLflow's four JSON formats (and params) with one record per text", async () => {
    for (const body of [
      { dataframe_split: { columns: ["text"], data: [["free money"], ["see you at 5"]] } },
      { dataframe_records: [{ text: "free money" }, { text: "see you at 5" }] },
      { instances: ["free money", "see you at 5"] },
      { inputs: { text: ["free money", "see you at 5"] }, params: { threshold: 0.7 } },
    ]) {
      const r = await post(`${server.url}/invocations`, body);
      assert.equal(r.status, 200, r.text);
      const predictions = (r.json as { predictions: Records }).predictions;
      assert.deepEqual(
        predictions.map((p) => p.label),
        ["spam", "ham"],
        JSON.stringify(body),
      );
      assert.ok(predictions.every((p) => p.probabilities.length === 2));
    }
    const csv = await post(`${server.url}/invocations`, 'text\n"free money, free prize"\nsee you at 5\n', "text/csv");
    assert.deepEqual(
      (csv.json as { predictions: Records }).predictions.map((p) => p.label),
      ["spam", "ham"],
    );
  });

  it("answers KServe V2 with BYTES labels and FP64 probabilities", async () => {
    const r = await post(`${server.url}/v2/models/spam/infer`, {
      inputs: [{ name: "text", shape: [2], datatype: "BYTES", data: ["free money", "see you at 5"] }],
    });
    assert.equal(r.status, 200, r.text);
    const outputs = (r.json as { outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[] })
      .outputs;
    assert.deepEqual(outputs[0], { name: "label", shape: [2], datatype: "BYTES", data: ["spam", "ham"] });
    assert.deepEqual([outputs[1]!.datatype, outputs[1]!.shape], ["FP64", [2, 2]]);
    const meta = (await get(`${server.url}/v2/models/spam`)).json as { platform: string; inputs: unknown };
    assert.equal(meta.platform, "slipway_text-classifier");
    assert.deepEqual(meta.inputs, [{ name: "text", datatype: "BYTES", shape: [-1] }]);
  });

  it("answers Vertex AI with one prediction per instance", async () => {
    const r = await post(`${server.url}${vertexSettings({}, "spam").predictRoute}`, {
      instances: ["free money", "see you at 5"],
    });
    assert.deepEqual(
      (r.json as { predictions: Records }).predictions.map((p) => p.label),
      ["spam", "ham"],
    );
  });

  it("names the column when a text is not a string, and counts predictions per class", async () => {
    const r = await post(`${server.url}/invocations`, { instances: ["free money", 42] });
    assert.equal(r.status, 400);
    assert.match(
      (r.json as { message: string }).message,
      /column 'text' expects string but got an integer in row 1 \(1 of 2\)/,
    );
    const metrics = (await get(`${server.url}/metrics`)).text;
    assert.match(metrics, /slipway_inference_predictions_total\{model="spam",version="1",class="spam"\} \d+/);
    assert.match(metrics, /slipway_inference_predictions_total\{model="spam",version="1",class="ham"\} \d+/);
  });
});
