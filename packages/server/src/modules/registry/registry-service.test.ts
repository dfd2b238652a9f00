import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalArtifactRepository } from "../../artifacts/local.js";
import type { SqlDb, SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";
import { openPostgresTestDatabase, openSqliteTestDatabase } from "../../testing/databases.js";
import { TrackingService } from "../tracking/tracking-service.js";
import { registryContract } from "./registry.contract.js";
import { RegistryService } from "./registry-service.js";

interface Backend {
  db: SqlDb;
  artifacts: string;
  cleanup(): Promise<void>;
}

async function sqlite(): Promise<Backend> {
  const t = await openSqliteTestDatabase("slipway-registry-");
  return { ...t, artifacts: join(t.dir, "artifacts") };
}

async function postgres(): Promise<Backend | { skip: string }> {
  const t = await openPostgresTestDatabase("slipway-registry-");
  return "skip" in t ? t : { ...t, artifacts: join(t.dir, "artifacts") };
}

function contractSubject(backend: Backend) {
  return {
    api: new RegistryService({ db: backend.db }),
    tracking: new TrackingService({ db: backend.db, artifacts: new LocalArtifactRepository(backend.artifacts) }),
    cleanup: () => backend.cleanup(),
  };
}

registryContract("SQL service on SQLite", async () => contractSubject(await sqlite()));

registryContract("SQL service on PostgreSQL", async () => {
  const backend = await postgres();
  return "skip" in backend ? backend : contractSubject(backend);
});

/** A database whose transactions fail on the first statement matching `pattern`, as a crash would. */
function failingOn(db: SqlDb, pattern: RegExp): SqlDb {
  const guard = (sql: string) => {
    if (pattern.test(sql)) throw new Error(`injected failure at: ${sql.slice(0, 40)}`);
  };
  const wrap = (tx: SqlExecutor): SqlExecutor => ({
    dialect: tx.dialect,
    all: async <T>(sql: string, params?: readonly SqlValue[]) => (guard(sql), tx.all<T>(sql, params)),
    get: async <T>(sql: string, params?: readonly SqlValue[]) => (guard(sql), tx.get<T>(sql, params)),
    run: async (sql: string, params?: readonly SqlValue[]) => (guard(sql), tx.run(sql, params)),
  });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "transaction") {
        return <T>(fn: (tx: SqlExecutor) => Promise<T>) => target.transaction((tx) => fn(wrap(tx)));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface HistoryRow {
  registered_model_id: number;
  model_name: string;
  alias: string;
  from_version: number | null;
  to_version: number | null;
  changed_at: number;
  user_id: string | null;
  reason: string | null;
  kind: string;
}

function internals(name: string, open: () => Promise<Backend | { skip: string }>): void {
  describe(`registry service internals: ${name}`, () => {
    let backend: Backend | undefined;
    let skip: string | undefined;
    let clock = 1_700_000_000_000;
    const now = () => (clock += 1000);
    const service = () => new RegistryService({ db: backend!.db, now });
    const tracking = () =>
      new TrackingService({ db: backend!.db, artifacts: new LocalArtifactRepository(backend!.artifacts) });

    before(async () => {
      const made = await open();
      if ("skip" in made) skip = made.skip;
      else backend = made;
    });
    after(async () => {
      await backend?.cleanup();
    });
    const test = (title: string, fn: () => Promise<void>): void => {
      void it(title, async (t) => {
        if (skip) {
          t.skip(skip);
          return;
        }
        await fn();
      });
    };

    const history = async (modelName: string): Promise<Omit<HistoryRow, "registered_model_id" | "user_id">[]> => {
      const id = await backend!.db.get<{ registered_model_id: number }>(
        `SELECT registered_model_id FROM alias_history WHERE model_name = ? ORDER BY id LIMIT 1`,
        [modelName],
      );
      const rows = await backend!.db.all<HistoryRow>(
        `SELECT registered_model_id, model_name, alias, from_version, to_version, changed_at, user_id, reason, kind
           FROM alias_history WHERE registered_model_id = ? ORDER BY id`,
        [id?.registered_model_id ?? -1],
      );
      for (const r of rows) assert.equal(r.user_id, null);
      return rows.map(({ registered_model_id: _id, user_id: _user, ...rest }) => rest);
    };

    test("alias moves and stage transitions are recorded in alias_history, which outlives the model", async () => {
      const api = service();
      const m = "history-model";
      await api.createRegisteredModel({ name: m });
      for (let i = 0; i < 3; i++) await api.createModelVersion({ name: m, source: `s3://b/${i}` });
      const row = (
        alias: string,
        from: number | null,
        to: number | null,
        at: number,
        reason: string | null = null,
      ) => ({
        model_name: m,
        alias,
        from_version: from,
        to_version: to,
        changed_at: at,
        reason,
        kind: "alias",
      });

      const t0 = clock;
      await api.setRegisteredModelAlias({ name: m, alias: "champion", version: "1" });
      await api.setRegisteredModelAlias({ name: m, alias: "champion", version: "2" });
      await api.setRegisteredModelAlias({ name: m, alias: "champion", version: "2" });
      await api.deleteRegisteredModelAlias({ name: m, alias: "champion" });
      await api.deleteRegisteredModelAlias({ name: m, alias: "champion" }); // nothing to delete: no row
      await api.setRegisteredModelAlias({ name: m, alias: "challenger", version: "3" });
      await api.deleteModelVersion({ name: m, version: "3" });
      assert.deepEqual(await history(m), [
        row("champion", null, 1, t0 + 1000),
        row("champion", 1, 2, t0 + 2000),
        row("champion", 2, 2, t0 + 3000),
        row("champion", 2, null, t0 + 4000),
        row("challenger", null, 3, t0 + 6000),
        row("challenger", 3, null, t0 + 7000, "model version 3 deleted"),
        { ...row("None", 3, 2, t0 + 7000, "model version 3 deleted"), kind: "stage" },
      ]);

      const t1 = clock;
      const stage = (alias: string, from: number | null, to: number | null, at: number, reason: string) => ({
        ...row(alias, from, to, at, reason),
        kind: "stage",
      });
      await api.transitionModelVersionStage({ name: m, version: "1", stage: "production" });
      await api.transitionModelVersionStage({
        name: m,
        version: "2",
        stage: "Production",
        archive_existing_versions: true,
      });
      await api.transitionModelVersionStage({ name: m, version: "2", stage: "Production" });
      const stageRows = (await history(m)).slice(7);
      assert.deepEqual(stageRows, [
        stage("Production", null, 1, t1 + 1000, "version 1: None -> Production"),
        stage(
          "None",
          2,
          null,
          t1 + 2000,
          "version 2: None -> Production; archive_existing_versions: version 1: Production -> Archived",
        ),
        stage(
          "Production",
          1,
          2,
          t1 + 2000,
          "version 2: None -> Production; archive_existing_versions: version 1: Production -> Archived",
        ),
        stage(
          "Archived",
          null,
          1,
          t1 + 2000,
          "version 2: None -> Production; archive_existing_versions: version 1: Production -> Archived",
        ),
        stage("Production", 2, 2, t1 + 3000, "version 2: Production -> Production"),
      ]);

      // a transition that fails records nothing
      await assert.rejects(api.transitionModelVersionStage({ name: m, version: "7", stage: "Staging" }));
      assert.equal((await history(m)).length, 12);

      // rename: history follows the model (its id); rows carry the name at the time of the change
      const renamed = "history-model-renamed";
      await api.renameRegisteredModel({ name: m, new_name: renamed });
      await api.setRegisteredModelAlias({ name: renamed, alias: "gold", version: "2" });
      const t2 = clock;
      await api.deleteRegisteredModel({ name: renamed });
      const all = await history(m);
      assert.equal(all.length, 16);
      assert.deepEqual(all.slice(12), [
        { ...row("gold", null, 2, t2), model_name: renamed },
        { ...row("gold", 2, null, t2 + 1000, "registered model deleted"), model_name: renamed },
        { ...stage("Archived", 1, null, t2 + 1000, "registered model deleted"), model_name: renamed },
        { ...stage("Production", 2, null, t2 + 1000, "registered model deleted"), model_name: renamed },
      ]);
      // the model, its versions, tags and aliases are gone; the history is not
      for (const table of ["registered_models", "model_versions", "registered_model_aliases"]) {
        const left = await backend!.db.get<{ n: number }>(
          `SELECT COUNT(*) AS n FROM ${table} WHERE ${table === "registered_models" ? "id" : "registered_model_id"} = (SELECT registered_model_id FROM alias_history WHERE model_name = ? LIMIT 1)`,
          [m],
        );
        assert.equal(Number(left?.n), 0, table);
      }

      // a new model of the same name gets a new id, so it does not inherit the old history
      await api.createRegisteredModel({ name: m });
      await api.createModelVersion({ name: m, source: "s3://b/new" });
      await api.setRegisteredModelAlias({ name: m, alias: "fresh", version: "1" });
      const ids = await backend!.db.all<{ registered_model_id: number }>(
        `SELECT DISTINCT registered_model_id FROM alias_history WHERE model_name = ?`,
        [m],
      );
      assert.equal(ids.length, 2);
    });

    test("every write is one transaction: a failure midway leaves no rows behind", async () => {
      const db = backend!.db;
      const good = service();
      const m = "atomic-model";
      const count = async (sql: string, params: SqlValue[] = []) =>
        Number((await db.get<{ n: number }>(sql, params))?.n);

      const broken = (pattern: RegExp) => new RegistryService({ db: failingOn(db, pattern), now });
      await assert.rejects(
        broken(/INSERT INTO registered_model_tags/).createRegisteredModel({
          name: m,
          tags: [{ key: "k", value: "v" }],
        }),
        /injected failure/,
      );
      assert.equal(await count(`SELECT COUNT(*) AS n FROM registered_models WHERE name = ?`, [m]), 0);

      await good.createRegisteredModel({ name: m });
      const model = await good.getRegisteredModel({ name: m });
      const run = (
        await tracking().createRun({
          experiment_id: (await tracking().createExperiment({ name: "atomic-exp" })).experiment_id,
        })
      ).run;
      await assert.rejects(
        broken(/INSERT INTO model_version_tags/).createModelVersion({
          name: m,
          source: `runs:/${run.info.run_id}/model`,
          run_id: run.info.run_id,
          tags: [{ key: "k", value: "v" }],
        }),
        /injected failure/,
      );
      assert.equal(
        await count(
          `SELECT COUNT(*) AS n FROM model_versions mv JOIN registered_models rm ON rm.id = mv.registered_model_id WHERE rm.name = ?`,
          [m],
        ),
        0,
      );
      const after = await db.get<{ last_version: number; last_updated_time: number }>(
        `SELECT last_version, last_updated_time FROM registered_models WHERE name = ?`,
        [m],
      );
      assert.equal(Number(after?.last_version), 0, "the version counter was rolled back");
      assert.equal(Number(after?.last_updated_time), model.registered_model.last_updated_timestamp);
      assert.equal((await good.createModelVersion({ name: m, source: "s3://b/1" })).model_version.version, "1");

      // an alias move and its history row commit together
      await good.createModelVersion({ name: m, source: "s3://b/2" });
      await good.setRegisteredModelAlias({ name: m, alias: "champion", version: "1" });
      await assert.rejects(
        broken(/INSERT INTO alias_history/).setRegisteredModelAlias({ name: m, alias: "champion", version: "2" }),
        /injected failure/,
      );
      assert.equal((await good.getModelVersionByAlias({ name: m, alias: "champion" })).model_version.version, "1");

      // a transition that archives others is all or nothing
      await good.transitionModelVersionStage({ name: m, version: "1", stage: "Production" });
      await assert.rejects(
        broken(/INSERT INTO alias_history/).transitionModelVersionStage({
          name: m,
          version: "2",
          stage: "Production",
          archive_existing_versions: true,
        }),
        /injected failure/,
      );
      const stages = (await good.searchModelVersions({ filter: `name = '${m}'`, order_by: ["version_number"] }))
        .model_versions;
      assert.deepEqual(
        stages?.map((v) => v.current_stage),
        ["Production", "None"],
      );

      // a model delete is all or nothing too
      await assert.rejects(broken(/DELETE FROM registered_models/).deleteRegisteredModel({ name: m }), /injected/);
      assert.equal((await good.getRegisteredModel({ name: m })).registered_model.aliases?.length, 1);
      assert.equal(
        await count(`SELECT COUNT(*) AS n FROM alias_history WHERE model_name = ? AND reason = ?`, [
          m,
          "registered model deleted",
        ]),
        0,
      );
    });

    test("concurrent creates hand out distinct, consecutive version numbers", async () => {
      const api = service();
      const m = "concurrent-model";
      await api.createRegisteredModel({ name: m });
      const created = await Promise.all(
        Array.from({ length: 12 }, (_, i) => api.createModelVersion({ name: m, source: `s3://b/${i}` })),
      );
      assert.deepEqual(
        created.map((c) => Number(c.model_version.version)).sort((a, b) => a - b),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, () => api.createRegisteredModel({ name: "concurrent-twin" })),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      for (const r of results) {
        if (r.status === "rejected") assert.match(String(r.reason), /already exists/);
      }
    });

    test("a local source inside the run's local artifact directory is accepted", async () => {
      const api = service();
      const m = "local-source-model";
      await api.createRegisteredModel({ name: m });
      const { experiment_id } = await tracking().createExperiment({
        name: "local-artifacts",
        artifact_location: "/srv/artifacts/exp",
      });
      const { run } = await tracking().createRun({ experiment_id });
      assert.equal(run.info.artifact_uri, `/srv/artifacts/exp/${run.info.run_id}/artifacts`);
      const inside = `${run.info.artifact_uri}/model`;
      const { model_version } = await api.createModelVersion({ name: m, source: inside, run_id: run.info.run_id });
      assert.equal(model_version.source, inside);
      assert.equal(
        (await api.createModelVersion({ name: m, source: `file://${inside}`, run_id: run.info.run_id })).model_version
          .version,
        "2",
      );
      for (const source of [`${run.info.artifact_uri}/../../other`, "/srv/artifacts", "/etc/passwd"]) {
        await assert.rejects(
          api.createModelVersion({ name: m, source, run_id: run.info.run_id }),
          /To use a local path as a model version source/,
        );
      }
      // prompts are registered without a real source, and MLflow does not check theirs
      const prompt = await api.createModelVersion({
        name: m,
        source: "dummy-source",
        tags: [{ key: "mlflow.prompt.is_prompt", value: "true" }],
      });
      assert.equal(prompt.model_version.version, "3");
    });
  });
}

internals("SQLite", sqlite);
internals("PostgreSQL", postgres);
