/**
 * The deployments API over HTTP on a real server: bad definitions refused with precise messages (weight outside
 * 0–100, an unknown model, alias or version, a canary that is not a version of the primary's model or is the
 * primary's version, a canary and a shadow on one version, ...), every answer checked against its schema, paging,
 * the stats endpoint, and the server's own controller rolling a failing canary back from reported traffic.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { Deployment, DeploymentEvent, emptyLatencyBuckets } from "@slipway/protocol";
import { call, type Answer } from "../../testing/monitors.js";
import { startTestServer, type TestServer } from "../../testing/server.js";

const API = "/api/2.0/slipway";
let server: TestServer;

function conforms(schema: TSchema, value: unknown): void {
  const errors = [...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`);
  assert.deepEqual(errors, [], JSON.stringify(value).slice(0, 400));
}

const req = (method: string, path: string, body?: unknown): Promise<Answer> =>
  call(server.url, method, `${API}${path}`, body);

async function mlflow(path: string, body: unknown): Promise<void> {
  const answer = await call(server.url, "POST", `/api/2.0/mlflow/${path}`, body);
  assert.equal(answer.status, 200, answer.text);
}

async function refused(body: unknown, status: number, code: string, message: string): Promise<void> {
  const answer = await req("POST", "/deployments", body);
  assert.equal(answer.status, status, answer.text);
  assert.deepEqual(answer.json, { error_code: code, message });
}

before(async () => {
  server = await startTestServer();
  for (const name of ["spam", "iris"]) {
    await mlflow("registered-models/create", { name });
    for (let i = 1; i <= 3; i++) await mlflow("model-versions/create", { name, source: `s3://bucket/${name}/${i}` });
    await mlflow("registered-models/alias", { name, alias: "champion", version: "1" });
    await mlflow("registered-models/alias", { name, alias: "challenger", version: "2" });
  }
});

after(async () => {
  await server.stop();
});

describe("deployments over HTTP", () => {
  const primary = "models:/spam@champion";
  const canary = (extra: Record<string, unknown> = {}) => ({
    model_uri: "models:/spam@challenger",
    weight: 10,
    ...extra,
  });

  it("refuses bad definitions with precise messages, creating nothing", async () => {
    const bad = "INVALID_PARAMETER_VALUE";
    const missing = "RESOURCE_DOES_NOT_EXIST";
    await refused(
      { name: "d", model_uri: primary, canary: canary({ weight: 120 }) },
      400,
      bad,
      "Invalid value 120 for parameter 'canary.weight': expected a number from 0 to 100.",
    );
    await refused(
      { name: "d", model_uri: primary, canary: canary({ weight: -1 }) },
      400,
      bad,
      "Invalid value -1 for parameter 'canary.weight': expected a number from 0 to 100.",
    );
    await refused({ name: "d" }, 400, bad, "Missing value for required parameter 'model_uri'.");
    await refused(
      { name: "d", model_uri: primary, canary: { model_uri: "models:/spam/2" } },
      400,
      bad,
      "Missing value for required parameter 'canary.weight'.",
    );
    await refused(
      { name: "d", model_uri: primary, canary: canary({ wieght: 5 }) },
      400,
      bad,
      "Unknown parameter 'canary.wieght'.",
    );
    await refused(
      { name: "d", model_uri: primary, canary: canary({ interval_ms: 10 }) },
      400,
      bad,
      "Invalid value 10 for parameter 'canary.interval_ms': expected an integer from 1000 to 86400000.",
    );
    await refused(
      { name: "d", model_uri: "models:/nope@champion" },
      404,
      missing,
      "model_uri 'models:/nope@champion': there is no registered model 'nope'.",
    );
    await refused(
      { name: "d", model_uri: "models:/spam@champoin" },
      404,
      missing,
      "model_uri 'models:/spam@champoin': the registered model 'spam' has no alias 'champoin' (its aliases: challenger → v2, champion → v1).",
    );
    await refused(
      { name: "d", model_uri: primary, canary: { model_uri: "models:/spam/9", weight: 5 } },
      404,
      missing,
      "canary.model_uri 'models:/spam/9': the registered model 'spam' has no version 9.",
    );
    await refused(
      { name: "d", model_uri: "runs:/abc/model" },
      400,
      bad,
      "Invalid value for parameter 'model_uri': 'runs:/abc/model' is not models:/NAME@ALIAS or models:/NAME/VERSION (e.g. models:/spam@champion, models:/spam/3).",
    );
    await refused(
      { name: "spam canary", model_uri: primary },
      400,
      bad,
      "Invalid value 'spam canary' for parameter 'name': a deployment name is letters, digits, '.', '_' and '-', starting with a letter or digit.",
    );
    await refused(
      { name: "d", model_uri: primary, canary: { model_uri: "models:/spam/1", weight: 5 } },
      400,
      bad,
      "Invalid value for parameter 'canary.model_uri': 'models:/spam/1' is version 1, which the primary (models:/spam@champion) serves already; there is nothing to roll out.",
    );
    await refused(
      { name: "d", model_uri: primary, canary: { model_uri: "models:/iris/2", weight: 5 } },
      400,
      bad,
      "Invalid value for parameter 'canary.model_uri': 'models:/iris/2' is not a version of 'spam'; a canary is promoted by moving the primary's alias, so it must be a version of the same registered model.",
    );
    await refused(
      { name: "d", model_uri: "models:/spam/1", canary: canary() },
      400,
      bad,
      "A canary needs a primary that follows an alias (models:/spam@ALIAS): it is promoted by moving that alias, and the primary is pinned to version 1.",
    );
    await refused(
      { name: "d", model_uri: primary, canary: canary(), shadow: { model_uri: "models:/spam/2" } },
      400,
      bad,
      "The canary and the shadow are both version 2 of 'spam': a version is either routed to (canary) or mirrored (shadow), not both.",
    );
    await refused(
      { name: "d", model_uri: primary, shadow: { model_uri: "models:/spam@champion" } },
      400,
      bad,
      "Invalid value for parameter 'shadow.model_uri': 'models:/spam@champion' is version 1, which the primary serves; a shadow must be another version.",
    );
    const list = await req("GET", "/deployments");
    assert.deepEqual(list.json, { deployments: [] });
  });

  it("creates, lists in pages, reads, reports, rolls a failing canary back by itself, and deletes", async () => {
    let answer = await req("POST", "/deployments", {
      name: "spam",
      model_uri: primary,
      canary: canary({ step: 20, interval_ms: 1000, min_requests: 10, max_latency_p99_ms: 50 }),
      shadow: { model_uri: "models:/spam/3", max_queue: 10 },
    });
    assert.equal(answer.status, 200, answer.text);
    conforms(Deployment, answer.json.deployment);
    const created = answer.json.deployment as Deployment;
    assert.deepEqual(
      [created.strategy, created.primary_version, created.canary?.version, created.shadow?.version, created.revision],
      ["canary", "1", "2", "3", 1],
    );
    answer = await req("POST", "/deployments", { name: "spam", model_uri: primary });
    assert.deepEqual([answer.status, answer.json.error_code], [400, "RESOURCE_ALREADY_EXISTS"]);
    answer = await req("POST", "/deployments", { name: "spam-2", model_uri: primary, canary: canary() });
    assert.deepEqual(answer.json, {
      error_code: "RESOURCE_CONFLICT",
      message:
        "Deployment 'spam' already runs a canary on models:/spam@champion (version 2); one alias has one canary at a time.",
    });
    assert.equal(answer.status, 409);
    assert.equal((await req("POST", "/deployments", { name: "iris", model_uri: "models:/iris/2" })).status, 200);

    const page1 = await req("GET", "/deployments?max_results=1");
    assert.deepEqual(
      (page1.json.deployments as Deployment[]).map((d) => d.name),
      ["iris"],
    );
    const page2 = await call(
      server.url,
      "GET",
      `/ajax-api/2.0/slipway/deployments?max_results=1&page_token=${page1.json.next_page_token as string}`,
    );
    assert.deepEqual(
      (page2.json.deployments as Deployment[]).map((d) => d.name),
      ["spam"],
    );
    assert.equal(page2.json.next_page_token, undefined);

    answer = await req("POST", "/deployments/spam/stats", {
      server: "s1",
      report_id: "x",
      entries: [
        { revision: 1, role: "canary", version: "2", requests: 1, errors: 0, client_errors: 0, latency_ms: [1] },
      ],
      models: [],
    });
    assert.equal(answer.status, 400);
    assert.equal(
      answer.json.message,
      "Invalid value for parameter 'entries[0].latency_ms': 1 counts, expected 32 (one per bucket of DEPLOYMENT_LATENCY_BOUNDS_MS, and one above the last).",
    );

    // the canary fails what it gets: the controller (every 500 ms) rolls it back from the reported traffic
    const latency = emptyLatencyBuckets();
    latency[5] = 8;
    answer = await req("POST", "/deployments/spam/stats", {
      server: "s1",
      report_id: "r1",
      entries: [
        { revision: 1, role: "primary", version: "1", requests: 8, errors: 0, client_errors: 0, latency_ms: latency },
        {
          revision: 1,
          role: "canary",
          version: "2",
          requests: 8,
          errors: 8,
          client_errors: 0,
          latency_ms: latency,
          last_error: "boom",
        },
      ],
      models: [
        { role: "primary", version: "1", state: "ready" },
        { role: "canary", version: "2", state: "ready" },
      ],
    });
    assert.equal(answer.status, 200, answer.text);
    conforms(Deployment, answer.json.deployment);
    let d: Deployment | undefined;
    const deadline = Date.now() + 5000;
    do {
      await sleep(100);
      d = (await req("GET", "/deployments/spam")).json.deployment as Deployment;
    } while (d.canary?.state === "running" && Date.now() < deadline);
    conforms(Deployment, d);
    assert.deepEqual([d.canary?.state, d.canary?.weight, d.primary_version, d.revision], ["rolled_back", 0, "1", 2]);
    assert.match(
      d.canary!.reason!,
      /^canary: 100% errors, .* over 8 requests at 10%: error rate above the limit of 1%/,
    );
    assert.deepEqual(
      d.servers?.map((s) => s.server),
      ["s1"],
    );

    const events = await req("GET", "/deployments/spam/events?max_results=1");
    assert.equal(events.status, 200, events.text);
    for (const e of events.json.events as unknown[]) conforms(DeploymentEvent, e);
    assert.deepEqual(
      (events.json.events as DeploymentEvent[]).map((e) => [e.kind, e.from_weight, e.to_weight, e.version]),
      [["rolled_back", 10, 0, "2"]],
    );
    assert.equal(typeof events.json.next_page_token, "string");

    answer = await req("POST", "/deployments/spam/promote", {});
    assert.deepEqual(answer.json, {
      error_code: "INVALID_STATE_TRANSITION",
      message: "Deployment 'spam' has no running canary (its canary, version 2, was rolled back): nothing to promote.",
    });

    assert.equal((await req("DELETE", "/deployments/spam")).status, 200);
    answer = await req("GET", "/deployments/spam");
    assert.deepEqual([answer.status, answer.json.message], [404, "Deployment 'spam' does not exist."]);
    answer = await req("POST", "/deployments/spam/stats", { server: "s", report_id: "y", entries: [], models: [] });
    assert.equal(answer.status, 404);
  });
});
