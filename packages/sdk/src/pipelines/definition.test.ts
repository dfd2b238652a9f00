/** Checking a pipeline definition and resolving run parameters: precise messages, frozen results. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { definePipeline, isPipeline, resolvePipelineParams, step, type StepContext } from "./definition.js";
import { PipelineDefinitionError, PipelineParamError } from "./errors.js";

const ok = () => ({ ok: true });

describe("definePipeline", () => {
  it("normalises steps and options", () => {
    const p = definePipeline({
      name: "retrain",
      params: { C: 10, model: "spam", dry_run: false },
      schedule: "0 3 * * *",
      on: { alert: { monitor: "spam-drift" }, registry: [{ model: "spam", event: "alias.set", alias: "champion" }] },
      steps: {
        train: step({ needs: ["prepare"], retries: 2, timeoutMs: 5000, cache: { params: ["C"] }, run: ok }),
        prepare: step({ cache: true, run: ok }),
      },
    });
    assert.ok(isPipeline(p));
    assert.equal(isPipeline({ ...p }), true, "the brand survives a spread (it is an own symbol key)");
    assert.equal(isPipeline({ name: "x" }), false);
    assert.deepEqual(p.order, ["prepare", "train"]);
    assert.equal(p.experiment, "pipelines/retrain");
    assert.equal(p.parallelism, 4);
    assert.deepEqual(p.schedules, ["0 3 * * *"]);
    assert.deepEqual(p.triggers.alert, [{ monitor: "spam-drift" }]);
    assert.deepEqual(p.triggers.registry, [{ model: "spam", event: "alias.set", alias: "champion" }]);
    const train = p.steps.train!;
    assert.deepEqual(
      { ...train, run: undefined },
      {
        name: "train",
        needs: ["prepare"],
        retries: 2,
        backoffMs: 1000,
        maxBackoffMs: 60_000,
        timeoutMs: 5000,
        cache: { params: ["C"], version: "" },
        description: undefined,
        run: undefined,
      },
    );
    assert.equal(p.steps.prepare!.cache !== false && p.steps.prepare!.cache.params, undefined);
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.steps) && Object.isFrozen(train));
  });

  it("types the inputs of a step from its run function", () => {
    const s = step({
      needs: ["prepare"],
      run: (ctx: StepContext, inputs: { prepare: { rows: number } }) => ({
        doubled: inputs.prepare.rows * 2,
        by: ctx.step,
      }),
    });
    // compile-time: the inputs and outputs are what run declares
    const typed: (
      ctx: StepContext,
      inputs: { prepare: { rows: number } },
    ) => { doubled: number; by: string } | Promise<{ doubled: number; by: string }> = s.run;
    assert.equal(typeof typed, "function");
    definePipeline({ name: "typed", steps: { prepare: step({ run: () => ({ rows: 2 }) }), s } });
  });

  const refuses = (options: unknown, message: RegExp | string) =>
    assert.throws(
      () => definePipeline(options as Parameters<typeof definePipeline>[0]),
      (error: Error) => {
        assert.ok(error instanceof PipelineDefinitionError, String(error));
        if (typeof message === "string") assert.equal(error.message, message);
        else assert.match(error.message, message);
        return true;
      },
    );

  it("refuses bad definitions with a message naming the pipeline and step", () => {
    refuses({ name: "bad name", steps: { a: { run: ok } } }, /pipeline name must be 1-100 letters/);
    refuses({ name: "p", steps: {} }, "pipeline 'p' needs at least one step: steps: { name: step({ run }) }");
    refuses({ name: "p", steps: { a: { needs: ["b"], run: ok } } }, /step 'a' needs 'b', which is not a step/);
    refuses(
      { name: "p", steps: { a: { needs: ["b"], run: ok }, b: { needs: ["a"], run: ok } } },
      /steps form a cycle: (a → b → a|b → a → b)/,
    );
    refuses(
      { name: "p", steps: { a: {} } },
      "pipeline 'p', step 'a': 'run' must be a function (ctx, inputs) => outputs",
    );
    refuses(
      { name: "p", steps: { a: { run: ok, retries: -1 } } },
      "pipeline 'p', step 'a': 'retries' must be a whole number ≥ 0, got -1",
    );
    refuses({ name: "p", steps: { a: { run: ok, timeoutMs: 0 } } }, /'timeoutMs' must be a whole number ≥ 1, got 0/);
    refuses(
      { name: "p", steps: { a: { run: ok, retry: 2 } } },
      /step 'a': unknown option 'retry' \(known: needs, retries/,
    );
    refuses({ name: "p", steps: { "a b": { run: ok } } }, /step 'a b': a step name must be/);
    refuses(
      { name: "p", params: { lr: 0.1 }, steps: { a: { run: ok, cache: { params: ["C"] } } } },
      /'cache.params' names 'C', not parameters of the pipeline/,
    );
    refuses(
      { name: "p", params: { lr: [1] }, steps: { a: { run: ok } } },
      /param 'lr' must default to a string, a finite number or a boolean, got \[1\]/,
    );
    refuses({ name: "p", params: { "bad key!": 1 }, steps: { a: { run: ok } } }, /Invalid param name: 'bad key!'/);
    refuses(
      { name: "p", steps: { a: { run: ok } }, parallelism: 0 },
      /'parallelism' must be a whole number ≥ 1, got 0/,
    );
    refuses(
      { name: "p", steps: { a: { run: ok } }, on: { alert: {} } },
      "pipeline 'p': on.alert needs 'monitor', a monitor's name",
    );
    refuses(
      { name: "p", steps: { a: { run: ok } }, on: { registry: [{ model: "m", event: "version.created" }] } },
      /on.registry\[0\]: 'event' must be one of model_version.created, alias.set, alias.deleted, model_version.stage_changed, got "version.created"/,
    );
    refuses(
      { name: "p", steps: { a: { run: ok } }, on: { webhook: {} } },
      /'on' takes 'alert' and 'registry', not webhook/,
    );
    refuses({ name: "p", steps: { a: { run: ok } }, schedule: [""] }, /'schedule' must be a cron expression/);
    refuses({ name: "p", steps: { a: { run: ok } }, trigger: {} }, /unknown option 'trigger'/);
  });
});

describe("resolvePipelineParams", () => {
  const p = definePipeline({ name: "p", params: { C: 10, model: "spam", dry_run: false }, steps: { a: { run: ok } } });

  it("applies overrides, converting text to the default's type", () => {
    assert.deepEqual(resolvePipelineParams(p), { C: 10, model: "spam", dry_run: false });
    assert.deepEqual(resolvePipelineParams(p, { C: "20.5", dry_run: "true", model: "ham" }), {
      C: 20.5,
      model: "ham",
      dry_run: true,
    });
    assert.deepEqual(resolvePipelineParams(p, { C: 3, dry_run: false }), { C: 3, model: "spam", dry_run: false });
  });

  it("refuses unknown names and values of the wrong type", () => {
    assert.throws(
      () => resolvePipelineParams(p, { c: "1" }),
      (error: Error) =>
        error instanceof PipelineParamError &&
        error.message === "pipeline 'p' has no parameter 'c' (its parameters: C, model, dry_run)",
    );
    assert.throws(
      () => resolvePipelineParams(p, { C: "ten" }),
      /parameter 'C' must be a number \(its default is 10\), got "ten"/,
    );
    assert.throws(() => resolvePipelineParams(p, { C: "" }), /must be a number/);
    assert.throws(() => resolvePipelineParams(p, { dry_run: "yes" }), /parameter 'dry_run' must be true or false/);
    assert.throws(() => resolvePipelineParams(p, { model: 3 }), /parameter 'model' must be a string/);
    const none = definePipeline({ name: "none", steps: { a: { run: ok } } });
    assert.throws(() => resolvePipelineParams(none, { x: "1" }), /has no parameter 'x' \(it has none\)/);
  });
});
