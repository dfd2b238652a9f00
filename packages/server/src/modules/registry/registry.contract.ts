/**
 * The model-registry contract: every implementation of RegistryApi (the SQL service on SQLite and PostgreSQL,
 * and the SDK's REST client against a live server) must pass it. Run through HTTP, it is also the
 * MLflow-compatibility suite for the registry.
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { backendSuite, rejectsWith, unique } from "../../testing/contract.js";
import { type ModelVersion, type RegistryApi, type RegistryRequestOf, type TrackingApi } from "@slipway/protocol";

export interface RegistryContractSubject {
  api: RegistryApi;
  /** Creates the runs that versions are registered from. */
  tracking: Pick<TrackingApi, "createExperiment" | "createRun">;
  cleanup(): Promise<void>;
}

const S3 = "s3://bucket/models";

export function registryContract(name: string, make: () => Promise<RegistryContractSubject | { skip: string }>): void {
  describe(`registry contract: ${name}`, () => {
    const { test, subject } = backendSuite(make);
    const api = (): RegistryApi => subject().api;

    const newRun = async () => {
      const { experiment_id } = await subject().tracking.createExperiment({ name: unique("registry-exp") });
      return (await subject().tracking.createRun({ experiment_id })).run;
    };
    const newModel = async (prefix = "model") => {
      const modelName = unique(prefix);
      await api().createRegisteredModel({ name: modelName });
      return modelName;
    };
    const newVersion = async (modelName: string, extra: { run_id?: string; source?: string } = {}) =>
      (await api().createModelVersion({ name: modelName, source: `${S3}/${modelName}`, ...extra })).model_version;
    const versionsOf = async (modelName: string): Promise<string[]> =>
      ((await api().searchModelVersions({ filter: `name = '${modelName}'` })).model_versions ?? []).map(
        (v) => v.version,
      );

    test("registered models: create, get, duplicates, bad names and unknown models", async () => {
      const modelName = unique("create");
      const { registered_model: rm } = await api().createRegisteredModel({
        name: modelName,
        description: "spam filter",
        tags: [
          { key: "team", value: "ml" },
          { key: "task", value: "classification" },
        ],
      });
      assert.equal(rm.name, modelName);
      assert.equal(rm.description, "spam filter");
      assert.deepEqual(rm.tags, [
        { key: "task", value: "classification" },
        { key: "team", value: "ml" },
      ]);
      assert.ok(rm.creation_timestamp > 1_600_000_000_000);
      assert.equal(rm.last_updated_timestamp, rm.creation_timestamp);
      assert.equal(rm.latest_versions, undefined);
      assert.equal(rm.aliases, undefined);
      assert.deepEqual((await api().getRegisteredModel({ name: modelName })).registered_model, rm);

      await rejectsWith(
        api().createRegisteredModel({ name: modelName }),
        "RESOURCE_ALREADY_EXISTS",
        400,
        new RegExp(`Registered Model \\(name=${modelName}\\) already exists`),
      );
      await rejectsWith(api().createRegisteredModel({ name: "" }), "INVALID_PARAMETER_VALUE", 400, /'name'/);
      const missing = unique("missing");
      await rejectsWith(
        api().getRegisteredModel({ name: missing }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        new RegExp(`^Registered Model with name=${missing} not found$`),
      );
      await rejectsWith(api().getRegisteredModel({ name: "" }), "INVALID_PARAMETER_VALUE", 400);
    });

    test("registered models: a create that fails leaves nothing behind", async () => {
      const modelName = unique("failed");
      for (const tags of [
        [{ key: "a//b", value: "x" }],
        [{ key: "../up", value: "x" }],
        [{ key: "bad*key", value: "x" }],
        [{ key: "k".repeat(251), value: "x" }],
        [
          { key: "fine", value: "x" },
          { key: "big", value: "v".repeat(100_001) },
        ],
      ]) {
        await rejectsWith(api().createRegisteredModel({ name: modelName, tags }), "INVALID_PARAMETER_VALUE", 400);
        await rejectsWith(api().getRegisteredModel({ name: modelName }), "RESOURCE_DOES_NOT_EXIST", 404);
      }
      // limits are inclusive
      const { registered_model } = await api().createRegisteredModel({
        name: modelName,
        tags: [{ key: "k".repeat(250), value: "v".repeat(100_000) }],
      });
      assert.equal(registered_model.tags?.[0]?.value.length, 100_000);
    });

    test("registered models: update, rename and delete", async () => {
      const modelName = await newModel("life");
      const run = await newRun();
      const v1 = await newVersion(modelName, { run_id: run.info.run_id });
      await newVersion(modelName);
      await api().setRegisteredModelTag({ name: modelName, key: "k", value: "v" });
      await api().setModelVersionTag({ name: modelName, version: "1", key: "vk", value: "vv" });
      await api().setRegisteredModelAlias({ name: modelName, alias: "champion", version: "1" });
      await sleep(5);

      const { registered_model: updated } = await api().updateRegisteredModel({
        name: modelName,
        description: "new words",
      });
      assert.equal(updated.description, "new words");
      assert.ok(updated.last_updated_timestamp > v1.creation_timestamp);
      // absent fields are left as they are
      const again = await api().updateRegisteredModel({ name: modelName });
      assert.equal(again.registered_model.description, "new words");
      await rejectsWith(api().updateRegisteredModel({ name: unique("nope") }), "RESOURCE_DOES_NOT_EXIST", 404);

      const newName = unique("renamed");
      await sleep(5);
      const { registered_model: renamed } = await api().renameRegisteredModel({ name: modelName, new_name: newName });
      assert.equal(renamed.name, newName);
      assert.deepEqual(renamed.tags, [{ key: "k", value: "v" }]);
      assert.deepEqual(renamed.aliases, [{ alias: "champion", version: "1" }]);
      assert.deepEqual(
        renamed.latest_versions?.map((v) => [v.name, v.version]),
        [[newName, "2"]],
      );
      await rejectsWith(api().getRegisteredModel({ name: modelName }), "RESOURCE_DOES_NOT_EXIST", 404);
      const moved = (await api().getModelVersion({ name: newName, version: "1" })).model_version;
      assert.equal(moved.name, newName);
      assert.equal(moved.run_id, run.info.run_id);
      assert.deepEqual(moved.tags, [{ key: "vk", value: "vv" }]);
      assert.deepEqual(moved.aliases, ["champion"]);
      assert.ok(moved.last_updated_timestamp >= renamed.last_updated_timestamp);
      assert.equal(
        (await api().getModelVersionByAlias({ name: newName, alias: "champion" })).model_version.version,
        "1",
      );
      assert.deepEqual(await versionsOf(modelName), []);
      assert.deepEqual(await versionsOf(newName), ["2", "1"]);

      const other = await newModel("other");
      await rejectsWith(
        api().renameRegisteredModel({ name: newName, new_name: other }),
        "RESOURCE_ALREADY_EXISTS",
        400,
        new RegExp(`Registered Model \\(name=${other}\\) already exists`),
      );
      await rejectsWith(api().renameRegisteredModel({ name: newName, new_name: "" }), "INVALID_PARAMETER_VALUE", 400);
      await rejectsWith(
        api().renameRegisteredModel({ name: unique("nope"), new_name: unique("x") }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );

      await api().deleteRegisteredModel({ name: newName });
      await rejectsWith(api().getRegisteredModel({ name: newName }), "RESOURCE_DOES_NOT_EXIST", 404);
      await rejectsWith(api().getModelVersion({ name: newName, version: "1" }), "RESOURCE_DOES_NOT_EXIST", 404);
      await rejectsWith(
        api().getModelVersionByAlias({ name: newName, alias: "champion" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
      assert.deepEqual(await versionsOf(newName), []);
      await rejectsWith(api().deleteRegisteredModel({ name: newName }), "RESOURCE_DOES_NOT_EXIST", 404);
      // the name is free again, and a new model starts counting from 1
      await api().createRegisteredModel({ name: newName });
      assert.equal((await newVersion(newName)).version, "1");
      assert.deepEqual(await versionsOf(newName), ["1"]);
      assert.equal(
        (await api().getModelVersion({ name: newName, version: "1" })).model_version.tags,
        undefined,
        "tags of the deleted model's versions are gone",
      );
    });

    test("registered model tags: set, overwrite, delete and validation", async () => {
      const modelName = await newModel("tags");
      await api().setRegisteredModelTag({ name: modelName, key: "a", value: "1" });
      await api().setRegisteredModelTag({ name: modelName, key: "a", value: "2" });
      await api().setRegisteredModelTag({ name: modelName, key: "b.c/d", value: "" });
      assert.deepEqual((await api().getRegisteredModel({ name: modelName })).registered_model.tags, [
        { key: "a", value: "2" },
        { key: "b.c/d", value: "" },
      ]);
      await api().deleteRegisteredModelTag({ name: modelName, key: "a" });
      await api().deleteRegisteredModelTag({ name: modelName, key: "a" }); // absent: not an error
      assert.deepEqual((await api().getRegisteredModel({ name: modelName })).registered_model.tags, [
        { key: "b.c/d", value: "" },
      ]);
      await rejectsWith(
        api().setRegisteredModelTag({ name: modelName, key: "x".repeat(251), value: "v" }),
        "INVALID_PARAMETER_VALUE",
        400,
        /'key' exceeds the maximum length of 250/,
      );
      await rejectsWith(
        api().setRegisteredModelTag({ name: modelName, key: "k", value: "v".repeat(100_001) }),
        "INVALID_PARAMETER_VALUE",
        400,
        /'value' exceeds the maximum length of 100000/,
      );
      await rejectsWith(
        api().setRegisteredModelTag({ name: modelName, key: "a//b", value: "v" }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().setRegisteredModelTag({ name: modelName, key: "", value: "v" }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().setRegisteredModelTag({ name: unique("nope"), key: "k", value: "v" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
      await rejectsWith(
        api().deleteRegisteredModelTag({ name: unique("nope"), key: "k" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
    });

    test("model versions: create, get, update, tags and delete", async () => {
      const modelName = await newModel("versions");
      const run = await newRun();
      const before = (await api().getRegisteredModel({ name: modelName })).registered_model;
      await sleep(5);
      const { model_version: v1 } = await api().createModelVersion({
        name: modelName,
        source: `${S3}/one`,
        run_id: run.info.run_id,
        run_link: "http://ci/run/1",
        description: "first",
        tags: [{ key: "framework", value: "sklearn" }],
      });
      assert.equal(v1.name, modelName);
      assert.equal(v1.version, "1");
      assert.equal(typeof v1.version, "string");
      assert.equal(v1.status, "READY");
      assert.equal(v1.current_stage, "None");
      assert.equal(v1.source, `${S3}/one`);
      assert.equal(v1.run_id, run.info.run_id);
      assert.equal(v1.run_link, "http://ci/run/1");
      assert.equal(v1.description, "first");
      assert.deepEqual(v1.tags, [{ key: "framework", value: "sklearn" }]);
      assert.equal(v1.aliases, undefined);
      assert.equal(v1.last_updated_timestamp, v1.creation_timestamp);
      assert.deepEqual((await api().getModelVersion({ name: modelName, version: "1" })).model_version, v1);
      const touched = (await api().getRegisteredModel({ name: modelName })).registered_model;
      assert.ok(touched.last_updated_timestamp > before.last_updated_timestamp, "creating a version updates the model");

      const v2 = await newVersion(modelName);
      assert.equal(v2.version, "2");
      assert.equal(v2.run_id, undefined);

      await sleep(5);
      const { model_version: updated } = await api().updateModelVersion({
        name: modelName,
        version: "1",
        description: "better",
      });
      assert.equal(updated.description, "better");
      assert.ok(updated.last_updated_timestamp > v1.last_updated_timestamp);

      await api().setModelVersionTag({ name: modelName, version: "1", key: "framework", value: "xgboost" });
      await api().setModelVersionTag({ name: modelName, version: "1", key: "owner", value: "ada" });
      await api().deleteModelVersionTag({ name: modelName, version: "1", key: "owner" });
      await api().deleteModelVersionTag({ name: modelName, version: "1", key: "owner" }); // absent: not an error
      assert.deepEqual((await api().getModelVersion({ name: modelName, version: "1" })).model_version.tags, [
        { key: "framework", value: "xgboost" },
      ]);
      await rejectsWith(
        api().setModelVersionTag({ name: modelName, version: "1", key: "k", value: "v".repeat(100_001) }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().setModelVersionTag({ name: modelName, version: "9", key: "k", value: "v" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        new RegExp(`^Model Version \\(name=${modelName}, version=9\\) not found$`),
      );
      await rejectsWith(
        api().deleteModelVersionTag({ name: modelName, version: "9", key: "k" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );

      // errors
      await rejectsWith(
        api().getModelVersion({ name: modelName, version: "9" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        new RegExp(`^Model Version \\(name=${modelName}, version=9\\) not found$`),
      );
      await rejectsWith(
        api().getModelVersion({ name: modelName, version: "abc" }),
        "INVALID_PARAMETER_VALUE",
        400,
        /Parameter 'version' must be an integer, got 'abc'/,
      );
      await rejectsWith(
        api().updateModelVersion({ name: modelName, version: "9", description: "x" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
      const missing = unique("missing");
      await rejectsWith(
        api().createModelVersion({ name: missing, source: `${S3}/x` }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        new RegExp(`^Registered Model with name=${missing} not found$`),
      );
      await rejectsWith(
        api().createModelVersion({ name: modelName, source: "" }),
        "INVALID_PARAMETER_VALUE",
        400,
        /'source'/,
      );

      // delete: the version and its tags go; its number is never handed out again
      await api().deleteModelVersion({ name: modelName, version: "2" });
      await rejectsWith(api().getModelVersion({ name: modelName, version: "2" }), "RESOURCE_DOES_NOT_EXIST", 404);
      await rejectsWith(api().deleteModelVersion({ name: modelName, version: "2" }), "RESOURCE_DOES_NOT_EXIST", 404);
      assert.equal((await newVersion(modelName)).version, "3");
      assert.deepEqual(await versionsOf(modelName), ["3", "1"]);
    });

    test("model versions: the run must exist, and a failed create leaves no version behind", async () => {
      const modelName = await newModel("runs");
      const ghost = "0123456789abcdef0123456789abcdef";
      await rejectsWith(
        newVersion(modelName, { run_id: ghost }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        new RegExp(`Run with id=${ghost} not found`),
      );
      await rejectsWith(
        api().createModelVersion({ name: modelName, source: `runs:/${ghost}/model` }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
      await rejectsWith(
        api().createModelVersion({ name: modelName, source: `${S3}/x`, tags: [{ key: "bad*", value: "v" }] }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      assert.deepEqual(await versionsOf(modelName), []);
      assert.equal((await api().getRegisteredModel({ name: modelName })).registered_model.latest_versions, undefined);
      // no version number was used up
      assert.equal((await newVersion(modelName)).version, "1");
    });

    test("model versions: sources are checked and get-download-uri resolves runs:/ URIs", async () => {
      const modelName = await newModel("sources");
      const run = await newRun();
      const plain = await newVersion(modelName, { source: `${S3}/plain` });
      assert.equal(
        (await api().getModelVersionDownloadUri({ name: modelName, version: plain.version })).artifact_uri,
        `${S3}/plain`,
      );
      const { model_version: fromRun } = await api().createModelVersion({
        name: modelName,
        source: `runs:/${run.info.run_id}/model`,
        run_id: run.info.run_id,
      });
      assert.equal(fromRun.source, `runs:/${run.info.run_id}/model`);
      assert.equal(
        (await api().getModelVersionDownloadUri({ name: modelName, version: fromRun.version })).artifact_uri,
        `${run.info.artifact_uri}/model`,
      );
      for (const source of ["/tmp/model", "file:///tmp/model", "relative/model"]) {
        await rejectsWith(
          api().createModelVersion({ name: modelName, source }),
          "INVALID_PARAMETER_VALUE",
          400,
          /To use a local path as a model version source/,
        );
        await rejectsWith(
          api().createModelVersion({ name: modelName, source, run_id: run.info.run_id }),
          "INVALID_PARAMETER_VALUE",
          400,
          /To use a local path as a model version source/,
        );
      }
      for (const source of [
        "s3://bucket/models/../../etc",
        "mlflow-artifacts:/0/../../x",
        "http://host/a/%2e%2e/%2E%2E/b",
        "s3://bucket/a/./b",
      ]) {
        await rejectsWith(
          api().createModelVersion({ name: modelName, source }),
          "INVALID_PARAMETER_VALUE",
          400,
          /relative path references/,
        );
      }
      await rejectsWith(
        api().getModelVersionDownloadUri({ name: modelName, version: "99" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
      assert.deepEqual(await versionsOf(modelName), ["2", "1"]);
    });

    test("stages: case-insensitive in, canonical out, archive_existing_versions and latest versions", async () => {
      const modelName = await newModel("stages");
      for (let i = 0; i < 5; i++) await newVersion(modelName);
      const transition = async (version: string, stage: string, archive = false) =>
        (
          await api().transitionModelVersionStage({
            name: modelName,
            version,
            stage,
            archive_existing_versions: archive,
          })
        ).model_version;

      const p1 = await transition("1", "production");
      assert.equal(p1.current_stage, "Production");
      assert.ok(p1.last_updated_timestamp >= p1.creation_timestamp);
      assert.equal((await transition("2", "STAGING")).current_stage, "Staging");
      assert.equal((await transition("3", "Production")).current_stage, "Production");
      // without archiving, two versions share Production
      const stageOf = async (v: string) =>
        (await api().getModelVersion({ name: modelName, version: v })).model_version.current_stage;
      assert.equal(await stageOf("1"), "Production");

      const latest = async (stages?: string[]) =>
        ((await api().getLatestVersions({ name: modelName, ...(stages ? { stages } : {}) })).model_versions ?? []).map(
          (v: ModelVersion) => [v.current_stage, v.version],
        );
      assert.deepEqual(await latest(), [
        ["Production", "3"],
        ["Staging", "2"],
        ["None", "5"],
      ]);
      assert.deepEqual(await latest(["production"]), [["Production", "3"]]);
      assert.deepEqual(await latest(["Archived"]), []);
      await rejectsWith(latest(["Prod"]), "INVALID_PARAMETER_VALUE", 400, /Invalid Model Version stage: Prod/);

      // archive the others in the target stage
      const p4 = await transition("4", "Production", true);
      assert.equal(p4.current_stage, "Production");
      assert.equal(await stageOf("1"), "Archived");
      assert.equal(await stageOf("3"), "Archived");
      assert.equal(await stageOf("2"), "Staging");
      assert.deepEqual(await latest(), [
        ["Archived", "3"],
        ["Staging", "2"],
        ["Production", "4"],
        ["None", "5"],
      ]);
      const rm = (await api().getRegisteredModel({ name: modelName })).registered_model;
      assert.deepEqual(
        rm.latest_versions?.map((v) => [v.current_stage, v.version]),
        [
          ["Archived", "3"],
          ["Staging", "2"],
          ["Production", "4"],
          ["None", "5"],
        ],
      );
      assert.equal(rm.last_updated_timestamp, p4.last_updated_timestamp);

      // archiving only applies to active stages
      await rejectsWith(transition("5", "Archived", true), "INVALID_PARAMETER_VALUE", 400, /not an Active stage/);
      await rejectsWith(transition("5", "None", true), "INVALID_PARAMETER_VALUE", 400, /not an Active stage/);
      await rejectsWith(transition("5", "Retired"), "INVALID_PARAMETER_VALUE", 400, /Invalid Model Version stage/);
      await rejectsWith(transition("9", "Staging"), "RESOURCE_DOES_NOT_EXIST", 404);
      assert.equal((await transition("1", "none")).current_stage, "None");
      assert.equal(
        (await api().transitionModelVersionStage({ name: modelName, version: "5", stage: "Staging" })).model_version
          .current_stage,
        "Staging",
        "archive_existing_versions defaults to false",
      );
      assert.equal(await stageOf("2"), "Staging");
      await rejectsWith(api().getLatestVersions({ name: unique("nope") }), "RESOURCE_DOES_NOT_EXIST", 404);
    });

    test("aliases: set, move, get, delete and validation", async () => {
      const modelName = await newModel("aliases");
      await newVersion(modelName);
      await newVersion(modelName);
      await newVersion(modelName);
      await api().setRegisteredModelAlias({ name: modelName, alias: "champion", version: "1" });
      await api().setRegisteredModelAlias({ name: modelName, alias: "challenger", version: "2" });
      await api().setRegisteredModelAlias({ name: modelName, alias: "Blue-green_2", version: "1" });
      const byAlias = (await api().getModelVersionByAlias({ name: modelName, alias: "champion" })).model_version;
      assert.equal(byAlias.version, "1");
      assert.deepEqual(byAlias.aliases, ["Blue-green_2", "champion"]);
      assert.deepEqual((await api().getRegisteredModel({ name: modelName })).registered_model.aliases, [
        { alias: "Blue-green_2", version: "1" },
        { alias: "challenger", version: "2" },
        { alias: "champion", version: "1" },
      ]);

      // move
      await api().setRegisteredModelAlias({ name: modelName, alias: "champion", version: "2" });
      assert.equal(
        (await api().getModelVersionByAlias({ name: modelName, alias: "champion" })).model_version.version,
        "2",
      );
      assert.deepEqual((await api().getModelVersion({ name: modelName, version: "1" })).model_version.aliases, [
        "Blue-green_2",
      ]);
      assert.deepEqual((await api().getModelVersion({ name: modelName, version: "2" })).model_version.aliases, [
        "challenger",
        "champion",
      ]);
      const searched = (await api().searchModelVersions({ filter: `name = '${modelName}'` })).model_versions ?? [];
      assert.deepEqual(
        searched.map((v) => [v.version, v.aliases ?? []]),
        [
          ["3", []],
          ["2", ["challenger", "champion"]],
          ["1", ["Blue-green_2"]],
        ],
      );

      // delete
      await api().deleteRegisteredModelAlias({ name: modelName, alias: "challenger" });
      await api().deleteRegisteredModelAlias({ name: modelName, alias: "challenger" }); // absent: not an error
      await rejectsWith(
        api().getModelVersionByAlias({ name: modelName, alias: "challenger" }),
        "INVALID_PARAMETER_VALUE",
        400,
        /Registered model alias challenger not found/,
      );

      // deleting a version removes the aliases pointing at it
      await api().deleteModelVersion({ name: modelName, version: "2" });
      await rejectsWith(
        api().getModelVersionByAlias({ name: modelName, alias: "champion" }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      assert.deepEqual((await api().getRegisteredModel({ name: modelName })).registered_model.aliases, [
        { alias: "Blue-green_2", version: "1" },
      ]);

      // validation
      for (const [alias, message] of [
        ["latest", /'latest' alias name \(case insensitive\) is reserved/],
        ["LaTeSt", /reserved/],
        ["v1", /Version alias name 'v1' is reserved/],
        ["V42", /reserved/],
        ["has space", /Invalid alias name/],
        ["dots.not.allowed", /Invalid alias name/],
        ["a".repeat(256), /exceeds the maximum length of 255/],
        ["", /./],
      ] as const) {
        await rejectsWith(
          api().setRegisteredModelAlias({ name: modelName, alias, version: "1" }),
          "INVALID_PARAMETER_VALUE",
          400,
          message,
        );
      }
      await api().setRegisteredModelAlias({ name: modelName, alias: "a".repeat(255), version: "1" });
      await api().setRegisteredModelAlias({ name: modelName, alias: "version1", version: "1" });
      await rejectsWith(
        api().setRegisteredModelAlias({ name: modelName, alias: "ghost", version: "2" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
        new RegExp(`Model Version \\(name=${modelName}, version=2\\) not found`),
      );
      await rejectsWith(
        api().setRegisteredModelAlias({ name: modelName, alias: "ghost", version: "two" }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        api().setRegisteredModelAlias({ name: unique("nope"), alias: "x", version: "1" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
      await rejectsWith(
        api().deleteRegisteredModelAlias({ name: unique("nope"), alias: "x" }),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
      await rejectsWith(
        api().deleteRegisteredModelAlias({ name: modelName, alias: "latest" }),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(api().getModelVersionByAlias({ name: modelName, alias: "v1" }), "INVALID_PARAMETER_VALUE", 400);
    });

    test("search registered models: filter, order, page tokens and errors", async () => {
      const prefix = unique("search");
      for (const suffix of ["c", "a", "e", "b", "d"]) {
        await api().createRegisteredModel({
          name: `${prefix}-${suffix}`,
          tags: [
            { key: "group", value: prefix },
            { key: "letter", value: suffix },
          ],
        });
        await sleep(2);
      }
      const names = (r: { registered_models?: { name: string }[] }) =>
        (r.registered_models ?? []).map((m) => m.name.slice(prefix.length + 1));

      // default order: name ascending
      assert.deepEqual(names(await api().searchRegisteredModels({ filter: `name LIKE '${prefix}-%'` })), [
        "a",
        "b",
        "c",
        "d",
        "e",
      ]);
      assert.deepEqual(names(await api().searchRegisteredModels({ filter: `name = '${prefix}-b'` })), ["b"]);
      assert.deepEqual(
        names(await api().searchRegisteredModels({ filter: `name != '${prefix}-b' AND tags.group = '${prefix}'` })),
        ["a", "c", "d", "e"],
      );
      assert.deepEqual(
        names(await api().searchRegisteredModels({ filter: `name ILIKE '${prefix.toUpperCase()}-%'` })),
        ["a", "b", "c", "d", "e"],
      );
      assert.deepEqual(
        names(await api().searchRegisteredModels({ filter: `name LIKE '${prefix.toUpperCase()}-%'` })),
        [],
        "LIKE is case-sensitive",
      );
      assert.deepEqual(
        names(
          await api().searchRegisteredModels({
            filter: `tags.group = '${prefix}' AND tags.\`letter\` LIKE 'a'`,
          }),
        ),
        ["a"],
      );
      assert.deepEqual(
        names(
          await api().searchRegisteredModels({
            filter: `tag."group" = "${prefix}" and tags.letter ILIKE 'B' AND attribute.name LIKE '%'`,
          }),
        ),
        ["b"],
      );

      // order_by
      const ordered = async (order_by: string[]) =>
        names(await api().searchRegisteredModels({ filter: `tags.group = '${prefix}'`, order_by }));
      assert.deepEqual(await ordered(["name DESC"]), ["e", "d", "c", "b", "a"]);
      assert.deepEqual(await ordered(["creation_timestamp ASC"]), ["c", "a", "e", "b", "d"]);
      assert.deepEqual(await ordered(["creation_timestamp DESC"]), ["d", "b", "e", "a", "c"]);
      assert.deepEqual(await ordered(["last_updated_timestamp DESC"]), ["d", "b", "e", "a", "c"]);
      await sleep(5);
      await api().updateRegisteredModel({ name: `${prefix}-c`, description: "touched" });
      assert.deepEqual(await ordered(["timestamp desc"]), ["c", "d", "b", "e", "a"]);
      assert.deepEqual(await ordered(["`name`"]), ["a", "b", "c", "d", "e"]);

      // pages
      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await api().searchRegisteredModels({
          filter: `tags.group = '${prefix}'`,
          order_by: ["name DESC"],
          max_results: 2,
          ...(token ? { page_token: token } : {}),
        });
        pages.push(names(page));
        token = page.next_page_token;
      } while (token);
      assert.deepEqual(pages, [["e", "d"], ["c", "b"], ["a"]]);
      const exact = await api().searchRegisteredModels({ filter: `tags.group = '${prefix}'`, max_results: 5 });
      assert.equal(exact.registered_models?.length, 5);
      assert.equal(exact.next_page_token, undefined);
      assert.deepEqual(await api().searchRegisteredModels({ filter: `name = '${unique("none")}'` }), {});

      // prompts (MLflow 3 keeps them in the registry) are hidden unless asked for
      await api().createRegisteredModel({
        name: `${prefix}-prompt`,
        tags: [
          { key: "group", value: prefix },
          { key: "mlflow.prompt.is_prompt", value: "true" },
        ],
      });
      assert.deepEqual(await ordered([]), ["a", "b", "c", "d", "e"]);
      assert.deepEqual(
        names(
          await api().searchRegisteredModels({
            filter: `tags.group = '${prefix}' AND tags.\`mlflow.prompt.is_prompt\` = 'true'`,
          }),
        ),
        ["prompt"],
      );
      assert.deepEqual(
        names(
          await api().searchRegisteredModels({
            filter: `tags.group = '${prefix}' AND tags.\`mlflow.prompt.is_prompt\` = 'false'`,
          }),
        ),
        ["a", "b", "c", "d", "e"],
      );

      // errors
      const modelErrors: [RegistryRequestOf<"searchRegisteredModels">, RegExp][] = [
        [{ filter: "description = 'x'" }, /Invalid attribute key 'description'/],
        [{ filter: "name > 'x'" }, /Invalid comparator/],
        [{ filter: "tags.k > 'x'" }, /Invalid comparator for tag/],
        [{ filter: "tags.k = 5" }, /Expected a quoted string value for tag/],
        [{ filter: "name IN ('a', 'b')" }, /Only the 'run_id' attribute supports/],
        [{ filter: "params.k = 'x'" }, /Invalid entity type 'params'/],
        [{ filter: "name = 'unterminated" }, /Could not be parsed/],
        [{ filter: "name = 'a' OR name = 'b'" }, /Invalid clause/],
        [{ filter: "name = 'a' AND" }, /Invalid clause/],
        [{ order_by: ["description ASC"] }, /description/],
        [{ order_by: ["name UP"] }, /Invalid order_by clause/],
        [{ order_by: ["timestamp DESC", "last_updated_timestamp ASC"] }, /duplicate/],
        [{ order_by: ["tags.k"] }, /Invalid order_by entity/],
        [{ max_results: 1001 }, /at most 1000/],
        [{ max_results: 0 }, /positive integer/],
        [{ page_token: "not-a-token" }, /page token/],
      ];
      for (const [request, message] of modelErrors) {
        await rejectsWith(api().searchRegisteredModels(request), "INVALID_PARAMETER_VALUE", 400, message);
      }
    });

    test("search model versions: filter, order, page tokens and errors", async () => {
      const prefix = unique("mvsearch");
      const a = `${prefix}-a`;
      const b = `${prefix}-b`;
      await api().createRegisteredModel({ name: a });
      await api().createRegisteredModel({ name: b });
      const runs = [await newRun(), await newRun()];
      for (let i = 0; i < 3; i++) {
        await api().createModelVersion({
          name: a,
          source: `${S3}/${prefix}/a/${i + 1}`,
          run_id: runs[i % 2]!.info.run_id,
          tags: [{ key: "parity", value: i % 2 === 0 ? "odd" : "even" }],
        });
        await sleep(2);
      }
      await api().createModelVersion({ name: b, source: `${S3}/${prefix}/b/1`, run_id: runs[1]!.info.run_id });
      const keys = (r: { model_versions?: ModelVersion[] }) =>
        (r.model_versions ?? []).map((v) => `${v.name.slice(prefix.length + 1)}${v.version}`);
      const search = async (filter: string, extra: { order_by?: string[]; max_results?: number } = {}) =>
        keys(await api().searchModelVersions({ filter, ...extra }));

      // default order: last_updated_timestamp DESC, then name ASC, version DESC
      assert.deepEqual(await search(`name LIKE '${prefix}-%'`), ["b1", "a3", "a2", "a1"]);
      assert.deepEqual(await search(`name = '${a}'`), ["a3", "a2", "a1"]);
      assert.deepEqual(await search(`name ILIKE '${prefix.toUpperCase()}-B'`), ["b1"]);
      assert.deepEqual(await search(`name = '${a}' AND version_number > 1`), ["a3", "a2"]);
      assert.deepEqual(await search(`name = '${a}' AND version_number <= 2`), ["a2", "a1"]);
      assert.deepEqual(await search(`name = '${a}' AND version_number = '2'`), ["a2"]);
      assert.deepEqual(await search(`name = '${a}' AND version_number != 2`), ["a3", "a1"]);
      assert.deepEqual(await search(`run_id = '${runs[1]!.info.run_id}'`), ["b1", "a2"]);
      assert.deepEqual(
        await search(`run_id IN ('${runs[0]!.info.run_id}', '${runs[1]!.info.run_id}')`, {
          order_by: ["name", "version_number"],
        }),
        ["a1", "a2", "a3", "b1"],
      );
      assert.deepEqual(await search(`source_path LIKE '%/${prefix}/a/%' AND tags.parity = 'odd'`), ["a3", "a1"]);
      assert.deepEqual(await search(`source_path = '${S3}/${prefix}/b/1'`), ["b1"]);
      assert.deepEqual(await search(`name = '${a}' AND tags.parity != 'odd'`), ["a2"]);

      // order_by
      const scoped = `name LIKE '${prefix}-%'`;
      assert.deepEqual(await search(scoped, { order_by: ["version_number ASC"] }), ["a1", "b1", "a2", "a3"]);
      assert.deepEqual(await search(scoped, { order_by: ["name DESC"] }), ["b1", "a3", "a2", "a1"]);
      assert.deepEqual(await search(scoped, { order_by: ["creation_timestamp ASC"] }), ["a1", "a2", "a3", "b1"]);
      await sleep(5);
      await api().updateModelVersion({ name: a, version: "1", description: "touched" });
      assert.deepEqual(await search(scoped, { order_by: ["last_updated_timestamp DESC"] }), ["a1", "b1", "a3", "a2"]);
      assert.deepEqual(await search(scoped), ["a1", "b1", "a3", "a2"]);

      // pages
      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await api().searchModelVersions({
          filter: scoped,
          order_by: ["name ASC", "version_number ASC"],
          max_results: 3,
          ...(token ? { page_token: token } : {}),
        });
        pages.push(keys(page));
        token = page.next_page_token;
      } while (token);
      assert.deepEqual(pages, [["a1", "a2", "a3"], ["b1"]]);
      assert.deepEqual(await api().searchModelVersions({ filter: `name = '${unique("none")}'` }), {});

      // errors
      const versionErrors: [RegistryRequestOf<"searchModelVersions">, RegExp][] = [
        [{ filter: "status = 'READY'" }, /Invalid attribute key 'status'/],
        [{ filter: "version_number = 'abc'" }, /version_number/],
        [{ filter: "version_number LIKE 1" }, /Invalid comparator for attribute version_number/],
        [{ filter: "name IN ('a')" }, /Only the 'run_id' attribute supports/],
        [{ filter: "run_id NOT IN ('a')" }, /Invalid comparator/],
        [{ filter: "run_id IN ()" }, /empty list/],
        [{ filter: "run_id IN ('a',)" }, /ill-formed list/],
        [{ filter: "run_id = 5" }, /numeric values/],
        [{ filter: "name ~ 'x'" }, /Invalid clause/],
        [{ order_by: ["run_id ASC"] }, /run_id/],
        [{ order_by: ["name", "name DESC"] }, /duplicate/],
        [{ max_results: 200_001 }, /at most 200000/],
        [{ page_token: "%%%" }, /page token/],
      ];
      for (const [request, message] of versionErrors) {
        await rejectsWith(api().searchModelVersions(request), "INVALID_PARAMETER_VALUE", 400, message);
      }
    });
  });
}
