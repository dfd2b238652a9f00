/** `slipway monitor apply`: monitors declared in slipway.yaml, against a real server process. */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseMonitorsFile } from "./commands/monitor-apply.js";
import { UsageError } from "./errors.js";
import { runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";

let server: ServerProcess;

before(async () => {
  server = await startServerProcess("slipway-monitor-apply-");
});

after(async () => {
  await server.stop();
});

const FILE = `
monitors:
  - name: spam-drift
    model: models:/spam@champion
    window: 1h
    schedule: "*/5 * * * *"
    alerts: [drift_share>0.3, acc=metric_drop:accuracy>0.05]
    metrics: { max_drop: 0.02, positive_label: spam }
    webhook: { url: "http://127.0.0.1:9/hook", secret_env: APPLY_TEST_SECRET }
  - name: iris-daily
    model: models:/iris/3
    window: 1d
    schedule: "@daily"
    reference: runs:/0123456789abcdef/reference.jsonl
    enabled: false
`;

async function slipway(args: string[], env: Record<string, string> = {}) {
  return runSlipway(args, { SLIPWAY_TRACKING_URI: server.url, APPLY_TEST_SECRET: "s3cret", ...env });
}

async function monitors(): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${server.url}/api/2.0/slipway/monitors`);
  return ((await response.json()) as { monitors?: Record<string, unknown>[] }).monitors ?? [];
}

describe("slipway monitor apply", () => {
  it("creates, updates and prunes monitors to match the file; --dry-run changes nothing", async () => {
    const file = join(server.dir, "slipway.yaml");
    await writeFile(file, FILE);
    const dry = await slipway(["monitor", "apply", "--file", file, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^spam-drift\s+create$/m);
    assert.equal((await monitors()).length, 0);

    const first = await slipway(["monitor", "apply", "--file", file]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^spam-drift\s+created$/m);
    assert.match(first.stdout, /^iris-daily\s+created$/m);
    const created = new Map((await monitors()).map((m) => [m.name, m]));
    assert.equal(created.get("spam-drift")!.model_alias, "champion");
    assert.equal(created.get("spam-drift")!.window_ms, 3_600_000);
    assert.equal((created.get("spam-drift")!.alerts as unknown[]).length, 2);
    assert.equal(created.get("iris-daily")!.model_version, "3");
    assert.equal(created.get("iris-daily")!.enabled, false);

    // the file changes: one monitor edited, one removed; --prune deletes what the file no longer declares
    await writeFile(file, FILE.replace("window: 1h", "window: 2h").replace(/ {2}- name: iris-daily[\s\S]*$/, ""));
    const second = await slipway(["monitor", "apply", "--file", file, "--prune", "--json"]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), {
      dry_run: false,
      plan: [
        { name: "spam-drift", action: "update" },
        { name: "iris-daily", action: "delete" },
      ],
    });
    const after = await monitors();
    assert.deepEqual(
      after.map((m) => [m.name, m.window_ms]),
      [["spam-drift", 7_200_000]],
    );
  });

  it("names the key and the problem in a bad file", async () => {
    const file = join(server.dir, "bad.yaml");
    await writeFile(
      file,
      "monitors:\n  - name: x\n    model: models:/spam@champion\n    window: 1h\n    schedule: '61 * * * *'\n",
    );
    const bad = await slipway(["monitor", "apply", "--file", file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /monitors\[0\]\.schedule: '61 \* \* \* \*': .*61/);
    const missing = await slipway(["monitor", "apply", "--file", join(server.dir, "nope.yaml")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--file: cannot read .*nope\.yaml/);
  });

  it("parses the file's syntax and refuses every kind of mistake", () => {
    const env = { SECRET: "x" };
    const [body] = parseMonitorsFile(
      "monitors:\n  - {name: a, model: 'models:/m@prod', window: 30m, schedule: '0 * * * *', webhook: {url: 'http://h/x', secret_env: SECRET}}\n",
      "f.yaml",
      env,
    );
    assert.deepEqual(body, {
      name: "a",
      model_name: "m",
      model_alias: "prod",
      window_ms: 1_800_000,
      schedule: "0 * * * *",
      alerts: [],
      webhook: { url: "http://h/x", secret: "x" },
    });
    const cases: [string, RegExp][] = [
      ["monitors: [", /^f\.yaml: /],
      ["other: 1", /expected a top-level 'monitors:' list/],
      [
        "monitors:\n  - {name: a, model: 'models:/m@p', window: 1h, schedule: '@daily', windw: 2}",
        /monitors\[0\]\.windw: unknown key/,
      ],
      [
        "monitors:\n  - {name: a, model: 'models:/m@p', window: 5s, schedule: '@daily'}",
        /monitors\[0\]\.window: '5s' is not a duration/,
      ],
      [
        "monitors:\n  - {name: a, model: 'models:/m/Production', window: 1h, schedule: '@daily'}",
        /monitors\[0\]\.model: .*not a stage/,
      ],
      [
        "monitors:\n  - {name: a, model: 'models:/m@p', window: 1h, schedule: '@daily', alerts: [drift_share]}",
        /alerts\[0\]: 'drift_share': drift_share needs a threshold/,
      ],
      [
        "monitors:\n  - {name: a, model: 'models:/m@p', window: 1h, schedule: '@daily', webhook: {url: 'http://h', secret: s}}",
        /webhook\.secret: unknown key/,
      ],
      [
        "monitors:\n  - {name: a, model: 'models:/m@p', window: 1h, schedule: '@daily', webhook: {url: 'http://h', secret_env: NOPE}}",
        /NOPE is not set/,
      ],
      [
        "monitors:\n  - {name: a, model: 'models:/m@p', window: 1h, schedule: '@daily'}\n  - {name: a, model: 'models:/m@p', window: 1h, schedule: '@daily'}",
        /'a' is declared twice/,
      ],
    ];
    for (const [source, message] of cases) {
      assert.throws(
        () => parseMonitorsFile(source, "f.yaml", env),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
        source,
      );
    }
  });
});
