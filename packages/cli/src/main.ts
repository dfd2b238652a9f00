/** The `slipway` command: one subcommand per user task. */
import { Command, CommanderError } from "commander";
import { MlflowError } from "@slipway/protocol";
import { ConfigError } from "@slipway/server";
import { registerArtifacts } from "./commands/artifacts.js";
import { registerBatchPredict } from "./commands/batch-predict.js";
import { registerData } from "./commands/data.js";
import { registerDb } from "./commands/db.js";
import { registerDeploy } from "./commands/deploy.js";
import { registerDrift } from "./commands/drift.js";
import { registerExperiments } from "./commands/experiments.js";
import { registerGate } from "./commands/gate.js";
import { registerGc } from "./commands/gc.js";
import { registerLlm } from "./commands/llm.js";
import { registerLoadTest } from "./commands/loadtest.js";
import { registerLogin } from "./commands/login.js";
import { registerModels } from "./commands/models.js";
import { registerMonitor } from "./commands/monitor.js";
import { registerMonitorApply } from "./commands/monitor-apply.js";
import { registerPipeline } from "./commands/pipeline.js";
import { registerRuns } from "./commands/runs.js";
import { registerServe } from "./commands/serve.js";
import { registerServer } from "./commands/server.js";
import { registerSimulateTraffic } from "./commands/simulate-traffic.js";
import { registerTokens } from "./commands/tokens.js";
import { registerUsers } from "./commands/users.js";
import { registerWorker } from "./commands/worker.js";
import { UsageError } from "./errors.js";
import { cliVersion } from "./version.js";

export function buildProgram(): Command {
  const program = new Command("slipway")
    .description("Slipway: track, register, serve and monitor ML models")
    .version(cliVersion(), "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerServer(program);
  registerDb(program);
  registerExperiments(program);
  registerRuns(program);
  registerArtifacts(program);
  registerModels(program);
  registerGc(program);
  registerData(program);
  registerDrift(program);
  registerSimulateTraffic(program);
  registerMonitorApply(registerMonitor(program));
  registerServe(program);
  registerDeploy(program);
  registerBatchPredict(program);
  registerGate(program);
  registerPipeline(program);
  registerWorker(program);
  registerLlm(program);
  registerLoadTest(program);
  registerUsers(program);
  registerTokens(program);
  registerLogin(program);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 bad usage. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its one-line message (or the help/version text)
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`slipway: ${error.message}\n`);
      return 2;
    }
    if (error instanceof MlflowError) {
      process.stderr.write(`slipway: ${error.code}: ${error.message}\n`);
      return 1;
    }
    const e = error as { code?: string; message?: string };
    if (e?.code === "EADDRINUSE") {
      process.stderr.write(
        `slipway: ${e.message ?? "address in use"} (is another server running? choose another --port)\n`,
      );
      return 1;
    }
    if (e?.code === "ECONNREFUSED" || (e as { cause?: { code?: string } })?.cause?.code === "ECONNREFUSED") {
      process.stderr.write(
        `slipway: cannot reach the tracking server (${e.message ?? "connection refused"}); start it with 'slipway server' or set --tracking-uri\n`,
      );
      return 1;
    }
    process.stderr.write(`slipway: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
