import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";

import { MlflowError } from "@slipway/protocol";

import { supportsMultipart } from "./artifact-repository.js";
import { LocalArtifactRepository } from "./local.js";
import { openArtifactRepository, SUPPORTED_ARTIFACT_SCHEMES } from "./registry.js";
import { S3ArtifactRepository } from "./s3.js";

const invalid =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof MlflowError && error.code === "INVALID_PARAMETER_VALUE" && pattern.test(error.message);

describe("openArtifactRepository", () => {
  it("opens local repositories for file: URIs and plain paths", async () => {
    const dir = join(tmpdir(), "slipway-registry");
    for (const uri of [dir, pathToFileURL(dir).href, `file:${dir}`, `FILE:${dir}`, `File://${dir}`]) {
      const repo = await openArtifactRepository(uri);
      assert.ok(repo instanceof LocalArtifactRepository, uri);
      assert.equal(repo.root, dir, uri);
      assert.equal(supportsMultipart(repo), false);
    }
    const relative = await openArtifactRepository("./relative/dir");
    assert.ok(relative instanceof LocalArtifactRepository);
    assert.equal(relative.root, join(process.cwd(), "relative", "dir"));
  });

  it("opens S3 repositories for s3: URIs, with options", async () => {
    const repo = await openArtifactRepository("s3://bucket/some/prefix", {
      s3: { endpoint: "http://127.0.0.1:9", accessKeyId: "a", secretAccessKey: "b" },
    });
    assert.ok(repo instanceof S3ArtifactRepository);
    assert.equal(repo.uri, "s3://bucket/some/prefix");
    assert.ok(supportsMultipart(repo));
    repo.close();
  });

  it("rejects unknown schemes, naming the supported ones", async () => {
    assert.deepEqual([...SUPPORTED_ARTIFACT_SCHEMES].sort(), ["file", "s3"]);
    await assert.rejects(openArtifactRepository("gs://bucket/x"), invalid(/'gs:'.*file:, s3:/));
    await assert.rejects(openArtifactRepository("mlflow-artifacts:/0/abc"), invalid(/'mlflow-artifacts:'/));
    await assert.rejects(openArtifactRepository("constructor:x"), invalid(/'constructor:'/));
    await assert.rejects(openArtifactRepository(""), invalid(/non-empty/));
    await assert.rejects(openArtifactRepository("s3://"), invalid(/Invalid S3 URI/));
  });

  it("does not load the AWS SDK unless an s3: URI is opened", () => {
    const registry = new URL(import.meta.url.endsWith(".ts") ? "./registry.ts" : "./registry.js", import.meta.url);
    const script = `
      import { createRequire } from "node:module";
      const { openArtifactRepository } = await import(${JSON.stringify(registry.href)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes("@aws-sdk"));
      await openArtifactRepository(${JSON.stringify(tmpdir())});
      const afterLocal = loaded();
      await openArtifactRepository("s3://bucket/x", { s3: { region: "us-east-1" } });
      console.log(JSON.stringify({ afterLocal, afterS3: loaded() }));
    `;
    const result = spawnSync(process.execPath, [...process.execArgv, "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const lastLine = result.stdout.trim().split("\n").at(-1) ?? "";
    assert.deepEqual(JSON.parse(lastLine), { afterLocal: false, afterS3: true });
  });
});
