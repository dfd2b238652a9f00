import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startServerProcess, type ServerProcess } from "../testing/harness.js";
import { HTTP_REFERENCE_PATH, renderHttpReference } from "./http-reference.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
let server: ServerProcess;
let document: Record<string, unknown>;

before(async () => {
  server = await startServerProcess("slipway-http-reference-", ["--auth"]);
  const response = await fetch(`${server.url}/api/2.0/slipway/openapi.json`);
  assert.equal(response.status, 200);
  document = (await response.json()) as Record<string, unknown>;
});
after(() => server.stop());

test("the committed HTTP reference is the one the server's OpenAPI document renders (run `npm run docs:reference`)", () => {
  assert.equal(readFileSync(resolve(repoRoot, HTTP_REFERENCE_PATH), "utf8"), renderHttpReference(document));
});

test("the OpenAPI document covers every operation with its schema and who may call it", () => {
  const paths = document.paths as Record<string, Record<string, Record<string, unknown>>>;
  const create = paths["/api/2.0/mlflow/experiments/create"]?.post;
  assert.ok(create, "experiments/create is listed");
  assert.deepEqual(
    (create.requestBody as { content: Record<string, { schema: { required: string[] } }> }).content["application/json"]!
      .schema.required,
    ["name"],
  );
  assert.equal(create["x-slipway-access"], "any signed-in user");
  // GET routes take their fields as query parameters; path parameters are named
  const getRun = paths["/api/2.0/mlflow/runs/get"]?.get as { parameters: { name: string; in: string }[] };
  assert.ok(getRun.parameters.some((p) => p.name === "run_id" && p.in === "query"));
  const monitor = paths["/api/2.0/slipway/monitors/{name}"]?.get as { parameters: { name: string; in: string }[] };
  assert.ok(monitor.parameters.some((p) => p.name === "name" && p.in === "path"));
  assert.match(
    String(paths["/api/2.0/mlflow/experiments/delete"]?.post?.["x-slipway-access"]),
    /MANAGE on the experiment/,
  );
  // the /ajax-api mirror and the UI's catch-all are not listed twice or at all
  assert.ok(!Object.keys(paths).some((p) => p.startsWith("/ajax-api/") || p === "/{path}"));
  // every operation says who may call it: a route without a policy would read "no policy"
  const ops = Object.values(paths).flatMap((methods) => Object.values(methods));
  assert.ok(ops.length > 100, `${ops.length} operations`);
  // with --auth the auth module's routes are served, MLflow's among them
  assert.equal(paths["/api/2.0/mlflow/users/create"]?.post?.["x-slipway-access"], "admins");
  assert.ok(
    ops.every(
      (op) => typeof op["x-slipway-access"] === "string" && !String(op["x-slipway-access"]).includes("no policy"),
    ),
  );
});
