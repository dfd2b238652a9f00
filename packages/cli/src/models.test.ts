/** End to end: `slipway models …` in child processes against a real server process. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import type { AliasHistoryResponse, ModelVersion, RegisteredModel } from "@slipway/protocol";
import { TrackingClient, withReason } from "@slipway/sdk";
import { runSlipway, startServerProcess, type Result, type ServerProcess } from "./testing/harness.js";

let server: ServerProcess;
let url: string;

function slipway(args: string[], env: Record<string, string> = { SLIPWAY_TRACKING_URI: url }): Promise<Result> {
  return runSlipway(args, env);
}

/** Runs the command, expects exit 0 and returns stdout. */
async function ok(args: string[], env?: Record<string, string>): Promise<string> {
  const r = await slipway(args, env);
  assert.equal(r.code, 0, `slipway ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The cells of a table's data rows, cut at the columns its line of dashes marks (empty cells stay in place). */
function rows(text: string): string[][] {
  const lines = text.split("\n");
  const dashes = lines.findIndex((l) => /^-+( +-+)*$/.test(l));
  assert.ok(dashes > 0, text);
  const starts = [...lines[dashes]!.matchAll(/-+/g)].map((m) => m.index);
  const out: string[][] = [];
  for (const line of lines.slice(dashes + 1)) {
    if (line.trim() === "") break;
    out.push(starts.map((start, i) => line.slice(start, starts[i + 1]).trim()));
  }
  return out;
}

before(async () => {
  server = await startServerProcess("slipway-models-");
  url = server.url;
});

after(async () => {
  await server.stop();
});

describe("slipway models", () => {
  let client: TrackingClient;
  const runIds: string[] = [];

  before(async () => {
    // two finished training runs, each with params, a metric and its datasets (log-inputs)
    client = new TrackingClient({ trackingUri: url, maxRetries: 0 });
    const { experiment_id } = await client.createExperiment({ name: "churn-training" });
    for (const [i, [lr, recall]] of (
      [
        ["0.1", 0.8],
        ["0.05", 0.84],
      ] as const
    ).entries()) {
      const { run } = await client.createRun({ experiment_id, run_name: `train-v${i + 1}` });
      const runId = run.info.run_id;
      runIds.push(runId);
      await client.logBatch({
        run_id: runId,
        params: [
          { key: "lr", value: lr },
          { key: "epochs", value: "10" },
        ],
        metrics: [{ key: "recall", value: recall, timestamp: Date.now(), step: 9 }],
      });
      await client.logInputs({
        run_id: runId,
        datasets: [
          {
            tags: [{ key: "mlflow.data.context", value: "training" }],
            dataset: {
              name: "churn-train",
              digest: `d1g3st${i + 1}`,
              source_type: "local",
              source: `{"uri": "/data/churn-2026-0${i + 2}.parquet"}`,
            },
          },
          {
            tags: [{ key: "mlflow.data.context", value: "eval" }],
            dataset: {
              name: "churn-eval",
              digest: "e0e0e0",
              source_type: "local",
              source: '{"uri": "/data/eval.parquet"}',
            },
          },
        ],
      });
      await client.updateRun({ run_id: runId, status: "FINISHED", end_time: Date.now() });
    }
  });

  it("registers versions from runs, creating the model on first use", async () => {
    const first = await ok(["models", "register", `runs:/${runIds[0]}/model`, "churn"]);
    assert.equal(
      first,
      `Created registered model 'churn'\nRegistered 'churn' version 1 from runs:/${runIds[0]}/model\n`,
    );
    const second = JSON.parse(
      await ok(["models", "register", `runs:/${runIds[1]}/model`, "churn", "--description", "lower lr", "--json"]),
    ) as { created_model: boolean; model_version: ModelVersion };
    assert.equal(second.created_model, false);
    assert.equal(second.model_version.version, "2");
    assert.equal(second.model_version.run_id, runIds[1], "the run id is taken from the runs:/ source");
    assert.equal(second.model_version.description, "lower lr");

    const versions = rows(await ok(["models", "versions", "churn"]));
    assert.deepEqual(
      versions.map((r) => [r[0], r[1], r[3], r[5], r[6]]),
      [
        ["v2", "None", "READY", runIds[1], `runs:/${runIds[1]}/model`],
        ["v1", "None", "READY", runIds[0], `runs:/${runIds[0]}/model`],
      ],
    );
  });

  it("moves champion with reasons and shows the history, newest first, as a table and as JSON", async () => {
    assert.equal(
      await ok(["models", "alias", "churn", "champion", "1", "--reason", "baseline"]),
      "churn@champion: - → v1\n",
    );
    await sleep(30); // the two moves must be at distinct milliseconds for --at to fall between them
    assert.equal(
      await ok(["models", "alias", "churn", "champion", "v2", "--reason", "recall +4% — March data"]),
      "churn@champion: v1 → v2\n",
    );
    assert.equal(await ok(["models", "alias", "churn", "challenger", "1"]), "churn@challenger: - → v1\n");
    assert.equal(
      await ok(["models", "alias", "churn", "challenger", "--delete"]),
      "Deleted alias 'challenger' of 'churn' (was v1)\n",
    );
    assert.equal(
      await ok(["models", "alias", "churn", "challenger", "--delete"]),
      "Alias 'challenger' of 'churn' was not set; nothing to delete\n",
    );
    const unset = JSON.parse(await ok(["models", "alias", "churn", "challenger", "--delete", "--json"])) as unknown;
    assert.deepEqual(unset, { name: "churn", alias: "challenger" });
    await client.transitionModelVersionStage(
      { name: "churn", version: "2", stage: "Production" },
      withReason("approved by review"),
    );

    const table = await ok(["models", "history", "churn"]);
    assert.match(table, /^CHANGED\s+KIND\s+ALIAS\s+FROM\s+TO\s+USER\s+REASON$/m);
    assert.deepEqual(
      rows(table).map((r) => r.slice(1)),
      [
        ["stage", "Production", "-", "v2", "", "approved by review (version 2: None -> Production)"],
        // the None stage's latest version went from 2 to 1 with the same transition
        ["stage", "None", "v2", "v1", "", "approved by review (version 2: None -> Production)"],
        ["alias", "challenger", "v1", "-", "", ""],
        ["alias", "challenger", "-", "v1", "", ""],
        ["alias", "champion", "v1", "v2", "", "recall +4% — March data"],
        ["alias", "champion", "-", "v1", "", "baseline"],
      ],
    );

    const json = JSON.parse(
      await ok(["models", "history", "churn", "--alias", "champion", "--json"]),
    ) as AliasHistoryResponse;
    assert.deepEqual(
      json.history.map(({ changed_at: _t, ...rest }) => rest),
      [
        {
          name: "churn",
          alias: "champion",
          kind: "alias",
          from_version: "1",
          to_version: "2",
          reason: "recall +4% — March data",
        },
        { name: "churn", alias: "champion", kind: "alias", to_version: "1", reason: "baseline" },
      ],
    );
    assert.equal(json.at, undefined);
  });

  it("answers where champion pointed between the moves and after them (--at)", async () => {
    const { history } = JSON.parse(
      await ok(["models", "history", "churn", "--alias", "champion", "--json"]),
    ) as AliasHistoryResponse;
    const move = history[0]!.changed_at; // champion v1 → v2
    const between = new Date(move - 1).toISOString();

    const text = await ok(["models", "history", "churn", "--at", between]);
    assert.ok(text.endsWith(`\nAt ${between}:\n  champion → v1\n`), text);
    const then = JSON.parse(
      await ok(["models", "history", "churn", "--at", between, "--json"]),
    ) as AliasHistoryResponse;
    assert.deepEqual([then.at, then.at_stages], [{ champion: "1" }, {}]);

    const now = await ok(["models", "history", "churn", "--at", String(Date.now() + 1000)]);
    assert.match(now, /\n {2}champion → v2\n {2}stage Production → v2\n$/);
    const early = await ok(["models", "history", "churn", "--at", "2020-01-01"]);
    assert.ok(early.endsWith("\nAt 2020-01-01T00:00:00.000Z no alias or stage pointed to a version.\n"), early);
  });

  it("describes a version's lineage: version → source → run → datasets", async () => {
    const text = await ok(["models", "describe", "churn@champion"]);
    assert.ok(
      text.startsWith(
        `Lineage: churn@champion → v2 → runs:/${runIds[1]}/model → run ${runIds[1]} (train-v2) → dataset churn-train@d1g3st2, dataset churn-eval@e0e0e0\n`,
      ),
      text,
    );
    assert.match(text, /^ {2}aliases: champion {3}stage: Production {3}status: READY$/m);
    assert.match(text, new RegExp(`^Run ${runIds[1]} \\(train-v2\\)$`, "m"));
    assert.match(text, /status: FINISHED/);
    assert.match(text, /^lr\s+0\.05$/m);
    assert.match(text, /^recall\s+0\.84\s+9$/m);
    assert.match(text, /^DATASET\s+DIGEST\s+CONTEXT\s+SOURCE TYPE\s+SOURCE$/m);
    assert.match(text, /^churn-train\s+d1g3st2\s+training\s+local\s+\{"uri": "\/data\/churn-2026-03\.parquet"\}$/m);
    assert.match(text, /^churn-eval\s+e0e0e0\s+eval\s+local/m);

    const json = JSON.parse(
      await ok(["models", "describe", "models:/churn/1", "--json", "--tracking-uri", url], {}),
    ) as {
      model_version: ModelVersion;
      artifact_uri: string;
      run_id: string;
      run: { info: { run_name: string; status: string }; data: { params: { key: string; value: string }[] } };
      datasets: { dataset: { name: string; digest: string; source: string } }[];
    };
    assert.equal(json.model_version.version, "1");
    assert.equal(json.run_id, runIds[0]);
    assert.match(json.artifact_uri, new RegExp(`${runIds[0]}/artifacts/model$`));
    assert.equal(json.run.info.run_name, "train-v1");
    assert.equal(json.run.info.status, "FINISHED");
    assert.deepEqual(json.run.data.params.find((p) => p.key === "lr")?.value, "0.1");
    assert.deepEqual(
      json.datasets.map((d) => [d.dataset.name, d.dataset.digest, d.dataset.source]),
      [
        ["churn-train", "d1g3st1", '{"uri": "/data/churn-2026-02.parquet"}'],
        ["churn-eval", "e0e0e0", '{"uri": "/data/eval.parquet"}'],
      ],
    );
    const byStage = await ok(["models", "describe", "churn/production"]);
    assert.match(byStage, /^Lineage: churn\/Production → v2 → /);

    const list = JSON.parse(
      await ok(["models", "list", "--filter", "name LIKE 'chu%'", "--json"]),
    ) as RegisteredModel[];
    assert.deepEqual(
      list.map((m) => [m.name, m.aliases]),
      [["churn", [{ alias: "champion", version: "2" }]]],
    );
    assert.deepEqual(rows(await ok(["models", "list"]))[0]?.slice(0, 3), ["churn", "v2", "champion → v2"]);
  });

  it("exits 2 on bad usage and 1 on what the server refuses", async () => {
    const usage: [string[], RegExp][] = [
      [["models", "alias", "churn", "champion"], /VERSION is missing/],
      [["models", "alias", "churn", "champion", "1", "--delete"], /either VERSION or --delete/],
      [["models", "alias", "churn", "champion", "three"], /VERSION: 'three' is not a version number/],
      [["models", "history", "churn", "--at", "yesterday"], /--at: 'yesterday' is not a time/],
      [["models", "describe", "churn"], /'churn' does not name a model version/],
      [["models", "register", "runs:/", "churn"], /is not a runs:\/<run_id>\/<path> URI/],
      [["models", "register", `runs:/${runIds[0]}/model`, "churn", "--run-id", "other"], /does not match the run/],
      [["models", "list", "--max-results", "0"], /--max-results: '0' is not a positive integer/],
      [["models", "versions"], /missing required argument 'name'/],
      [["models", "history", "churn", "--frobnicate"], /unknown option '--frobnicate'/],
    ];
    const expect = async (cases: [string[], RegExp][], code: number) => {
      const results = await Promise.all(cases.map(([args]) => slipway(args)));
      cases.forEach(([args, message], i) => {
        const r = results[i]!;
        assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, "", args.join(" "));
      });
    };
    await expect(usage, 2);
    const refused: [string[], RegExp][] = [
      [["models", "history", "nope"], /RESOURCE_DOES_NOT_EXIST: Registered Model with name=nope not found/],
      [["models", "versions", "nope"], /RESOURCE_DOES_NOT_EXIST/],
      [["models", "describe", "churn@nobody"], /INVALID_PARAMETER_VALUE: Registered model alias nobody not found/],
      [["models", "describe", "churn/Staging"], /No version of model 'churn' is in stage Staging/],
      [["models", "alias", "churn", "latest", "1"], /'latest' alias name \(case insensitive\) is reserved/],
      [
        ["models", "alias", "churn", "champion", "9"],
        /RESOURCE_DOES_NOT_EXIST: Model Version \(name=churn, version=9\)/,
      ],
    ];
    await expect(refused, 1);
    // nothing above moved an alias
    const { history } = JSON.parse(await ok(["models", "history", "churn", "--json"])) as AliasHistoryResponse;
    assert.equal(history.length, 6);
  });
});
