/**
 * The tracking contract: every implementation of TrackingApi (the SQL service on SQLite and PostgreSQL,
 * and the SDK's REST client against a live server) must pass it. Run through HTTP, it is also the
 * MLflow-compatibility suite.
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { TrackingApi } from "@slipway/protocol";
import { backendSuite, rejectsWith, unique } from "../../testing/contract.js";

export interface ContractSubject {
  api: TrackingApi;
  cleanup(): Promise<void>;
}

export function trackingContract(name: string, make: () => Promise<ContractSubject | { skip: string }>): void {
  describe(`tracking contract: ${name}`, () => {
    const { test, subject } = backendSuite(make);
    const api = (): TrackingApi => subject().api;

    const newExperiment = async (prefix = "exp") => {
      const { experiment_id } = await api().createExperiment({ name: unique(prefix) });
      return experiment_id;
    };
    const newRun = async (experimentId?: string, extra: { run_name?: string; start_time?: number } = {}) => {
      const { run } = await api().createRun({ experiment_id: experimentId ?? (await newExperiment()), ...extra });
      return run;
    };

    test("the Default experiment 0 exists", async () => {
      const { experiment } = await api().getExperiment({ experiment_id: "0" });
      assert.equal(experiment.name, "Default");
      assert.equal(experiment.lifecycle_stage, "active");
      assert.match(experiment.artifact_location, /^mlflow-artifacts:\/0$/);
    });

    test("experiments: create, get, get-by-name, duplicate and bad names", async () => {
      const name = unique("create");
      const { experiment_id } = await api().createExperiment({ name, tags: [{ key: "team", value: "ml" }] });
      assert.match(experiment_id, /^\d+$/);
      const { experiment } = await api().getExperiment({ experiment_id });
      assert.equal(experiment.name, name);
      assert.equal(experiment.artifact_location, `mlflow-artifacts:/${experiment_id}`);
      assert.deepEqual(experiment.tags, [{ key: "team", value: "ml" }]);
      assert.ok((experiment.creation_time ?? 0) > 1_600_000_000_000);
      const byName = await api().getExperimentByName({ experiment_name: name });
      assert.equal(byName.experiment.experiment_id, experiment_id);
      await rejectsWith(api().createExperiment({ name }), "RESOURCE_ALREADY_EXISTS", 400);
      await rejectsWith(api().createExperiment({ name: "" }), "INVALID_PARAMETER_VALUE", 400);
      await rejectsWith(api().createExperiment({ name: "x".repeat(501) }), "INVALID_PARAMETER_VALUE", 400);
      await rejectsWith(
        api().getExperiment({ experiment_id: "987654321" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        /No Experiment with id=987654321 exists/,
      );
      await rejectsWith(api().getExperiment({ experiment_id: "abc" }), "INVALID_PARAMETER_VALUE", 400);
      await rejectsWith(
        api().getExperimentByName({ experiment_name: unique("nope") }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        /Could not find experiment with name/,
      );
    });

    test("experiments: rename, tags, delete and restore", async () => {
      const id = await newExperiment("life");
      const renamed = unique("renamed");
      await api().updateExperiment({ experiment_id: id, new_name: renamed });
      assert.equal((await api().getExperiment({ experiment_id: id })).experiment.name, renamed);
      await api().setExperimentTag({ experiment_id: id, key: "k", value: "v1" });
      await api().setExperimentTag({ experiment_id: id, key: "k", value: "v2" });
      assert.deepEqual((await api().getExperiment({ experiment_id: id })).experiment.tags, [{ key: "k", value: "v2" }]);
      await api().deleteExperimentTag({ experiment_id: id, key: "k" });
      assert.equal((await api().getExperiment({ experiment_id: id })).experiment.tags, undefined);
      await rejectsWith(api().deleteExperimentTag({ experiment_id: id, key: "k" }), "RESOURCE_DOES_NOT_EXIST", 404);

      const run = await newRun(id);
      await api().deleteExperiment({ experiment_id: id });
      assert.equal((await api().getExperiment({ experiment_id: id })).experiment.lifecycle_stage, "deleted");
      assert.equal((await api().getRun({ run_id: run.info.run_id })).run.info.lifecycle_stage, "deleted");
      await rejectsWith(
        api().createRun({ experiment_id: id }),
        "INVALID_PARAMETER_VALUE",
        400,
        /must be in the 'active' state/,
      );
      await api().restoreExperiment({ experiment_id: id });
      assert.equal((await api().getExperiment({ experiment_id: id })).experiment.lifecycle_stage, "active");
      assert.equal((await api().getRun({ run_id: run.info.run_id })).run.info.lifecycle_stage, "active");
      await rejectsWith(api().deleteExperiment({ experiment_id: "0" }), "INVALID_PARAMETER_VALUE", 400);
    });

    test("experiments: search with filter, order and page tokens", async () => {
      const prefix = unique("search");
      const ids: string[] = [];
      for (const suffix of ["c", "a", "e", "b", "d"]) {
        ids.push(
          (await api().createExperiment({ name: `${prefix}-${suffix}`, tags: [{ key: "group", value: prefix }] }))
            .experiment_id,
        );
      }
      const all = await api().searchExperiments({
        filter: `name LIKE '${prefix}-%'`,
        order_by: ["name ASC"],
        max_results: 1000,
      });
      assert.deepEqual(
        all.experiments?.map((e) => e.name.slice(-1)),
        ["a", "b", "c", "d", "e"],
      );
      const pageOne = await api().searchExperiments({
        filter: `tags.group = '${prefix}'`,
        order_by: ["name DESC"],
        max_results: 2,
      });
      assert.deepEqual(
        pageOne.experiments?.map((e) => e.name.slice(-1)),
        ["e", "d"],
      );
      assert.ok(pageOne.next_page_token);
      const pageTwo = await api().searchExperiments({
        filter: `tags.group = '${prefix}'`,
        order_by: ["name DESC"],
        max_results: 2,
        page_token: pageOne.next_page_token,
      });
      assert.deepEqual(
        pageTwo.experiments?.map((e) => e.name.slice(-1)),
        ["c", "b"],
      );
      const pageThree = await api().searchExperiments({
        filter: `tags.group = '${prefix}'`,
        order_by: ["name DESC"],
        max_results: 2,
        page_token: pageTwo.next_page_token!,
      });
      assert.deepEqual(
        pageThree.experiments?.map((e) => e.name.slice(-1)),
        ["a"],
      );
      assert.equal(pageThree.next_page_token, undefined);
      await api().deleteExperiment({ experiment_id: ids[0]! });
      const active = await api().searchExperiments({ filter: `name LIKE '${prefix}-%'`, max_results: 100 });
      assert.equal(active.experiments?.length, 4);
      const deleted = await api().searchExperiments({
        filter: `name LIKE '${prefix}-%'`,
        view_type: "DELETED_ONLY",
        max_results: 100,
      });
      assert.deepEqual(
        deleted.experiments?.map((e) => e.experiment_id),
        [ids[0]],
      );
      const both = await api().searchExperiments({
        filter: `name LIKE '${prefix}-%'`,
        view_type: "ALL",
        max_results: 100,
      });
      assert.equal(both.experiments?.length, 5);
      // default order: newest first
      const times = both.experiments.map((e) => e.creation_time ?? 0);
      assert.deepEqual(
        times,
        [...times].sort((x, y) => y - x),
      );
      await rejectsWith(
        api().searchExperiments({ filter: "name ~ 'x'", max_results: 10 }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(api().searchExperiments({ max_results: 50001 }), "INVALID_PARAMETER_VALUE", 400);
      await rejectsWith(
        api().searchExperiments({ max_results: 10, page_token: "not-a-token" }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
    });

    test("runs: create, get, update, delete and restore", async () => {
      const exp = await newExperiment("runs");
      const { run } = await api().createRun({
        experiment_id: exp,
        run_name: "first",
        start_time: 1_700_000_000_000,
        user_id: "ada",
        tags: [{ key: "a", value: "1" }],
      });
      assert.match(run.info.run_id, /^[0-9a-f]{32}$/);
      assert.equal(run.info.run_uuid, run.info.run_id);
      assert.equal(run.info.run_name, "first");
      assert.equal(run.info.experiment_id, exp);
      assert.equal(run.info.user_id, "ada");
      assert.equal(run.info.status, "RUNNING");
      assert.equal(run.info.start_time, 1_700_000_000_000);
      assert.equal(run.info.lifecycle_stage, "active");
      assert.equal(run.info.artifact_uri, `mlflow-artifacts:/${exp}/${run.info.run_id}/artifacts`);
      assert.deepEqual(run.data.tags, [
        { key: "a", value: "1" },
        { key: "mlflow.runName", value: "first" },
      ]);

      const unnamed = await newRun(exp);
      assert.match(unnamed.info.run_name, /^[a-z]+-[a-z]+-\d+$/);

      const { run_info } = await api().updateRun({
        run_id: run.info.run_id,
        status: "FINISHED",
        end_time: 1_700_000_005_000,
        run_name: "renamed",
      });
      assert.equal(run_info.status, "FINISHED");
      assert.equal(run_info.end_time, 1_700_000_005_000);
      assert.equal(run_info.run_name, "renamed");
      const got = (await api().getRun({ run_id: run.info.run_id })).run;
      assert.equal(got.data.tags?.find((t) => t.key === "mlflow.runName")?.value, "renamed");
      // legacy run_uuid is accepted
      assert.equal((await api().getRun({ run_uuid: run.info.run_id })).run.info.run_id, run.info.run_id);

      await api().deleteRun({ run_id: run.info.run_id });
      assert.equal((await api().getRun({ run_id: run.info.run_id })).run.info.lifecycle_stage, "deleted");
      await rejectsWith(
        api().logParam({ run_id: run.info.run_id, key: "p", value: "1" }),
        "INVALID_PARAMETER_VALUE",
        400,
        /must be in the 'active' state/,
      );
      await api().restoreRun({ run_id: run.info.run_id });
      assert.equal((await api().getRun({ run_id: run.info.run_id })).run.info.lifecycle_stage, "active");

      await rejectsWith(
        api().getRun({ run_id: "0123456789abcdef0123456789abcdef" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        /Run with id=0123456789abcdef0123456789abcdef not found/,
      );
      await rejectsWith(api().createRun({ experiment_id: "987654321" }), "RESOURCE_DOES_NOT_EXIST", 404);
      await rejectsWith(api().getRun({}), "INVALID_PARAMETER_VALUE", 400);
    });

    test("params, tags and metrics: logging rules", async () => {
      const run = await newRun();
      const id = run.info.run_id;
      await api().logParam({ run_id: id, key: "lr", value: "0.1" });
      await api().logParam({ run_id: id, key: "lr", value: "0.1" });
      await rejectsWith(
        api().logParam({ run_id: id, key: "lr", value: "0.2" }),
        "INVALID_PARAMETER_VALUE",
        400,
        /Changing param values is not allowed/,
      );
      await rejectsWith(api().logParam({ run_id: id, key: "a//b", value: "1" }), "INVALID_PARAMETER_VALUE", 400);
      await rejectsWith(api().logParam({ run_id: id, key: "../x", value: "1" }), "INVALID_PARAMETER_VALUE", 400);
      await rejectsWith(api().logParam({ run_id: id, key: "bad!key", value: "1" }), "INVALID_PARAMETER_VALUE", 400);
      await api().logParam({ run_id: id, key: "long", value: "x".repeat(7000) });
      await api().setTag({ run_id: id, key: "note", value: "y".repeat(9000) });
      await api().setTag({ run_id: id, key: "gone", value: "soon" });
      await api().deleteTag({ run_id: id, key: "gone" });
      await rejectsWith(api().deleteTag({ run_id: id, key: "gone" }), "RESOURCE_DOES_NOT_EXIST", 404);
      await api().setTag({ run_id: id, key: "mlflow.runName", value: "via-tag" });

      await api().logMetric({ run_id: id, key: "loss", value: 3, timestamp: 1000, step: 0 });
      await api().logMetric({ run_id: id, key: "loss", value: 2, timestamp: 1001, step: 2 });
      await api().logMetric({ run_id: id, key: "loss", value: 9, timestamp: 1002, step: 1 });
      await api().logMetric({ run_id: id, key: "nan", value: NaN, timestamp: 1000 });
      await api().logMetric({ run_id: id, key: "inf", value: Infinity, timestamp: 1000 });
      await rejectsWith(
        api().logMetric({ run_id: id, key: "neg", value: 1, timestamp: -1 }),
        "INVALID_PARAMETER_VALUE",
        400,
      );

      const got = (await api().getRun({ run_id: id })).run;
      assert.equal(got.info.run_name, "via-tag");
      assert.equal(got.data.params?.find((p) => p.key === "long")?.value.length, 6000);
      assert.equal(got.data.tags?.find((t) => t.key === "note")?.value.length, 8000);
      const metrics = new Map(got.data.metrics?.map((m) => [m.key, m]));
      assert.deepEqual(
        { ...metrics.get("loss"), run_id: undefined },
        { key: "loss", value: 2, timestamp: 1001, step: 2, run_id: undefined },
      );
      assert.ok(Number.isNaN(metrics.get("nan")?.value));
      assert.ok((metrics.get("inf")?.value ?? 0) > 1e307);

      const all = await api().getMetricHistory({ run_id: id, metric_key: "loss" });
      assert.deepEqual(
        all.metrics?.map((m) => [m.value, m.timestamp, m.step]),
        [
          [3, 1000, 0],
          [2, 1001, 2],
          [9, 1002, 1],
        ],
      );
      const page1 = await api().getMetricHistory({ run_id: id, metric_key: "loss", max_results: 2 });
      assert.equal(page1.metrics?.length, 2);
      assert.ok(page1.next_page_token);
      const page2 = await api().getMetricHistory({
        run_id: id,
        metric_key: "loss",
        max_results: 2,
        page_token: page1.next_page_token,
      });
      assert.deepEqual(
        page2.metrics?.map((m) => m.value),
        [9],
      );
      assert.equal(page2.next_page_token, undefined);
      assert.deepEqual(await api().getMetricHistory({ run_id: id, metric_key: "missing" }), {});
      await rejectsWith(
        api().getMetricHistory({ run_id: "0123456789abcdef0123456789abcdef", metric_key: "loss" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
    });

    test("log-batch is all or nothing and keeps MLflow's limits", async () => {
      const run = await newRun();
      const id = run.info.run_id;
      await api().logBatch({
        run_id: id,
        metrics: Array.from({ length: 996 }, (_, i) => ({ key: `m${i % 10}`, value: i, timestamp: 5000 + i, step: i })),
        params: [
          { key: "p1", value: "a" },
          { key: "p2", value: "b" },
        ],
        tags: [
          { key: "t", value: "1" },
          { key: "t", value: "2" },
        ],
      });
      let got = (await api().getRun({ run_id: id })).run;
      assert.equal(got.data.metrics?.length, 10);
      assert.equal(got.data.metrics?.find((m) => m.key === "m5")?.value, 995);
      assert.equal(got.data.tags?.find((t) => t.key === "t")?.value, "2");
      assert.equal((await api().getMetricHistory({ run_id: id, metric_key: "m3" })).metrics?.length, 100);
      assert.equal((await api().getMetricHistory({ run_id: id, metric_key: "m7" })).metrics?.length, 99);
      await rejectsWith(
        api().logBatch({
          run_id: id,
          metrics: Array.from({ length: 998 }, (_, i) => ({ key: "m", value: i, timestamp: i })),
          params: [{ key: "a", value: "1" }],
          tags: [
            { key: "b", value: "1" },
            { key: "c", value: "1" },
            { key: "d", value: "1" },
          ],
        }),
        "INVALID_PARAMETER_VALUE",
        400,
        /at most 1000 total/,
      );

      // one bad metric key: nothing of the batch is written
      await rejectsWith(
        api().logBatch({
          run_id: id,
          params: [{ key: "p3", value: "c" }],
          metrics: [
            { key: "ok", value: 1, timestamp: 1 },
            { key: "bad//key", value: 1, timestamp: 1 },
          ],
        }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      // a param conflict: nothing written either
      await rejectsWith(
        api().logBatch({
          run_id: id,
          params: [
            { key: "p4", value: "d" },
            { key: "p1", value: "changed" },
          ],
          metrics: [{ key: "ok", value: 1, timestamp: 1 }],
        }),
        "INVALID_PARAMETER_VALUE",
        400,
        /Changing param values is not allowed/,
      );
      got = (await api().getRun({ run_id: id })).run;
      assert.equal(
        got.data.params?.some((p) => p.key === "p3" || p.key === "p4"),
        false,
      );
      assert.equal(
        got.data.metrics?.some((m) => m.key === "ok"),
        false,
      );

      await rejectsWith(
        api().logBatch({
          run_id: id,
          metrics: Array.from({ length: 1001 }, (_, i) => ({ key: "m", value: i, timestamp: i })),
        }),
        "INVALID_PARAMETER_VALUE",
        400,
        /at most 1000 metrics/,
      );
      await rejectsWith(
        api().logBatch({ run_id: id, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: "v" })) }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().logBatch({
          run_id: id,
          params: [
            { key: "dup", value: "1" },
            { key: "dup", value: "2" },
          ],
        }),
        "INVALID_PARAMETER_VALUE",
        400,
        /Duplicate parameter keys/,
      );
      await rejectsWith(api().logBatch({ run_id: "0123456789abcdef0123456789abcdef" }), "RESOURCE_DOES_NOT_EXIST", 404);
      // identical metric values logged twice are stored once
      await api().logBatch({
        run_id: id,
        metrics: [
          { key: "same", value: 1, timestamp: 7, step: 1 },
          { key: "same", value: 1, timestamp: 7, step: 1 },
        ],
      });
      assert.equal((await api().getMetricHistory({ run_id: id, metric_key: "same" })).metrics?.length, 1);
    });

    test("histories logged one value at a time, out of order and with duplicates read back sorted and unique", async () => {
      const run = await newRun();
      const id = run.info.run_id;
      // 150 single calls: more than one merge of small chunks
      for (let i = 0; i < 150; i++)
        await api().logMetric({ run_id: id, key: "single", value: i, timestamp: 1000 + i, step: i });
      const single = await api().getMetricHistory({ run_id: id, metric_key: "single" });
      assert.deepEqual(
        single.metrics?.map((m) => m.step),
        Array.from({ length: 150 }, (_, i) => i),
      );
      // out of order across calls, with an exact duplicate and a NaN at the same step
      await api().logBatch({
        run_id: id,
        metrics: [
          { key: "ooo", value: 3, timestamp: 30, step: 3 },
          { key: "ooo", value: 1, timestamp: 10, step: 1 },
        ],
      });
      await api().logBatch({
        run_id: id,
        metrics: [
          { key: "ooo", value: 2, timestamp: 20, step: 2 },
          { key: "ooo", value: 1, timestamp: 10, step: 1 },
        ],
      });
      await api().logBatch({
        run_id: id,
        metrics: [
          { key: "ooo", value: NaN, timestamp: 20, step: 2 },
          { key: "ooo", value: 0, timestamp: 5, step: 0 },
        ],
      });
      const ooo = await api().getMetricHistory({ run_id: id, metric_key: "ooo" });
      assert.deepEqual(
        ooo.metrics?.map((m) => [m.timestamp, m.step]),
        [
          [5, 0],
          [10, 1],
          [20, 2],
          [20, 2],
          [30, 3],
        ],
      );
      assert.ok(Number.isNaN(ooo.metrics?.[3]?.value));
      const paged: number[] = [];
      let token: string | undefined;
      do {
        const page = await api().getMetricHistory({
          run_id: id,
          metric_key: "ooo",
          max_results: 2,
          ...(token ? { page_token: token } : {}),
        });
        paged.push(...(page.metrics ?? []).map((m) => m.timestamp));
        token = page.next_page_token;
      } while (token);
      assert.deepEqual(paged, [5, 10, 20, 20, 30]);
      // pages over a sorted series spanning many chunks
      const steps: number[] = [];
      token = undefined;
      do {
        const page = await api().getMetricHistory({
          run_id: id,
          metric_key: "single",
          max_results: 40,
          ...(token ? { page_token: token } : {}),
        });
        steps.push(...(page.metrics ?? []).map((m) => m.step ?? 0));
        token = page.next_page_token;
      } while (token);
      assert.deepEqual(
        steps,
        Array.from({ length: 150 }, (_, i) => i),
      );
      assert.equal((await api().getRun({ run_id: id })).run.data.metrics?.find((m) => m.key === "ooo")?.value, 3);
    });

    test("log-inputs records datasets on the run", async () => {
      const run = await newRun();
      const dataset = {
        name: "spam-train",
        digest: "abc123",
        source_type: "local",
        source: '{"uri": "data/train.csv"}',
        schema: '{"cols": []}',
      };
      await api().logInputs({
        run_id: run.info.run_id,
        datasets: [{ dataset, tags: [{ key: "mlflow.data.context", value: "train" }] }],
      });
      await api().logInputs({ run_id: run.info.run_id, datasets: [{ dataset }] });
      const got = (await api().getRun({ run_id: run.info.run_id })).run;
      assert.equal(got.inputs?.dataset_inputs?.length, 1);
      assert.deepEqual(got.inputs?.dataset_inputs?.[0], {
        dataset,
        tags: [{ key: "mlflow.data.context", value: "train" }],
      });
      await rejectsWith(
        api().logInputs({ run_id: run.info.run_id, datasets: [{ dataset: { ...dataset, digest: "x".repeat(37) } }] }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
    });

    test("search-runs: filter, order with missing values last, pages, view types", async () => {
      const exp = await newExperiment("sr");
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const run = await newRun(exp, { start_time: 1_000_000 + i, run_name: `r${i}` });
        ids.push(run.info.run_id);
        if (i < 5) await api().logMetric({ run_id: run.info.run_id, key: "acc", value: i / 10, timestamp: 1 });
        await api().logParam({ run_id: run.info.run_id, key: "lr", value: i % 2 === 0 ? "0.01" : "0.1" });
      }
      const desc = await api().searchRuns({ experiment_ids: [exp], order_by: ["metrics.acc DESC"] });
      assert.deepEqual(
        desc.runs?.map((r) => r.info.run_name),
        ["r4", "r3", "r2", "r1", "r0", "r5"],
      );
      const asc = await api().searchRuns({ experiment_ids: [exp], order_by: ["metrics.acc ASC"] });
      assert.deepEqual(
        asc.runs?.map((r) => r.info.run_name),
        ["r0", "r1", "r2", "r3", "r4", "r5"],
      );
      const filtered = await api().searchRuns({
        experiment_ids: [exp],
        filter: "metrics.acc > 0.1 and params.lr = '0.01'",
        order_by: ["metrics.acc DESC"],
      });
      assert.deepEqual(
        filtered.runs?.map((r) => r.info.run_name),
        ["r4", "r2"],
      );
      const byDefault = await api().searchRuns({ experiment_ids: [exp] });
      assert.deepEqual(
        byDefault.runs?.map((r) => r.info.run_name),
        ["r5", "r4", "r3", "r2", "r1", "r0"],
      );
      const p1 = await api().searchRuns({ experiment_ids: [exp], max_results: 4 });
      const p2 = await api().searchRuns({ experiment_ids: [exp], max_results: 4, page_token: p1.next_page_token! });
      assert.deepEqual(
        [...(p1.runs ?? []), ...(p2.runs ?? [])].map((r) => r.info.run_name),
        ["r5", "r4", "r3", "r2", "r1", "r0"],
      );
      assert.equal(p2.next_page_token, undefined);
      await api().deleteRun({ run_id: ids[0]! });
      assert.equal((await api().searchRuns({ experiment_ids: [exp] })).runs?.length, 5);
      assert.deepEqual(
        (await api().searchRuns({ experiment_ids: [exp], run_view_type: "DELETED_ONLY" })).runs?.map(
          (r) => r.info.run_id,
        ),
        [ids[0]],
      );
      assert.equal((await api().searchRuns({ experiment_ids: [exp], run_view_type: "ALL" })).runs?.length, 6);
      const byName = await api().searchRuns({ experiment_ids: [exp], filter: "attributes.run_name = 'r3'" });
      assert.deepEqual(
        byName.runs?.map((r) => r.info.run_id),
        [ids[3]],
      );
      const byIds = await api().searchRuns({
        experiment_ids: [exp],
        filter: `attributes.run_id IN ('${ids[1]}', '${ids[2]}')`,
        order_by: ["attributes.start_time ASC"],
      });
      assert.deepEqual(
        byIds.runs?.map((r) => r.info.run_id),
        [ids[1], ids[2]],
      );
      await rejectsWith(
        api().searchRuns({ experiment_ids: [exp], filter: "metrics.acc > 'x'" }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().searchRuns({ experiment_ids: [exp], filter: "params.lr > 1" }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().searchRuns({ experiment_ids: [exp], order_by: ["metrics.acc sideways"] }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().searchRuns({ experiment_ids: [exp], max_results: 50001 }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      assert.deepEqual(await api().searchRuns({ experiment_ids: [] }), {});
    });

    test("get-history-bulk-interval samples steps per run", async () => {
      const exp = await newExperiment("bulk");
      const a = await newRun(exp);
      const b = await newRun(exp);
      await api().logBatch({
        run_id: a.info.run_id,
        metrics: Array.from({ length: 100 }, (_, i) => ({ key: "loss", value: 1 / (i + 1), timestamp: i, step: i })),
      });
      await api().logBatch({
        run_id: b.info.run_id,
        metrics: Array.from({ length: 10 }, (_, i) => ({ key: "loss", value: i, timestamp: i, step: i * 10 })),
      });
      const res = await api().getMetricHistoryBulkInterval({
        run_ids: [a.info.run_id, b.info.run_id],
        metric_key: "loss",
        max_results: 5,
      });
      const forA = res.metrics?.filter((m) => m.run_id === a.info.run_id).map((m) => m.step);
      assert.deepEqual(forA, [0, 25, 50, 74, 99]);
      const ranged = await api().getMetricHistoryBulkInterval({
        run_ids: [a.info.run_id],
        metric_key: "loss",
        start_step: 10,
        end_step: 19,
      });
      assert.deepEqual(
        ranged.metrics?.map((m) => m.step),
        [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      );
      await rejectsWith(
        api().getMetricHistoryBulkInterval({ run_ids: [a.info.run_id], metric_key: "loss", start_step: 5 }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().getMetricHistoryBulkInterval({ run_ids: [a.info.run_id], metric_key: "loss", max_results: 2501 }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
    });
  });
}
