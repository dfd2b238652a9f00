/**
 * The data plane of deployments, in process: routing by request id (stable, in proportion to the weight), a canary
 * failure answered by the primary (and counted against the canary, unless the request was at fault), shadow copies
 * compared and never changing an answer (a full queue drops and counts), and the follower applying what the control
 * plane says — a canary loaded before it is routed to, a load failure reported, a promotion swapped in, a rollback
 * and a deleted deployment leaving the primary alone.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { MlflowError, type Deployment, type DeploymentStatsReport } from "@slipway/protocol";
import type { RawInput } from "../input/raw-input.js";
import type { Predictor } from "../predictors/predictor.js";
import { ModelSet } from "../serving/model-set.js";
import { ServedModel } from "../serving/served-model.js";
import { echoPredictor } from "../testing/test-server.js";
import { DeploymentFollower } from "./deployment-follower.js";
import type { DeploymentsClient } from "./deployments-client.js";
import { DeploymentRouter, routingBucket } from "./router.js";
import { ShadowRunner } from "./shadow.js";
import { VersionStats } from "./version-stats.js";

function raw(text: string): RawInput {
  return { form: "columns", rows: 1, columns: new Map([["text", [text]]]) };
}

async function model(version: string, predictor: Predictor = echoPredictor()): Promise<ServedModel> {
  const m = new ServedModel({ name: "spam", version, predictor });
  await m.start();
  return m;
}

/** An echo predictor whose predictions throw (or answer lower-case, for a shadow that disagrees). */
function variant(kind: "throws" | "lower" | "refuses"): Predictor {
  const base = echoPredictor();
  return {
    ...base,
    predict: async (batch, params) => {
      if (kind === "throws") throw new Error("predictor exploded");
      if (kind === "refuses") throw new MlflowError("BAD_REQUEST", "no such text");
      const p = await base.predict(batch, params);
      const label = p.outputs.get("label")!;
      const lowered = { ...label, data: (label.data as string[]).map((t) => t.toLowerCase()) } as typeof label;
      return { rows: p.rows, outputs: new Map([...p.outputs, ["label", lowered]]) };
    },
  };
}

async function setup(): Promise<{
  models: ModelSet;
  primary: ServedModel;
  stats: VersionStats;
  router: DeploymentRouter;
}> {
  const models = new ModelSet();
  const primary = await model("1");
  models.add(primary);
  const stats = new VersionStats();
  return { models, primary, stats, router: new DeploymentRouter({ servedName: "spam", models, stats }) };
}

describe("routing", () => {
  it("sends a request id the same way every time, and the weight's share of ids to the canary", () => {
    assert.equal(routingBucket("abc"), routingBucket("abc"));
    let below = 0;
    for (let i = 0; i < 20_000; i++) if (routingBucket(`request-${i}`) < 2500) below++;
    assert.ok(Math.abs(below / 20_000 - 0.25) < 0.015, `${below / 200}% below 25%`);
  });

  it("routes by request id; a canary failure is answered by the primary and counted against the canary", async () => {
    const { primary, stats, router } = await setup();
    const good = await model("2");
    router.set({ revision: 3, canary: { model: good, weight: 50 } });
    const first = await router.predict("same-id", primary, raw("hi"), undefined);
    for (let i = 0; i < 5; i++) {
      assert.equal((await router.predict("same-id", primary, raw("hi"), undefined)).model.version, first.model.version);
    }
    const broken = await model("3", variant("throws"));
    router.set({ revision: 4, canary: { model: broken, weight: 100 } });
    const answer = await router.predict("x", primary, raw("hi"), undefined);
    assert.equal(answer.model.version, "1");
    assert.deepEqual(answer.prediction.outputs.get("label")?.data, ["HI"]);
    const entries = stats.drain().filter((e) => e.revision === 4);
    assert.deepEqual(
      entries.map((e) => [e.role, e.version, e.requests, e.errors, e.client_errors, e.last_error]),
      [
        ["primary", "1", 1, 0, 0, undefined],
        ["canary", "3", 1, 1, 0, "predictor exploded"],
      ],
    );
    assert.equal(
      entries[0]!.latency_ms.reduce((a, b) => a + b, 0),
      1,
    );
  });

  it("a request the primary refuses too is the client's fault, not the canary's", async () => {
    const models = new ModelSet();
    const primary = await model("1", variant("refuses"));
    models.add(primary);
    const stats = new VersionStats();
    const router = new DeploymentRouter({ servedName: "spam", models, stats });
    router.set({ revision: 1, canary: { model: await model("2", variant("refuses")), weight: 100 } });
    await assert.rejects(router.predict("x", primary, raw("hi"), undefined), /no such text/);
    assert.deepEqual(
      stats.drain().map((e) => [e.role, e.errors, e.client_errors]),
      [
        ["primary", 0, 1],
        ["canary", 0, 1],
      ],
    );
  });

  it("other models pass through uncounted", async () => {
    const { stats, router } = await setup();
    const other = new ServedModel({ name: "iris", version: "7", predictor: echoPredictor() });
    await other.start();
    router.set({ revision: 1, canary: { model: await model("2"), weight: 100 } });
    assert.equal((await router.predict("x", other, raw("a"), undefined)).model.version, "7");
    assert.deepEqual(stats.drain(), []);
  });
});

