/**
 * The configuration reference (docs/guide/reference/configuration.md): every setting of the tracking server from
 * the table its project-file reader uses (`SERVER_SETTINGS`, packages/server/src/platform/server-settings.ts), the
 * keys of a project file's `monitors:` list from `monitor apply`'s own list, and the environment variables the other
 * commands, the SDK and the servers read (`ENVIRONMENT_VARIABLES` below). Every flag named is looked up in the
 * commander program, so a renamed flag fails the rendering; a test compares the committed file with a fresh
 * rendering and checks that every environment variable the packages' sources read is listed here, and
 * `npm run docs:reference` rewrites it.
 */
import type { Command, Option } from "commander";
import { SERVER_SETTINGS, type ServerSetting, type SettingKind } from "@slipway/server";
import { MONITOR_FILE_KEYS } from "../commands/monitor-apply.js";

export const CONFIG_REFERENCE_PATH = "docs/guide/reference/configuration.md";

export interface EnvironmentVariable {
  name: string;
  /** Flags that set the same thing and win over the variable: `COMMAND... --flag`, or `* --flag` for many commands. */
  flags?: readonly string[];
  default?: string;
  description: string;
}

export interface EnvironmentArea {
  title: string;
  intro: string;
  variables: readonly EnvironmentVariable[];
}

const TRACKING_URI_DEFAULT = "http://127.0.0.1:5000";

/** The environment variables read outside `slipway server`'s settings, by who reads them. */
export const ENVIRONMENT_VARIABLES: readonly EnvironmentArea[] = [
  {
    title: "Clients: the CLI and the SDK",
    intro:
      "Every command that talks to a tracking server, and the SDK's `TrackingClient`, find it and sign in the way " +
      "MLflow's clients do. A flag wins over the variable; the SDK's options win over both.",
    variables: [
      {
        name: "SLIPWAY_TRACKING_URI",
        flags: ["* --tracking-uri"],
        default: TRACKING_URI_DEFAULT,
        description:
          "The tracking server (control plane). Blank counts as unset. Also where `slipway serve` and " +
          "`slipway llm serve` check callers (`--auth control-plane`) and send inference logs.",
      },
      {
        name: "MLFLOW_TRACKING_URI",
        flags: ["* --tracking-uri"],
        default: TRACKING_URI_DEFAULT,
        description: "MLflow's name for the same, read when `SLIPWAY_TRACKING_URI` is unset.",
      },
      {
        name: "MLFLOW_TRACKING_TOKEN",
        description:
          "An API token (`slipway tokens create`), sent as a bearer token. Wins over a username and password.",
      },
      {
        name: "MLFLOW_TRACKING_USERNAME",
        description: "With `MLFLOW_TRACKING_PASSWORD`: HTTP basic credentials, used when no token is set.",
      },
      { name: "MLFLOW_TRACKING_PASSWORD", description: "The password that goes with `MLFLOW_TRACKING_USERNAME`." },
      {
        name: "SLIPWAY_CREDENTIALS_FILE",
        default: "~/.slipway/credentials",
        description: "Where `slipway login` keeps API tokens, one per server; used when neither variable above is set.",
      },
      {
        name: "SLIPWAY_MODEL_CACHE",
        flags: ["models download --cache-dir", "models generate-dockerfile --cache-dir"],
        default: "~/.cache/slipway/models",
        description: "The directory downloaded model packages are cached in (also by `slipway serve`).",
      },
      {
        name: "SLIPWAY_REPRODUCES",
        description:
          "Set by `slipway runs reproduce` for the command it runs: the SDK tags the new run as a reproduction " +
          "of this run id.",
      },
      {
        name: "USER",
        description:
          "The run's user tag (`mlflow.user`), when the operating system has no account name for the process " +
          "(then `LOGNAME`, then `USERNAME`).",
      },
      { name: "LOGNAME", description: "See `USER`." },
      { name: "USERNAME", description: "See `USER`." },
    ],
  },
  {
    title: "Artifact storage on S3",
    intro:
      "The tracking server (and `slipway gc`) reach an `s3://` artifacts destination with the standard AWS " +
      "variables; without keys, the AWS SDK's default chain (profiles, SSO, web identity, instance role) applies.",
    variables: [
      {
        name: "AWS_ENDPOINT_URL_S3",
        description:
          "The S3 endpoint, after `s3_endpoint_url` (`SLIPWAY_S3_ENDPOINT_URL`, `MLFLOW_S3_ENDPOINT_URL`) and " +
          "before `AWS_ENDPOINT_URL`.",
      },
      { name: "AWS_REGION", default: "us-east-1", description: "The bucket's region." },
      { name: "AWS_DEFAULT_REGION", description: "The region, when `AWS_REGION` is unset." },
      { name: "AWS_ACCESS_KEY_ID", description: "With `AWS_SECRET_ACCESS_KEY`: static credentials." },
      { name: "AWS_SECRET_ACCESS_KEY", description: "The secret that goes with `AWS_ACCESS_KEY_ID`." },
      { name: "AWS_SESSION_TOKEN", description: "A session token for temporary credentials." },
      {
        name: "AWS_REQUEST_CHECKSUM_CALCULATION",
        default: "WHEN_REQUIRED",
        description:
          "`WHEN_SUPPORTED` checksums every upload; the default checksums only where S3 requires it, which " +
          "S3-compatible stores understand.",
      },
      {
        name: "AWS_RESPONSE_CHECKSUM_VALIDATION",
        default: "WHEN_REQUIRED",
        description: "`WHEN_SUPPORTED` validates every download's checksum.",
      },
    ],
  },
  {
    title: "Model server (`slipway serve`)",
    intro:
      "Where the model server listens: `--port`/`--host` when given, else the port the platform sets (Vertex AI, " +
      "then SageMaker mode), else 127.0.0.1:8080. See [serving.md](../../serving.md).",
    variables: [
      {
        name: "AIP_HTTP_PORT",
        flags: ["serve --port"],
        description: "Vertex AI's port; when set, the server listens on it on 0.0.0.0.",
      },
      {
        name: "AIP_HEALTH_ROUTE",
        default: "/v1/endpoints/<AIP_ENDPOINT_ID>/deployedModels/<AIP_DEPLOYED_MODEL_ID>",
        description: "Vertex AI's health route.",
      },
      {
        name: "AIP_PREDICT_ROUTE",
        default: "<the health route>:predict",
        description: "Vertex AI's prediction route.",
      },
      { name: "AIP_ENDPOINT_ID", default: "default", description: "Vertex AI's endpoint id, in the default routes." },
      {
        name: "AIP_DEPLOYED_MODEL_ID",
        description: "Vertex AI's deployed model id, in the default routes (default: the served model's name).",
      },
      {
        name: "SAGEMAKER_BIND_TO_PORT",
        flags: ["serve --port"],
        default: "8080",
        description: "In SageMaker mode (`--sagemaker`): the port, on 0.0.0.0.",
      },
    ],
  },
  {
    title: "LLM server (`slipway llm serve`)",
    intro: "See [llm-serving.md](../../llm-serving.md).",
    variables: [
      {
        name: "SLIPWAY_LLM_HOST",
        flags: ["llm serve --host"],
        default: "127.0.0.1",
        description: "The address to bind.",
      },
      { name: "SLIPWAY_LLM_PORT", flags: ["llm serve --port"], default: "8000", description: "The port." },
    ],
  },
  {
    title: "Container images (`slipway models generate-dockerfile`)",
    intro: "The generated image's `serve` entry point reads these; the Dockerfile sets the first.",
    variables: [
      { name: "SLIPWAY_MODEL_DIR", default: "/opt/ml/model", description: "The model the image serves." },
      {
        name: "SLIPWAY_BIN",
        default: "/app/packages/cli/bin/slipway.js",
        description: "The `slipway` command inside the image.",
      },
    ],
  },
];

