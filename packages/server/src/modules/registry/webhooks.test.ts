/**
 * Registry webhooks end to end: the CRUD API and its errors, and deliveries to a real HTTP receiver (signature,
 * order, retries after 500s and timeouts, a receiver that is down for a while, disabled webhooks).
 */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { TrackingClient, verifyWebhookSignature } from "@slipway/sdk";
import { startTestServer, type TestServer } from "../../testing/server.js";
import { WebhookService, type Webhook } from "./webhooks.js";

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { event_id: string; kind: string; data: Record<string, unknown>; delivered_at: number };
}

interface Receiver {
  port: number;
  url: string;
  received: Received[];
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** How the receiver answers its n-th request (0-based): a status, and an optional delay before answering. */
type Answer = (n: number) => { status: number; delayMs?: number };

async function startReceiver(answer: Answer = () => ({ status: 200 }), port = 0): Promise<Receiver> {
  const received: Received[] = [];
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const { status, delayMs } = answer(requests++);
      const reply = (): void => {
        if (status >= 200 && status < 300) {
          received.push({ headers: req.headers, raw, body: JSON.parse(raw) as Received["body"] });
        }
        res.writeHead(status, { "content-type": "text/plain" }).end("ok");
      };
      if (delayMs === undefined) reply();
      else setTimeout(reply, delayMs);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}/hook`,
    received,
    async waitFor(count, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.length} of ${count} deliveries`);
        await sleep(20);
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const SECRET = "s3cret-for-tests";