describe("shadow", () => {
  it("compares copies with the primary's answers off the request path; a full queue drops and counts", async () => {
    const { primary, stats, router } = await setup();
    const outcomes: { ok: boolean; rows: number; agreed: number }[] = [];
    let drops = 0;
    const shadow = new ShadowRunner({
      model: await model("5", variant("lower")),
      maxQueue: 3,
      concurrency: 1,
      onOutcome: (o) => outcomes.push(o),
      onDrop: () => drops++,
    });
    router.set({ revision: 1, shadow });
    const answers = await Promise.all(
      ["a", "b", "c", "d", "1", "2"].map((t) => router.predict(`id-${t}`, primary, raw(t), undefined)),
    );
    assert.deepEqual(
      answers.map((a) => [a.model.version, (a.prediction.outputs.get("label")?.data as string[])[0]]),
      [
        ["1", "A"],
        ["1", "B"],
        ["1", "C"],
        ["1", "D"],
        ["1", "1"],
        ["1", "2"],
      ],
    );
    await shadow.close();
    assert.equal(outcomes.length + drops, 6);
    assert.ok(drops >= 1, "the queue of 3 overflowed");
    // letters disagree (A vs a), digits agree
    const agreed = outcomes.reduce((n, o) => n + o.agreed, 0);
    assert.ok(outcomes.every((o) => o.ok && o.rows === 1));
    assert.ok(agreed <= 2);
    assert.deepEqual(
      stats.drain().map((e) => e.role),
      ["primary"],
    );
  });

  it("a shadow that throws never fails a response", async () => {
    const { primary, router } = await setup();
    const outcomes: { ok: boolean; error?: string }[] = [];
    const shadow = new ShadowRunner({
      model: await model("5", variant("throws")),
      maxQueue: 10,
      onOutcome: (o) => outcomes.push(o),
      onDrop: () => undefined,
    });
    router.set({ revision: 1, shadow });
    const answer = await router.predict("id", primary, raw("x"), undefined);
    assert.equal(answer.model.version, "1");
    await shadow.close();
    assert.deepEqual(
      outcomes.map((o) => [o.ok, o.error]),
      [[false, "predictor exploded"]],
    );
  });
});

