/**
 * `slipway llm log-model FILE --name NAME [--experiment E] [--register MODEL] [--alias A]`: logs a GGUF
 * file as a `gguf` model package in a tracked run (its header's facts as params), optionally registers
 * it and sets an alias — then `slipway llm serve --model qwen=models:/MODEL@A` serves it.
 */
import { access } from "node:fs/promises";
import type { Command } from "commander";
import { logGgufModelRun } from "@slipway/inference";
import { TRACKING_URI_HELP, clientFor, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";

interface LogModelFlags extends ClientFlags {
  name: string;
  experiment?: string;
  register?: string;
  alias?: string;
}

export function registerLlmLogModel(llm: Command): void {
  llm
    .command("log-model")
    .description("Log a GGUF file as a model package (gguf flavor) in a tracked run; optionally register it")
    .argument("<file>", "the GGUF model file")
    .requiredOption("--name <name>", "the run's name")
    .option("--experiment <name>", "experiment (created if missing; default: Default)")
    .option("--register <model>", "register the package as a new version of this registered model")
    .option("--alias <alias>", "point this alias of the registered model at the new version (with --register)")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "print the result as JSON")
    .action(async (file: string, flags: LogModelFlags) => {
      if (flags.alias !== undefined && flags.register === undefined) {
        throw new UsageError("--alias needs --register MODEL (an alias belongs to a registered model)");
      }
      try {
        await access(file);
      } catch {
        throw new UsageError(`no such file '${file}'`);
      }
      const logged = await logGgufModelRun({
        client: clientFor(flags),
        path: file,
        runName: flags.name,
        ...(flags.experiment === undefined ? {} : { experiment: flags.experiment }),
        ...(flags.register === undefined ? {} : { registeredModelName: flags.register }),
        ...(flags.alias === undefined ? {} : { alias: flags.alias }),
        onProgress: flags.json ? undefined : (line) => process.stdout.write(`${line}\n`),
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(logged)}\n`);
        return;
      }
      const { info } = logged;
      process.stdout.write(
        `logged ${logged.modelUri}: ${info.architecture}, ${info.parameterCount} parameters, ${info.quantization}, ` +
          `context ${info.contextLength ?? "unknown"}, chat template ${info.hasChatTemplate ? "yes" : "no"}\n` +
          (logged.version === undefined
            ? ""
            : `registered ${flags.register} version ${logged.version}` +
              (flags.alias === undefined ? "" : `; ${flags.register}@${flags.alias} → version ${logged.version}`) +
              `\nserve it: slipway llm serve --model ${flags.register}=models:/${flags.register}` +
              (flags.alias === undefined ? `/${logged.version}` : `@${flags.alias}`) +
              "\n"),
      );
    });
}