describe("registry webhooks", () => {
  let server: TestServer;
  let client: TrackingClient;
  let base: string;

  before(async () => {
    server = await startTestServer({ webhooks: { retryBaseMs: 50, retryMaxMs: 200, timeoutMs: 300, pollMs: 100 } });
    client = new TrackingClient({ trackingUri: server.url });
    base = `${server.url}/api/2.0/mlflow/webhooks`;
  });
  after(async () => {
    await server.stop();
  });

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }

  async function create(body: Record<string, unknown>): Promise<Webhook> {
    const { status, json } = await call("POST", "", body);
    assert.equal(status, 200, JSON.stringify(json));
    return (json as { webhook: Webhook }).webhook;
  }

  async function remove(id: string): Promise<void> {
    assert.equal((await call("DELETE", `/${id}`)).status, 200);
  }

  async function deliveries(id: string): Promise<{ event_id: number; attempt: number; status_code: number | null }[]> {
    return new WebhookService(server.db).deliveries(id);
  }

  it("creates, lists, gets, updates and deletes webhooks, never returning the secret", async () => {
    const created = await create({
      name: "ci",
      description: "notify CI",
      url: "https://example.invalid/hook",
      events: ["alias.set", "alias.deleted"],
      secret: SECRET,
    });
    assert.match(created.webhook_id, /^[0-9a-f-]{36}$/);
    assert.equal(created.name, "ci");
    assert.equal(created.description, "notify CI");
    assert.deepEqual(created.events, ["alias.set", "alias.deleted"]);
    assert.equal(created.status, "ACTIVE");
    assert.equal("secret" in created, false);

    const listed = await call("GET", "");
    assert.equal(listed.status, 200);
    assert.deepEqual(
      (listed.json as { webhooks: Webhook[] }).webhooks.map((w) => w.webhook_id),
      [created.webhook_id],
    );
    assert.equal(JSON.stringify(listed.json).includes(SECRET), false);

    const ajax = await fetch(`${server.url}/ajax-api/2.0/mlflow/webhooks/${created.webhook_id}`);
    assert.equal(ajax.status, 200);
    assert.deepEqual(((await ajax.json()) as { webhook: Webhook }).webhook, created);

    const updated = await call("PATCH", `/${created.webhook_id}`, { name: "ci-2", status: "DISABLED" });
    assert.equal(updated.status, 200);
    const webhook = (updated.json as { webhook: Webhook }).webhook;
    assert.equal(webhook.name, "ci-2");
    assert.equal(webhook.status, "DISABLED");
    assert.equal(webhook.url, created.url);
    assert.equal(JSON.stringify(updated.json).includes(SECRET), false);

    await remove(created.webhook_id);
    const gone = await call("GET", `/${created.webhook_id}`);
    assert.equal(gone.status, 404);
    assert.equal((gone.json as { error_code: string }).error_code, "RESOURCE_DOES_NOT_EXIST");
  });

  it("rejects bad input with INVALID_PARAMETER_VALUE and unknown ids with RESOURCE_DOES_NOT_EXIST", async () => {
    const good = { name: "x", url: "http://127.0.0.1:1/h", events: ["alias.set"] };
    for (const bad of [
      { ...good, url: "ftp://example.com/h" },
      { ...good, url: "not a url" },
      { ...good, url: undefined },
      { ...good, events: ["alias.exploded"] },
      { ...good, events: [] },
      { ...good, name: "" },
      { ...good, status: "PAUSED" },
    ]) {
      const { status, json } = await call("POST", "", bad);
      assert.equal(status, 400, JSON.stringify(bad));
      assert.equal((json as { error_code: string }).error_code, "INVALID_PARAMETER_VALUE");
    }
    const missing = "00000000-0000-0000-0000-000000000000";
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { name: "y" }],
      ["DELETE", undefined],
    ] as const) {
      const { status, json } = await call(method, `/${missing}`, body);
      assert.equal(status, 404, method);
      assert.equal((json as { error_code: string }).error_code, "RESOURCE_DOES_NOT_EXIST");
    }
    const created = await create(good);
    const bad = await call("PATCH", `/${created.webhook_id}`, { url: "file:///etc/passwd" });
    assert.equal(bad.status, 400);
    await remove(created.webhook_id);
  });

  it("delivers version and alias events in order, signed, and only those after its creation", async () => {
    await client.createRegisteredModel({ name: "wh-order" });
    await client.createModelVersion({ name: "wh-order", source: "s3://b/wh-order/1" }); // before the webhook
    const receiver = await startReceiver();
    const webhook = await create({
      name: "order",
      url: receiver.url,
      events: ["model_version.created", "alias.set"],
      secret: SECRET,
    });
    try {
      await client.createModelVersion({ name: "wh-order", source: "s3://b/wh-order/2" });
      await client.setRegisteredModelAlias({ name: "wh-order", alias: "champion", version: "1" });
      await client.setRegisteredModelAlias({ name: "wh-order", alias: "champion", version: "2" });
      await receiver.waitFor(3);
      await sleep(200);
      assert.equal(receiver.received.length, 3);
      const bodies = receiver.received.map((r) => r.body);
      assert.deepEqual(
        bodies.map((b) => [b.kind, b.data.version, b.data.from_version]),
        [
          ["model_version.created", "2", undefined],
          ["alias.set", "1", undefined],
          ["alias.set", "2", "1"],
        ],
      );
      const ids = bodies.map((b) => Number(b.event_id));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      assert.equal(new Set(ids).size, 3);
      for (const { headers, raw, body } of receiver.received) {
        assert.equal(body.data.event_id, body.event_id);
        assert.equal(body.data.name, "wh-order");
        assert.equal(typeof body.delivered_at, "number");
        assert.equal(headers["x-slipway-event"], body.kind);
        assert.match(String(headers["x-slipway-delivery"]), /^[0-9a-f-]{36}$/);
        const timestamp = String(headers["x-slipway-timestamp"]);
        assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60);
        const signature = String(headers["x-slipway-signature"]);
        assert.equal(verifyWebhookSignature(SECRET, timestamp, raw, signature), true);
        assert.equal(verifyWebhookSignature("wrong", timestamp, raw, signature), false);
        assert.equal(verifyWebhookSignature(SECRET, timestamp, `${raw} `, signature), false);
        assert.equal(verifyWebhookSignature(SECRET, timestamp, raw, "sha256=00"), false);
      }
    } finally {
      await remove(webhook.webhook_id);
      await receiver.close();
    }
  });

  it("retries an event answered with 500 until it gets a 2xx, recording each attempt", async () => {
    await client.createRegisteredModel({ name: "wh-retry" });
    const receiver = await startReceiver((n) => ({ status: n < 2 ? 500 : 200 }));
    const webhook = await create({ name: "retry", url: receiver.url, events: ["model_version.created"] });
    try {
      await client.createModelVersion({ name: "wh-retry", source: "s3://b/wh-retry/1" });
      await client.createModelVersion({ name: "wh-retry", source: "s3://b/wh-retry/2" });
      await receiver.waitFor(2);
      assert.deepEqual(
        receiver.received.map((r) => r.body.data.version),
        ["1", "2"],
      );
      assert.equal("x-slipway-signature" in receiver.received[0]!.headers, false);
      const attempts = await deliveries(webhook.webhook_id);
      const first = Number(receiver.received[0]!.body.event_id);
      assert.deepEqual(
        attempts.filter((a) => a.event_id === first).map((a) => [a.attempt, a.status_code]),
        [
          [1, 500],
          [2, 500],
          [3, 200],
        ],
      );
    } finally {
      await remove(webhook.webhook_id);
      await receiver.close();
    }
  });

  it("delivers every event missed while the receiver was down, in order, once it is back", async () => {
    await client.createRegisteredModel({ name: "wh-down" });
    await client.createModelVersion({ name: "wh-down", source: "s3://b/wh-down/1" });
    await client.createModelVersion({ name: "wh-down", source: "s3://b/wh-down/2" });
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close(); // nothing listens on `port` now
    const webhook = await create({
      name: "down",
      url: `http://127.0.0.1:${port}/hook`,
      events: ["alias.set", "alias.deleted"],
    });
    let receiver: Receiver | undefined;
    try {
      await client.setRegisteredModelAlias({ name: "wh-down", alias: "prod", version: "1" });
      await client.setRegisteredModelAlias({ name: "wh-down", alias: "prod", version: "2" });
      await client.deleteRegisteredModelAlias({ name: "wh-down", alias: "prod" });
      await sleep(600);
      const failed = await deliveries(webhook.webhook_id);
      assert.ok(failed.length >= 2, `attempts while down: ${failed.length}`);
      assert.ok(failed.every((a) => a.status_code === null));
      assert.equal(new Set(failed.map((a) => a.event_id)).size, 1, "never skips ahead of the failing event");

      receiver = await startReceiver(undefined, port);
      await receiver.waitFor(3);
      await sleep(200);
      assert.deepEqual(
        receiver.received.map((r) => [r.body.kind, r.body.data.version]),
        [
          ["alias.set", "1"],
          ["alias.set", "2"],
          ["alias.deleted", "2"],
        ],
      );
    } finally {
      await remove(webhook.webhook_id);
      await receiver?.close();
    }
  });

  it("sends nothing to a disabled webhook", async () => {
    await client.createRegisteredModel({ name: "wh-off" });
    const off = await startReceiver();
    const on = await startReceiver();
    const disabled = await create({ name: "off", url: off.url, events: ["model_version.created"], status: "DISABLED" });
    const active = await create({ name: "on", url: on.url, events: ["model_version.created"] });
    try {
      await client.createModelVersion({ name: "wh-off", source: "s3://b/wh-off/1" });
      await on.waitFor(1);
      await sleep(300);
      assert.equal(off.received.length, 0);
      assert.deepEqual(await deliveries(disabled.webhook_id), []);
    } finally {
      await remove(disabled.webhook_id);
      await remove(active.webhook_id);
      await off.close();
      await on.close();
    }
  });

  it("times out a slow receiver and retries the event", async () => {
    await client.createRegisteredModel({ name: "wh-slow" });
    const receiver = await startReceiver((n) => (n === 0 ? { status: 200, delayMs: 1000 } : { status: 200 }));
    const webhook = await create({ name: "slow", url: receiver.url, events: ["model_version.created"] });
    try {
      await client.createModelVersion({ name: "wh-slow", source: "s3://b/wh-slow/1" });
      const deadline = Date.now() + 5000;
      let attempts = await deliveries(webhook.webhook_id);
      while (!attempts.some((a) => a.status_code === 200) && Date.now() < deadline) {
        await sleep(50);
        attempts = await deliveries(webhook.webhook_id);
      }
      assert.deepEqual(
        attempts.map((a) => [a.attempt, a.status_code]),
        [
          [1, null],
          [2, 200],
        ],
      );
      const timedOut = await server.db.get<{ error: string }>(
        "SELECT error FROM webhook_deliveries WHERE webhook_id = ? AND attempt = 1",
        [webhook.webhook_id],
      );
      assert.match(timedOut?.error ?? "", /timed out/);
    } finally {
      await remove(webhook.webhook_id);
      await receiver.close();
    }
  });
});