describe("following a deployment", () => {
  function deployment(overrides: Partial<Deployment>): Deployment {
    return {
      deployment_id: "d",
      name: "spam",
      model_uri: "models:/spam@champion",
      model_name: "spam",
      model_alias: "champion",
      primary_version: "1",
      strategy: "canary",
      revision: 1,
      report_interval_ms: 250,
      creation_timestamp: 0,
      last_updated_timestamp: 0,
      ...overrides,
    };
  }
  const canary = (state: "running" | "promoted" | "rolled_back", version: string, weight: number) => ({
    model_uri: `models:/spam/${version}`,
    version,
    weight,
    initial_weight: weight,
    step: 10,
    interval_ms: 1000,
    max_error_rate: 0.01,
    min_requests: 10,
    state,
    started_at: 0,
    step_started_at: 0,
  });

  it("loads a canary before routing to it, reports a load failure, swaps a promoted canary in, drops a rolled-back one", async () => {
    const { models, primary, stats, router } = await setup();
    const sent: DeploymentStatsReport[] = [];
    let answer: Deployment | Error = deployment({ canary: canary("running", "2", 20) });
    const api = {
      report: (_name: string, r: DeploymentStatsReport) => {
        sent.push(r);
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    } as unknown as DeploymentsClient;
    const loaded: ServedModel[] = [];
    const follower = new DeploymentFollower({
      api,
      deployment: "spam",
      models,
      servedName: "spam",
      router,
      stats,
      server: "test:1",
      reportIntervalMs: 3_600_000,
      load: async ({ uri }) => {
        await sleep(20);
        if (uri.endsWith("/3")) throw new Error("Cannot load 'models:/spam/3': damaged");
        const m = await model(uri.split("/").pop()!);
        loaded.push(m);
        return m;
      },
    });
    follower.start(deployment({ canary: canary("running", "2", 20) }));
    assert.equal(router.routing.weight, 0, "nothing is routed to a canary still loading");
    await sleep(60);
    assert.deepEqual([router.routing.canaryVersion, router.routing.weight], ["2", 20]);

    // a canary that fails to load: never routed to, reported with the next report
    answer = deployment({ revision: 2, canary: canary("running", "3", 50) });
    await follower.tick();
    await sleep(60);
    assert.equal(router.routing.canaryVersion, undefined);
    assert.equal(loaded[0]!.state, "closed", "the previous canary was drained and closed");
    await follower.tick();
    assert.deepEqual(sent.at(-1)!.models, [
      { role: "primary", version: "1", state: "ready" },
      { role: "canary", version: "3", state: "failed", error: "Cannot load 'models:/spam/3': damaged" },
    ]);

    // a new canary, then promoted: the warm canary becomes the primary, the old primary drains
    answer = deployment({ revision: 3, canary: canary("running", "4", 30) });
    await follower.tick();
    await sleep(60);
    assert.equal(router.routing.canaryVersion, "4");
    answer = deployment({ revision: 4, primary_version: "4", canary: canary("promoted", "4", 100) });
    await follower.tick();
    await sleep(20);
    assert.equal(models.get("spam")?.version, "4");
    assert.equal(models.get("spam"), loaded[1]);
    assert.equal(primary.state, "closed");
    assert.equal(router.routing.weight, 0);

    // the control plane unreachable: routing stays, counts are kept for the next report
    answer = deployment({ revision: 5, canary: canary("running", "2", 10) });
    await follower.tick();
    await sleep(60);
    await router.predict("x", models.get("spam")!, raw("q"), undefined);
    answer = new Error("connection refused");
    await follower.tick();
    assert.equal(router.routing.canaryVersion, "2");
    const kept = sent.at(-1)!.entries.reduce((n, e) => n + e.requests, 0);
    answer = deployment({ revision: 5, canary: canary("rolled_back", "2", 0) });
    await follower.tick();
    assert.equal(
      sent.at(-1)!.entries.reduce((n, e) => n + e.requests, 0),
      kept,
      "resent",
    );
    assert.equal(router.routing.canaryVersion, undefined);
    assert.equal(router.routing.weight, 0);

    // deleted: the primary keeps serving alone
    answer = new MlflowError("RESOURCE_DOES_NOT_EXIST", "Deployment 'spam' does not exist.");
    await follower.tick();
    assert.equal(models.get("spam")?.version, "4");
    await follower.close();
    assert.ok(loaded.every((m) => m === models.get("spam") || m.state === "closed"));
  });
});