export function renderConfigReference(program: Command): string {
  const server = findCommand(program, ["server"]);
  const config = findOption(server, "--config");
  const lines = [
    "# Configuration reference",
    "",
    "<!-- Generated from the code's own settings tables by `npm run docs:reference`; do not edit by hand. -->",
    "",
    "Slipway is configured with flags, environment variables and, for the tracking server, a project file",
    "(`slipway.yaml`). A flag wins over its environment variable, which wins over the project file (read by",
    "`slipway server` only), which wins over the default. Every flag is also listed in the [CLI reference](cli.md).",
    "",
    "- [Tracking server (`slipway server`)](#tracking-server-slipway-server)",
    "- [Project file (`slipway.yaml`)](#project-file-slipwayyaml)",
    ...ENVIRONMENT_VARIABLES.map((area) => `- [${area.title}](#${anchor(area.title)})`),
    "",
    "## Tracking server (`slipway server`)",
    "",
    "Each setting is read from its flag, else its environment variable, else the `server:` section of the project",
    `file (\`${config.long} FILE\`, or \`./slipway.yaml\` when it has one), else its default. Booleans in the`,
    "environment are `true`/`false` (or `1`/`0`); lists are comma-separated. Secrets are refused in the project",
    "file: set them in the environment or a secret store. See [tracking-server.md](../../tracking-server.md) and",
    "[auth.md](../../auth.md).",
    "",
    "| Key under `server:` | Environment | Flag | Type | Default | Description |",
    "| --- | --- | --- | --- | --- | --- |",
    ...SERVER_SETTINGS.map((setting) => serverRow(server, setting)),
    "",
    "## Project file (`slipway.yaml`)",
    "",
    "A YAML mapping with these top-level sections, each read by the command that needs it; other sections are",
    "ignored by both.",
    "",
    "| Section | Read by | Keys |",
    "| --- | --- | --- |",
    `| \`server:\` | \`slipway server\` (\`--config\`) | ${SERVER_SETTINGS.filter((s) => !s.secret)
      .map((s) => `\`${s.key}\``)
      .join(", ")} (the \`oidc.*\` keys nested under \`oidc:\`); see above |`,
    `| \`monitors:\` | \`slipway monitor apply\` (\`${findOption(findCommand(program, ["monitor", "apply"]), "--file").flags}\`) | a list of monitors, each with ${MONITOR_FILE_KEYS.map((k) => `\`${k}\``).join(", ")}; see [monitoring.md](../../monitoring.md) |`,
    "",
    "The defaults, as a `server:` section:",
    "",
    "```yaml",
    "server:",
    ...SERVER_SETTINGS.filter((s) => !s.secret && !s.key.includes(".") && s.default !== undefined).map(
      (s) => `  ${s.key}: ${s.default}`,
    ),
    "```",
    "",
  ];
  for (const area of ENVIRONMENT_VARIABLES) {
    lines.push(`## ${area.title}`, "", area.intro, "");
    lines.push("| Variable | Flag | Default | Description |", "| --- | --- | --- | --- |");
    for (const variable of area.variables) {
      const flags = (variable.flags ?? []).map((spec) => flagText(program, spec)).join(", ");
      const value = variable.default === undefined ? "" : code(variable.default);
      lines.push(`| \`${variable.name}\` | ${flags} | ${value} | ${cell(variable.description)} |`);
    }
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** Every environment variable the reference lists. */
export function documentedVariables(): Set<string> {
  const names = new Set<string>();
  for (const setting of SERVER_SETTINGS) for (const name of [setting.env, ...(setting.aliases ?? [])]) names.add(name);
  for (const area of ENVIRONMENT_VARIABLES) for (const variable of area.variables) names.add(variable.name);
  return names;
}

function serverRow(server: Command, setting: ServerSetting): string {
  const key = setting.secret ? "— (environment only)" : `\`${setting.key}\``;
  const env = [`\`${setting.env}\``, ...(setting.aliases ?? []).map((a) => `\`${a}\``)].join(", then ");
  const flag = setting.flag === undefined ? "" : `\`${findOption(server, setting.flag).long ?? setting.flag}\``;
  const value = setting.default === undefined ? "" : code(setting.default);
  return `| ${key} | ${env} | ${flag} | ${kindText(setting.kind)} | ${value} | ${cell(setting.description)} |`;
}

function kindText(kind: SettingKind): string {
  if (typeof kind !== "string") return `one of ${kind.map((k) => `\`${k}\``).join(", ")}`;
  return { string: "text", port: "port (0-65535)", boolean: "boolean", list: "list of names" }[kind];
}

/** `COMMAND... --flag` as a link to the command in the CLI reference; `* --flag` must exist on some command. */
function flagText(program: Command, spec: string): string {
  const words = spec.split(" ");
  const flag = words.pop()!;
  if (words.length === 1 && words[0] === "*") {
    const users = allCommands(program).filter((command) => command.options.some((o) => o.long === flag));
    if (users.length === 0) throw new Error(`config reference: no command has ${flag}`);
    return `\`${flag}\` (every command that talks to the server)`;
  }
  findOption(findCommand(program, words), flag);
  return `[\`${program.name()} ${words.join(" ")} ${flag}\`](cli.md#${anchor(words.join(" "))})`;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap((sub) => allCommands(sub))];
}

function findCommand(program: Command, path: readonly string[]): Command {
  let command = program;
  for (const name of path) {
    const sub = command.commands.find((c) => c.name() === name);
    if (sub === undefined) throw new Error(`config reference: no command '${path.join(" ")}'`);
    command = sub;
  }
  return command;
}

function findOption(command: Command, flag: string): Option {
  const option = command.options.find((o) => o.long === flag);
  if (option === undefined) throw new Error(`config reference: '${command.name()}' has no ${flag}`);
  return option;
}

/** GitHub's heading anchors: lower case, spaces to hyphens, punctuation dropped. */
function anchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");
}

/** A value in a table cell, as code (where entities would show as typed). */
function code(text: string): string {
  return `\`${text.replace(/\|/g, "\\|")}\``;
}

/** Table cells: one line, pipes escaped, angle brackets not read as HTML. */
function cell(text: string): string {
  return text
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\s*\n\s*/g, " ")
    .replace(/\|/g, "\\|");
}
