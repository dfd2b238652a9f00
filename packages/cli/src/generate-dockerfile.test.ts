/**
 * End to end: `slipway models generate-dockerfile` writes a build context, and its entry point — run as
 * SageMaker runs a container, with the argument `serve` — serves the baked-in model. (The image itself
 * cannot be built here: these machines have no Docker engine.)
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } from "@slipway/ml";
import { Slipway, TrackingClient, logModelPackage, setAlias } from "@slipway/sdk";
import { BIN, runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";

let tracking: ServerProcess;

before(async () => {
  tracking = await startServerProcess("slipway-dockerfile-");
  const client = new TrackingClient({ trackingUri: tracking.url, maxRetries: 0 });
  const run = await new Slipway({ client, handleProcessExit: false }).startRun({ captureEnvironment: false });
  const classifier = new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(
    ["win a free prize", "free money now", "meeting on monday", "see the report"],
    ["spam", "spam", "ham", "ham"],
  );
  await logModelPackage(run, textClassifierPackage(classifier), "model", { registeredModelName: "spam" });
  await setAlias(client, "spam", "champion", 1);
  await run.end();
});
after(() => tracking.stop());

test("writes Dockerfile, entry point and model; the entry point serves it as SageMaker starts it", async () => {
  const out = join(tracking.dir, "image");
  const env = { SLIPWAY_TRACKING_URI: tracking.url, SLIPWAY_MODEL_CACHE: join(tracking.dir, "cache") };
  const r = await runSlipway(
    ["models", "generate-dockerfile", "models:/spam@champion", "--output-directory", out],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /registered model spam version 1, FROM slipway:latest/);
  assert.deepEqual((await readdir(out)).sort(), ["Dockerfile", "model", "serve"]);
  assert.ok((await readdir(join(out, "model"))).includes("MLmodel"));
  const dockerfile = await readFile(join(out, "Dockerfile"), "utf8");
  for (const line of [
    "FROM ${BASE_IMAGE}",
    "COPY model/ /opt/ml/model/",
    'ENTRYPOINT ["/usr/local/bin/serve"]',
    "EXPOSE 8080",
  ]) {
    assert.ok(dockerfile.includes(line), line);
  }
  assert.equal((await stat(join(out, "serve"))).mode & 0o111, 0o111, "the entry point is executable");

  const again = await runSlipway(
    ["models", "generate-dockerfile", "models:/spam@champion", "--output-directory", out],
    env,
  );
  assert.equal(again.code, 2);
  assert.match(again.stderr, /is not empty/);

  // the entry point, as `docker run IMAGE serve` runs it (paths inside the image given by variables)
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  const child = spawn(join(out, "serve"), ["serve"], {
    env: {
      ...process.env,
      SLIPWAY_BIN: BIN,
      SLIPWAY_MODEL_DIR: join(out, "model"),
      SAGEMAKER_BIND_TO_PORT: String(port),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = "";
      child.stdout.on("data", (c: Buffer) => {
        text += c.toString();
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(text);
        if (m) resolve(`http://127.0.0.1:${m[1]}`);
      });
      child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${text}`)));
    });
    assert.equal((await fetch(`${url}/ping`)).status, 200);
    const response = await fetch(`${url}/invocations`, {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: "text\nfree prize money\n",
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { predictions: { label: string }[] };
    assert.equal(body.predictions[0]?.label, "spam");
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
  }
});
