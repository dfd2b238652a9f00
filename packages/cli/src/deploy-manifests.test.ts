/**
 * The deployment files (`deploy/k8s/`, `deploy/grafana/`) checked against the code they deploy:
 *
 * - every YAML and JSON file parses; every Kubernetes object has apiVersion, kind and metadata.name; the
 *   kustomizations list every manifest but the two that must not be applied with them;
 * - objects agree with each other (Service and PDB selectors, ports, the HPA's target, ServiceMonitors, the
 *   model server's tracking URI, Secret and ConfigMap references, the image's uid);
 * - containers run commands and `--flags` that `slipway <command> --help` lists, and `SLIPWAY_*` variables the
 *   source reads;
 * - probes and scrape paths are served: a real `slipway server`, and a real `slipway serve` started with the
 *   manifest's own arguments against it (a registered `spam` model), whose OpenAPI document (rendered from the
 *   inference package's route table) must list them; the model server drains within its grace period;
 * - the PrometheusRule holds exactly the groups of deploy/prometheus/slipway-alerts.yaml
 *   (`SLIPWAY_UPDATE_DEPLOY=1` regenerates it);
 * - every metric named in the dashboards' PromQL, the alert rules, the HPA and the prometheus-adapter rule is
 *   registered in packages/*\/src (a prom-client metric name in the source), or, for the `slipway_process_*`
 *   default metrics, exposed by the running servers;
 * - the dashboards use a Prometheus data source variable and their template variables;
 * - when the tools are installed: promtool parses every PromQL expression, kubectl kustomize builds both trees.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } from "@slipway/ml";
import { Slipway, TrackingClient, logModelPackage, setAlias, type ActiveRun } from "@slipway/sdk";
import { BIN, runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const K8S = join(ROOT, "deploy", "k8s");
const GRAFANA = join(ROOT, "deploy", "grafana");
const ALERTS = join(ROOT, "deploy", "prometheus", "slipway-alerts.yaml");
const PROMETHEUS_RULE = join(K8S, "monitoring", "prometheusrule.yaml");
/** Files under deploy/k8s that are deliberately outside the kustomization (see its header). */
const NOT_APPLIED = ["control-plane/secret.example.yaml", "prometheus-adapter/rules.yaml"];

// ------------------------------------------------------------------------------------------------ types

type Labels = Record<string, string>;

interface Probe {
  httpGet?: { path?: string; port?: string | number };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean };
}

interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Labels };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: Labels | { matchLabels?: Labels };
    template?: { metadata?: { labels?: Labels }; spec?: PodSpec };
    ports?: { name?: string; port: number; targetPort?: string | number }[];
    scaleTargetRef?: { apiVersion: string; kind: string; name: string };
    metrics?: { type: string; pods?: { metric: { name: string } }; resource?: { name: string } }[];
    endpoints?: { port?: string; path?: string }[];
    groups?: unknown;
  };
}

interface Manifest {
  /** Path relative to the repository root. */
  file: string;
  object: K8sObject;
}

interface Kustomization {
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  configMapGenerator?: { name: string; files?: string[] }[];
}

interface AdapterRule {
  seriesQuery: string;
  metricsQuery: string;
  name?: { matches?: string; as?: string };
  resources?: { overrides?: Record<string, { resource: string }> };
}

interface GrafanaTarget {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

interface GrafanaPanel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

interface GrafanaVariable {
  type: string;
  name: string;
  query?: string | { query?: string };
  definition?: string;
  datasource?: { type?: string; uid?: string };
}

interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  templating?: { list?: GrafanaVariable[] };
  panels?: GrafanaPanel[];
}

// ------------------------------------------------------------------------------------------------ files

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

const rel = (path: string): string => relative(ROOT, path).split("\\").join("/");

/** Every document of a YAML file, as plain data; a syntax error fails with the file's name. */
function yamlDocuments(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, "utf8"));
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc) => {
    assert.deepEqual(
      doc.errors.map((e) => e.message),
      [],
      `${rel(path)} does not parse`,
    );
    return doc.toJS() as unknown;
  });
}

function readYaml<T>(path: string): T {
  return parseYaml(readFileSync(path, "utf8")) as T;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

const isYaml = (path: string): boolean => /\.ya?ml$/.test(path);
const isKustomization = (path: string): boolean => /(^|\/)kustomization\.ya?ml$/.test(path);

/** Every Kubernetes object under deploy/k8s (kustomizations aside), with its file. */
function k8sManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const path of walk(K8S).filter((p) => isYaml(p) && !isKustomization(rel(p)))) {
    for (const doc of yamlDocuments(path)) {
      if (doc !== null && doc !== undefined) out.push({ file: rel(path), object: doc });
    }
  }
  return out;
}

/** The files a kustomization applies, following directories that hold their own kustomization. */
function kustomizedFiles(dir: string): string[] {
  const k = readYaml<Kustomization>(join(dir, "kustomization.yaml"));
  const files: string[] = [];
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    assert.ok(statSync(path, { throwIfNoEntry: false }), `${rel(dir)}/kustomization.yaml lists missing ${resource}`);
    if (statSync(path).isDirectory()) files.push(...kustomizedFiles(path));
    else files.push(rel(path));
  }
  return files;
}

const manifests = k8sManifests();
const applied = new Set(kustomizedFiles(K8S));
const ofKind = (kind: string): Manifest[] => manifests.filter((m) => m.object.kind === kind && applied.has(m.file));
const nameOf = (m: Manifest): string => m.object.metadata?.name ?? "";

function one(kind: string, predicate: (m: Manifest) => boolean, what: string): Manifest {
  const found = ofKind(kind).filter(predicate);
  assert.equal(found.length, 1, `expected one ${kind} (${what}), found ${found.length}`);
  return found[0]!;
}

const workloads = (): Manifest[] => [...ofKind("Deployment"), ...ofKind("Job")];
const podSpecOf = (m: Manifest): PodSpec => {
  const spec = m.object.spec?.template?.spec;
  assert.ok(spec, `${m.file}: ${nameOf(m)} has no pod template`);
  return spec;
};
const containersOf = (m: Manifest): Container[] => [...(podSpecOf(m).initContainers ?? []), ...podSpecOf(m).containers];

/** A Service's selector is its labels; the others' is `matchLabels`. */
function matchLabels(selector: Labels | { matchLabels?: Labels } | undefined): Labels {
  if (selector === undefined) return {};
  if (typeof selector.matchLabels === "object") return selector.matchLabels;
  return selector as Labels;
}
const selects = (selector: Labels, labels: Labels | undefined): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const controlPlane = (): Manifest =>
  one("Deployment", (m) => containersOf(m).some((c) => c.args?.[0] === "server"), "running `slipway server`");
const modelServer = (): Manifest =>
  one("Deployment", (m) => containersOf(m).some((c) => c.args?.[0] === "serve"), "running `slipway serve`");
const mainContainer = (m: Manifest): Container => podSpecOf(m).containers[0]!;

/** The value following `--flag` (or in `--flag=value`). */
function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]!.startsWith(`${flag}=`)) return args[i]!.slice(flag.length + 1);
  }
  return undefined;
}

/** Replaces the values of the given flags (both `--flag value` and `--flag=value`). */
function withFlags(args: readonly string[], values: Record<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = values[flag];
    if (value === undefined) out.push(arg);
    else if (eq > 0) out.push(`${flag}=${value}`);
    else {
      out.push(arg, value);
      i++;
    }
  }
  return out;
}

/** The seconds a container's preStop hook waits before SIGTERM (`sleep N`). */
function preStopSeconds(c: Container): number {
  const hook = c.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds;
  const command = hook?.exec?.command ?? [];
  return command[0] === "sleep" ? Number(command[1]) : 0;
}

function probePaths(c: Container): { kind: string; path: string; port: string | number | undefined }[] {
  const out = [];
  for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
    const get = c[kind]?.httpGet;
    if (get?.path) out.push({ kind, path: get.path, port: get.port });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ source

/** Non-test TypeScript sources of every package. */
function sourceFiles(): { path: string; text: string }[] {
  const out = [];
  for (const pkg of readdirSync(join(ROOT, "packages"))) {
    const src = join(ROOT, "packages", pkg, "src");
    if (!statSync(src, { throwIfNoEntry: false })?.isDirectory()) continue;
    for (const path of walk(src)) {
      if (path.endsWith(".ts") && !path.endsWith(".test.ts") && !path.endsWith(".d.ts")) {
        out.push({ path, text: readFileSync(path, "utf8") });
      }
    }
  }
  return out;
}

const SOURCES = sourceFiles();

/** Metric names registered with prom-client: `"slipway_…"` literals in the files that define metrics. */
function registeredMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const { text } of SOURCES) {
    if (!/from "prom-client"|from "\.\/series-metrics\.js"/.test(text)) continue;
    for (const m of text.matchAll(/"(slipway_[a-z0-9_]*[a-z0-9])"/g)) names.add(m[1]!);
  }
  return names;
}

/** `# TYPE name type` lines of a Prometheus text exposition. */
function exposedMetrics(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Label names of a metric's samples in an exposition. */
function sampleLabels(text: string, metric: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\}`, "gm"))) {
    for (const l of m[1]!.matchAll(/([A-Za-z_]\w*)="/g)) out.add(l[1]!);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ PromQL

const PROMQL_FUNCTIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "count",
  "group",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
  "rate",
  "irate",
  "increase",
  "delta",
  "idelta",
  "deriv",
  "resets",
  "changes",
  "abs",
  "ceil",
  "floor",
  "round",
  "clamp",
  "clamp_min",
  "clamp_max",
  "histogram_quantile",
  "time",
  "timestamp",
  "vector",
  "scalar",
  "absent",
  "absent_over_time",
  "avg_over_time",
  "max_over_time",
  "min_over_time",
  "sum_over_time",
  "count_over_time",
  "last_over_time",
  "label_replace",
  "label_join",
  "sort",
  "sort_desc",
]);
const PROMQL_KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression selects. */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?\w+\}?/g, " ")
    .replace(/(?<![\w:])\d[\w.]*/g, " ");
  const names: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const word = m[0];
    if (/^\s*\(/.test(bare.slice(m.index + word.length))) {
      assert.ok(PROMQL_FUNCTIONS.has(word), `unknown PromQL function ${word}( in: ${expr}`);
    } else if (!PROMQL_KEYWORDS.has(word.toLowerCase())) {
      names.push(word);
    }
  }
  return names;
}

/** Label names in the matchers `{…}` that follow `metric`. */
function matcherLabels(expr: string, metric: string): string[] {
  const out: string[] = [];
  for (const m of expr.matchAll(new RegExp(`\\b${metric}\\{([^}]*)\\}`, "g"))) {
    const matchers = m[1]!.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    for (const l of matchers.matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) out.push(l[1]!);
  }
  return out;
}

/** Grafana's interval variables as promtool can parse them. */
const withoutGrafanaVariables = (expr: string): string =>
  expr.replaceAll("$__rate_interval", "1m").replaceAll("$__range", "6h").replaceAll("$__interval", "1m");

// ------------------------------------------------------------------------------------------------ Grafana

const dashboardFiles = walk(join(GRAFANA, "dashboards")).filter((p) => p.endsWith(".json"));

function panelsOf(panels: readonly GrafanaPanel[] | undefined): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  for (const p of panels ?? []) out.push(p, ...panelsOf(p.panels));
  return out;
}

function dashboardExpressions(): { file: string; panel: string; expr: string }[] {
  const out = [];
  for (const path of dashboardFiles) {
    for (const panel of panelsOf(readJson<Dashboard>(path).panels)) {
      for (const t of panel.targets ?? []) {
        if (t.expr !== undefined) out.push({ file: rel(path), panel: panel.title ?? "", expr: t.expr });
      }
    }
  }
  return out;
}

const variableQuery = (v: GrafanaVariable): string =>
  typeof v.query === "string" ? v.query : (v.query?.query ?? v.definition ?? "");

function adapterRules(): AdapterRule[] {
  const configMap = manifests.find((m) => m.file === "deploy/k8s/prometheus-adapter/rules.yaml");
  assert.ok(configMap, "deploy/k8s/prometheus-adapter/rules.yaml holds the adapter's ConfigMap");
  const config = configMap.object.data?.["config.yaml"];
  assert.ok(config, "the adapter ConfigMap has config.yaml");
  const rules = parseYaml(config) as { rules?: AdapterRule[] };
  assert.ok(rules.rules && rules.rules.length > 0, "the adapter config has rules");
  return rules.rules;
}

/** The metric a seriesQuery selects (`name{…}`). */
const seriesMetric = (seriesQuery: string): string => /^\s*([A-Za-z_:][\w:]*)/.exec(seriesQuery)?.[1] ?? "";

/** An adapter metricsQuery with its templates filled in as the adapter would. */
const adapterQuery = (rule: AdapterRule): string =>
  rule.metricsQuery
    .replaceAll("<<.Series>>", seriesMetric(rule.seriesQuery))
    .replaceAll("<<.LabelMatchers>>", 'namespace="slipway",pod=~"slipway-serve-spam-.*"')
    .replaceAll("<<.GroupBy>>", "pod");

/** The custom-metric name a rule serves (`name.as`, with `${1}`-style groups filled from `name.matches`). */
function adapterMetricName(rule: AdapterRule): string {
  const series = seriesMetric(rule.seriesQuery);
  if (!rule.name?.as) return series;
  const match = new RegExp(rule.name.matches ?? ".*").exec(series);
  assert.ok(match, `adapter rule: name.matches ${rule.name.matches} does not match ${series}`);
  return rule.name.as.replace(/\$\{?(\d+)\}?/g, (_, n: string) => match[Number(n)] ?? "");
}

// ------------------------------------------------------------------------------------------------ CLI help

const helpCache = new Map<string, Promise<string>>();
function helpOf(path: readonly string[]): Promise<string> {
  const key = path.join(" ");
  let help = helpCache.get(key);
  if (!help) {
    help = runSlipway([...path, "--help"]).then((r) => {
      assert.equal(r.code, 0, `slipway ${key} --help failed: ${r.stderr}`);
      return r.stdout;
    });
    helpCache.set(key, help);
  }
  return help;
}

/** Subcommand names in a help text's "Commands:" section. */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? "";
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!);
}

/** The command an argument list runs (`["db", "upgrade"]`) and its help text. */
async function commandOf(args: readonly string[]): Promise<{ path: string[]; help: string }> {
  const path: string[] = [];
  let help = await helpOf([]);
  for (const arg of args) {
    if (arg.startsWith("-") || !commandsIn(help).includes(arg)) break;
    path.push(arg);
    help = await helpOf(path);
  }
  return { path, help };
}

// ------------------------------------------------------------------------------------------------ tools

function hasTool(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: "ignore", timeout: 30_000 });
  return r.status === 0;
}

// ------------------------------------------------------------------------------------------------ servers

const TEXTS = ["win a free prize now", "free money click here", "meeting on monday", "review the report please"];

let tracking: ServerProcess | undefined;
let run: ActiveRun | undefined;
let serve: ChildProcess | undefined;
let serveUrl = "";
let serveOut = "";
const serverMetrics = { text: "", types: new Map<string, string>() };
const modelServerMetrics = { text: "", types: new Map<string, string>() };

async function get(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

// ------------------------------------------------------------------------------------------------ tests

describe("deploy/k8s", () => {
  test("every file parses; every object has apiVersion, kind and metadata.name", () => {
    const files = [...walk(K8S), ...walk(GRAFANA)];
    assert.ok(files.length > 0);
    for (const path of files) {
      if (isYaml(path)) yamlDocuments(path);
      else if (path.endsWith(".json")) readJson<unknown>(path);
      else assert.fail(`unexpected file ${rel(path)}: only YAML and JSON live here`);
    }
    assert.ok(manifests.length >= 14, `found only ${manifests.length} objects`);
    for (const { file, object } of manifests) {
      assert.ok(typeof object.apiVersion === "string" && object.apiVersion !== "", `${file}: apiVersion`);
      assert.ok(typeof object.kind === "string" && object.kind !== "", `${file}: kind`);
      assert.ok(typeof object.metadata?.name === "string" && object.metadata.name !== "", `${file}: metadata.name`);
    }
    const kinds = new Set(manifests.map((m) => m.object.kind));
    for (const kind of [
      "Namespace",
      "Deployment",
      "Job",
      "Service",
      "PodDisruptionBudget",
      "HorizontalPodAutoscaler",
      "ServiceMonitor",
      "PrometheusRule",
      "ConfigMap",
      "Secret",
    ]) {
      assert.ok(kinds.has(kind), `no ${kind} under deploy/k8s`);
    }
  });

  test("the kustomization applies every manifest but the Secret example and the adapter config", () => {
    const files = new Set(manifests.map((m) => m.file));
    const outside = [...files].filter((f) => !applied.has(f)).sort();
    assert.deepEqual(
      outside,
      NOT_APPLIED.map((f) => `deploy/k8s/${f}`),
    );
    const k = readYaml<Kustomization>(join(K8S, "kustomization.yaml"));
    assert.ok(
      k.images?.some((i) => i.name === "slipway" && i.newTag),
      "the kustomization sets the slipway image's tag",
    );
  });

  test("containers run the slipway image, unprivileged as the Dockerfile's user", () => {
    const dockerfile = readFileSync(join(ROOT, "deploy", "Dockerfile"), "utf8");
    const uid = Number(/--uid (\d+)/.exec(dockerfile)?.[1]);
    const gid = Number(/--gid (\d+)/.exec(dockerfile)?.[1]);
    assert.ok(uid > 0 && gid > 0, "deploy/Dockerfile creates its user with --uid and --gid");
    assert.ok(/^ENTRYPOINT \["node", "packages\/cli\/bin\/slipway\.js"\]$/m.test(dockerfile));
    assert.ok(workloads().length >= 3);
    for (const m of workloads()) {
      const pod = podSpecOf(m);
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${m.file}: runAsNonRoot`);
      assert.equal(pod.securityContext?.runAsUser, uid, `${m.file}: runAsUser`);
      assert.equal(pod.securityContext?.runAsGroup, gid, `${m.file}: runAsGroup`);
      for (const c of containersOf(m)) {
        // the tag comes from the kustomization's `images:`
        assert.equal(c.image, "slipway", `${m.file}: container ${c.name} runs ${c.image}`);
        // the image's ENTRYPOINT is the CLI: containers give arguments only
        assert.equal(c.command, undefined, `${m.file}: container ${c.name} must not replace the entrypoint`);
        assert.ok(c.args && c.args.length > 0, `${m.file}: container ${c.name} has args`);
      }
    }
  });

  test("containers use commands and flags that `slipway --help` lists", async () => {
    const seen = new Set<string>();
    for (const m of workloads()) {
      for (const c of containersOf(m)) {
        const args = c.args ?? [];
        const { path, help } = await commandOf(args);
        assert.ok(path.length > 0, `${m.file}: '${args.join(" ")}' does not start with a slipway command`);
        assert.equal(commandsIn(help).length, 0, `${m.file}: 'slipway ${path.join(" ")}' needs a subcommand`);
        seen.add(path.join(" "));
        for (const arg of args.filter((a) => a.startsWith("--"))) {
          const flag = arg.split("=")[0]!;
          assert.match(
            help,
            new RegExp(`(^|[\\s,])${flag}(?=[\\s,=]|$)`, "m"),
            `${m.file}: slipway ${path.join(" ")} has no ${flag}`,
          );
        }
      }
    }
    assert.deepEqual([...seen].sort(), ["db upgrade", "serve", "server"]);
    // the control plane binds every interface; the model server too, on its container port
    const server = mainContainer(controlPlane());
    assert.equal(flagValue(server.args ?? [], "--host"), "0.0.0.0");
    const serveContainer = mainContainer(modelServer());
    assert.equal(flagValue(serveContainer.args ?? [], "--host"), "0.0.0.0");
    assert.equal(Number(flagValue(serveContainer.args ?? [], "--port")), serveContainer.ports?.[0]?.containerPort);
    const serverPort = flagValue(server.args ?? [], "--port");
    if (serverPort !== undefined) assert.equal(Number(serverPort), server.ports?.[0]?.containerPort);
  });

  test("environment variables and references resolve", () => {
    const secrets = manifests.filter((m) => m.object.kind === "Secret");
    const configMaps = ofKind("ConfigMap");
    const source = SOURCES.map((s) => s.text).join("\n");
    for (const m of workloads()) {
      for (const c of containersOf(m)) {
        const names: string[] = [];
        for (const e of c.env ?? []) {
          names.push(e.name);
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) {
            const secret = secrets.find((s) => nameOf(s) === ref.name);
            assert.ok(secret, `${m.file}: Secret ${ref.name} is not described (control-plane/secret.example.yaml)`);
            assert.ok(
              ref.key in (secret.object.stringData ?? secret.object.data ?? {}),
              `${m.file}: Secret ${ref.name} has no key ${ref.key}`,
            );
          }
          const cm = e.valueFrom?.configMapKeyRef;
          if (cm) assert.ok(configMaps.some((x) => nameOf(x) === cm.name && cm.key in (x.object.data ?? {})));
        }
        for (const from of c.envFrom ?? []) {
          const ref = from.configMapRef?.name;
          assert.ok(ref, `${m.file}: envFrom takes ConfigMaps only (secrets go through secretKeyRef)`);
          const cm = configMaps.find((x) => nameOf(x) === ref);
          assert.ok(cm, `${m.file}: ConfigMap ${ref} is not in the kustomization`);
          names.push(...Object.keys(cm.object.data ?? {}));
        }
        for (const name of names.filter((n) => n.startsWith("SLIPWAY_"))) {
          assert.ok(source.includes(name), `${m.file}: ${name} is read nowhere in packages/*/src`);
        }
      }
    }
    // the database URI reaches both the server and the migration Job
    for (const m of [controlPlane(), one("Job", () => true, "db upgrade")]) {
      assert.ok(
        mainContainer(m).env?.some((e) => e.name === "SLIPWAY_BACKEND_STORE_URI" && e.valueFrom?.secretKeyRef),
        `${m.file}: SLIPWAY_BACKEND_STORE_URI comes from the Secret`,
      );
    }
  });

  test("migrations run once, in a Job, not in the server's pods", () => {
    const job = one("Job", () => true, "db upgrade");
    assert.deepEqual(mainContainer(job).args, ["db", "upgrade"]);
    for (const m of ofKind("Deployment")) {
      for (const c of containersOf(m)) {
        assert.ok(!(c.args?.[0] === "db"), `${m.file}: ${c.name} must not run migrations`);
      }
    }
  });

  test("Services, PDBs, the HPA and the ServiceMonitors select what they should", () => {
    const deployments = ofKind("Deployment");
    const services = ofKind("Service");
    for (const s of services) {
      const selector = matchLabels(s.object.spec?.selector);
      const targets = deployments.filter((d) => selects(selector, d.object.spec?.template?.metadata?.labels));
      assert.equal(targets.length, 1, `${s.file}: Service ${nameOf(s)} selects ${targets.length} Deployments`);
      const ports = mainContainer(targets[0]!).ports ?? [];
      for (const p of s.object.spec?.ports ?? []) {
        assert.ok(
          ports.some((c) => c.name === p.targetPort || c.containerPort === p.targetPort),
          `${s.file}: targetPort ${p.targetPort} is no container port`,
        );
      }
    }
    for (const d of deployments) {
      assert.ok(
        selects(matchLabels(d.object.spec?.selector), d.object.spec?.template?.metadata?.labels),
        `${d.file}: the selector matches the pod template`,
      );
      assert.ok(
        ofKind("PodDisruptionBudget").some((p) =>
          selects(matchLabels(p.object.spec?.selector), d.object.spec?.template?.metadata?.labels),
        ),
        `${d.file}: no PodDisruptionBudget covers ${nameOf(d)}`,
      );
    }
    // the HPA scales the model server, which leaves its replica count to it
    const hpa = one("HorizontalPodAutoscaler", () => true, "model server");
    assert.equal(hpa.object.apiVersion, "autoscaling/v2");
    assert.deepEqual(hpa.object.spec?.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: nameOf(modelServer()),
    });
    assert.equal(modelServer().object.spec?.replicas, undefined, "the HPA owns the model server's replicas");
    const kinds = (hpa.object.spec?.metrics ?? []).map((m) => m.type);
    assert.ok(kinds.includes("Pods") && kinds.includes("Resource"), "request rate, with CPU as the fallback");
    // ServiceMonitors scrape named ports of both planes' Services
    const monitored = new Set<string>();
    for (const sm of ofKind("ServiceMonitor")) {
      const matched = services.filter((s) => selects(matchLabels(sm.object.spec?.selector), s.object.metadata?.labels));
      assert.ok(matched.length > 0, `${sm.file}: ServiceMonitor ${nameOf(sm)} selects no Service`);
      for (const s of matched) {
        monitored.add(nameOf(s));
        for (const e of sm.object.spec?.endpoints ?? []) {
          assert.ok(
            s.object.spec?.ports?.some((p) => p.name === e.port),
            `${sm.file}: no port ${e.port}`,
          );
        }
      }
    }
    assert.deepEqual([...monitored].sort(), services.map(nameOf).sort(), "every Service is scraped");
    // the model server finds the control plane through its Service
    const trackingUri = flagValue(mainContainer(modelServer()).args ?? [], "--tracking-uri") ?? "";
    const service = services.find((s) =>
      selects(matchLabels(s.object.spec?.selector), controlPlane().object.spec?.template?.metadata?.labels),
    );
    assert.ok(service);
    assert.equal(trackingUri, `http://${nameOf(service)}:${service.object.spec?.ports?.[0]?.port}`);
  });
});

describe("alert rules", () => {
  /** The PrometheusRule's text: a header, then the alerts file's `groups:` indented under `spec:`. */
  function generatedRule(): string {
    const source = readFileSync(ALERTS, "utf8");
    const groups = source.slice(source.search(/^groups:/m));
    const indented = groups
      .split("\n")
      .map((line) => (line === "" ? line : `  ${line}`))
      .join("\n");
    const current = readFileSync(PROMETHEUS_RULE, "utf8");
    const header = current.slice(0, current.search(/^ {2}groups:/m));
    return header + indented;
  }

  test("the PrometheusRule holds exactly the groups of deploy/prometheus/slipway-alerts.yaml", () => {
    if (process.env.SLIPWAY_UPDATE_DEPLOY === "1") writeFileSync(PROMETHEUS_RULE, generatedRule());
    const rule = one("PrometheusRule", () => true, "the alerts");
    assert.equal(rule.object.apiVersion, "monitoring.coreos.com/v1");
    const alerts = readYaml<{ groups: unknown }>(ALERTS);
    assert.deepEqual(
      rule.object.spec?.groups,
      alerts.groups,
      "out of date: SLIPWAY_UPDATE_DEPLOY=1 node --test packages/cli/dist/deploy-manifests.test.js",
    );
  });
});

describe("deploy/grafana", () => {
  test("dashboards: a Prometheus data source variable, their template variables, ids and data sources", () => {
    assert.ok(dashboardFiles.length >= 2);
    const uids = new Set<string>();
    for (const path of dashboardFiles) {
      const file = rel(path);
      const d = readJson<Dashboard>(path);
      assert.ok(d.uid && d.title && d.schemaVersion, `${file}: uid, title and schemaVersion`);
      assert.ok(!uids.has(d.uid), `${file}: uid ${d.uid} is used twice`);
      uids.add(d.uid);
      const variables = d.templating?.list ?? [];
      const ds = variables.find((v) => v.type === "datasource");
      assert.ok(ds && ds.query === "prometheus", `${file}: a Prometheus data source variable`);
      const names = new Set(variables.map((v) => v.name));
      for (const name of ["model", "version"]) assert.ok(names.has(name), `${file}: no $${name} variable`);
      const usesDatasource = (x: { uid?: string } | undefined) => x?.uid === `\${${ds.name}}`;
      for (const v of variables.filter((x) => x.type === "query")) {
        assert.ok(usesDatasource(v.datasource), `${file}: variable ${v.name} uses the data source variable`);
      }
      const ids = new Set<number>();
      for (const panel of panelsOf(d.panels)) {
        assert.ok(panel.id !== undefined && !ids.has(panel.id), `${file}: panel "${panel.title}" id`);
        ids.add(panel.id);
        if (panel.type === "row" || panel.type === "alertlist") continue;
        assert.ok(usesDatasource(panel.datasource), `${file}: panel "${panel.title}" uses the data source variable`);
        assert.ok((panel.targets ?? []).length > 0, `${file}: panel "${panel.title}" has no query`);
        for (const target of panel.targets ?? []) {
          assert.ok(usesDatasource(target.datasource), `${file}: "${panel.title}" query data source`);
          assert.ok(target.expr && target.expr.trim() !== "", `${file}: "${panel.title}" has an empty query`);
          for (const m of target.expr.matchAll(/\$\{?(\w+)\}?/g)) {
            if (!m[1]!.startsWith("__")) assert.ok(names.has(m[1]!), `${file}: "${panel.title}" uses $${m[1]}`);
          }
        }
      }
    }
  });

  test("provisioning and the kustomization load every dashboard", () => {
    const providers = readYaml<{ apiVersion: number; providers: { type: string; options: { path: string } }[] }>(
      join(GRAFANA, "provisioning", "dashboards", "slipway.yaml"),
    );
    assert.equal(providers.apiVersion, 1);
    assert.ok(providers.providers.some((p) => p.type === "file" && p.options.path.startsWith("/")));
    const datasources = readYaml<{ apiVersion: number; datasources: { type: string; url: string }[] }>(
      join(GRAFANA, "provisioning", "datasources", "prometheus.yaml"),
    );
    assert.equal(datasources.apiVersion, 1);
    assert.ok(datasources.datasources.some((d) => d.type === "prometheus" && /^https?:\/\//.test(d.url)));
    const k = readYaml<Kustomization>(join(GRAFANA, "kustomization.yaml"));
    const generated = (k.configMapGenerator ?? []).flatMap((g) => g.files ?? []).map((f) => join(GRAFANA, f));
    assert.deepEqual(generated.sort(), [...dashboardFiles].sort());
  });
});

describe("with a real control plane and `slipway serve` started from the manifests", () => {
  before(async () => {
    tracking = await startServerProcess("slipway-deploy-");
    const client = new TrackingClient({ trackingUri: tracking.url, maxRetries: 0 });
    run = await new Slipway({ client, handleProcessExit: false }).startRun({
      experiment: "deploy-manifests",
      captureEnvironment: false,
    });
    // the model the manifest serves (models:/spam@champion)
    const classifier = new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(TEXTS, [
      "spam",
      "spam",
      "ham",
      "ham",
    ]);
    const uri = mainContainer(modelServer()).args?.[1] ?? "";
    const [, model, alias] = /^models:\/([^@/]+)@(.+)$/.exec(uri) ?? [];
    assert.ok(model && alias, `the model server serves models:/NAME@ALIAS, not ${uri}`);
    await logModelPackage(run, textClassifierPackage(classifier), "model", { registeredModelName: model });
    await setAlias(client, model, alias, 1);
    await run.end();

    // `slipway serve` with the manifest's own arguments, bound locally, against this tracking server
    const container = mainContainer(modelServer());
    const args = withFlags(container.args ?? [], {
      "--host": "127.0.0.1",
      "--port": "0",
      "--tracking-uri": tracking.url,
    });
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    env.SLIPWAY_MODEL_CACHE = join(tracking.dir, "model-cache");
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    serve = child;
    serveUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        serveOut += chunk.toString();
        const m = /listening on (http:\/\/\S+)/.exec(serveOut);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`slipway ${args.join(" ")} exited with ${code}: ${serveOut}`)));
    });
    // one prediction, so that the per-model series have samples
    const answer = await fetch(`${serveUrl}/v2/models/${model}/infer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: [{ name: "text", shape: [1], datatype: "BYTES", data: ["free prize"] }] }),
    });
    assert.equal(answer.status, 200, await answer.text());

    serverMetrics.text = (await get(`${tracking.url}/metrics`)).text;
    serverMetrics.types = exposedMetrics(serverMetrics.text);
    modelServerMetrics.text = (await get(`${serveUrl}/metrics`)).text;
    modelServerMetrics.types = exposedMetrics(modelServerMetrics.text);
  });

  after(async () => {
    await run?.end().catch(() => undefined);
    if (serve && serve.exitCode === null && serve.signalCode === null) {
      const child = serve;
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    await tracking?.stop();
  });

  test("the control plane answers its probes and its scrape path", async () => {
    assert.ok(tracking);
    const c = mainContainer(controlPlane());
    const probes = probePaths(c);
    assert.ok(probes.some((p) => p.kind === "readinessProbe" && p.path === "/health"));
    for (const probe of probes) {
      assert.ok(c.ports?.some((p) => p.name === probe.port || p.containerPort === probe.port));
      const r = await get(`${tracking.url}${probe.path}`);
      assert.equal(r.status, 200, `control plane ${probe.kind} ${probe.path}`);
    }
    for (const sm of ofKind("ServiceMonitor")) {
      for (const e of sm.object.spec?.endpoints ?? []) {
        assert.equal((await get(`${tracking.url}${e.path ?? "/metrics"}`)).status, 200);
      }
    }
    assert.ok(serverMetrics.types.has("slipway_http_requests_total"), "the control plane's /metrics");
  });

  test("the model server answers its probes and scrape path, listed in its route table", async () => {
    const c = mainContainer(modelServer());
    const probes = probePaths(c);
    assert.deepEqual(
      probes.filter((p) => p.kind !== "startupProbe").map((p) => `${p.kind} ${p.path}`),
      ["readinessProbe /v2/health/ready", "livenessProbe /v2/health/live"],
    );
    // the OpenAPI document is rendered from the same route list the server mounts
    const openapi = JSON.parse((await get(`${serveUrl}/openapi.json`)).text) as { paths: Record<string, unknown> };
    const scrapePaths = ofKind("ServiceMonitor").flatMap((sm) => (sm.object.spec?.endpoints ?? []).map((e) => e.path));
    for (const path of [...probes.map((p) => p.path), ...scrapePaths]) {
      assert.ok(path && path in openapi.paths, `${path} is not a route of the model server`);
      assert.equal((await get(`${serveUrl}${path}`)).status, 200, `model server ${path}`);
    }
    for (const probe of probes) {
      assert.ok(c.ports?.some((p) => p.name === probe.port || p.containerPort === probe.port));
    }
    assert.equal((await get(`${serveUrl}/v2/health/ready`)).text, '{"ready":true}');
  });

  describe("metrics", () => {
    const registered = registeredMetricNames();

    /** Fails unless the name (or its histogram's base name) is registered, or a process metric really exposed. */
    function assertRegistered(name: string, where: string): void {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      if (name.startsWith("slipway_process_")) {
        assert.ok(
          SOURCES.some((s) => s.text.includes('prefix: "slipway_process_"')),
          "the default metrics are registered with the prefix slipway_process_",
        );
        const exposed = (n: string) => serverMetrics.types.has(n) || modelServerMetrics.types.has(n);
        assert.ok(exposed(name) || (name !== base && exposed(base)), `${where}: ${name} is not exposed by the servers`);
        return;
      }
      assert.ok(
        registered.has(name) || (name !== base && registered.has(base)),
        `${where}: ${name} is registered nowhere in packages/*/src`,
      );
      if (name !== base && !registered.has(name)) {
        const type = serverMetrics.types.get(base) ?? modelServerMetrics.types.get(base);
        assert.equal(type, "histogram", `${where}: ${name}: ${base} is not a histogram`);
      }
    }

    test("the source registers the metrics the servers expose", () => {
      assert.ok(registered.has("slipway_inference_requests_total"));
      assert.ok(registered.has("slipway_dataset_drift"));
      for (const name of [...serverMetrics.types.keys(), ...modelServerMetrics.types.keys()]) {
        if (!name.startsWith("slipway_process_")) assert.ok(registered.has(name), `${name} not found in the source`);
      }
    });

    test("every metric the dashboards query is registered, and exposed by the right server", () => {
      const expressions = dashboardExpressions();
      assert.ok(expressions.length >= 30, `only ${expressions.length} expressions`);
      for (const { file, panel, expr } of expressions) {
        const names = metricNamesIn(expr);
        assert.ok(names.length > 0, `${file} "${panel}": no metric in ${expr}`);
        for (const name of names) {
          assertRegistered(name, `${file} "${panel}"`);
          const base = name.replace(/_(bucket|sum|count)$/, "");
          const exposedBy = [serverMetrics, modelServerMetrics].filter((s) => s.types.has(name) || s.types.has(base));
          assert.ok(exposedBy.length > 0, `${file} "${panel}": ${name} is exposed by neither server`);
          // a label matcher on a metric with samples names one of its labels
          for (const label of matcherLabels(expr, name)) {
            const labels = new Set(exposedBy.flatMap((s) => [...sampleLabels(s.text, name)]));
            if (labels.size > 0) assert.ok(labels.has(label), `${file} "${panel}": ${name} has no label ${label}`);
          }
        }
      }
      // the variables' queries, too
      for (const path of dashboardFiles) {
        for (const v of readJson<Dashboard>(path).templating?.list ?? []) {
          if (v.type !== "query") continue;
          const metric = /label_values\(\s*([A-Za-z_:][\w:]*)\s*[{,]/.exec(variableQuery(v))?.[1];
          assert.ok(metric, `${rel(path)}: variable ${v.name} is not label_values(METRIC, LABEL)`);
          assertRegistered(metric, `${rel(path)} variable ${v.name}`);
        }
      }
    });

    test("the model-server dashboard reads model-server metrics, the monitors dashboard the control plane's", () => {
      for (const { file, panel, expr } of dashboardExpressions()) {
        for (const name of metricNamesIn(expr)) {
          if (name.startsWith("slipway_process_")) continue;
          const base = name.replace(/_(bucket|sum|count)$/, "");
          const source = file.includes("model-servers") ? modelServerMetrics : serverMetrics;
          assert.ok(
            source.types.has(base) || source.types.has(name),
            `${file} "${panel}": ${name} is not served there`,
          );
        }
      }
    });

    test("the alert rules only query registered metrics", () => {
      const alerts = readYaml<{ groups: { rules: { expr: string; alert?: string; record?: string }[] }[] }>(ALERTS);
      for (const group of alerts.groups) {
        for (const rule of group.rules) {
          for (const name of metricNamesIn(rule.expr)) assertRegistered(name, `alert ${rule.alert ?? rule.record}`);
        }
      }
    });

    test("the HPA's custom metric comes from the adapter rule, over a registered counter", () => {
      const rules = adapterRules();
      const served = new Map(rules.map((r) => [adapterMetricName(r), r]));
      const hpa = one("HorizontalPodAutoscaler", () => true, "model server");
      const custom = (hpa.object.spec?.metrics ?? []).filter((m) => m.type === "Pods").map((m) => m.pods?.metric.name);
      assert.ok(custom.length > 0);
      for (const name of custom) {
        const rule = served.get(name ?? "");
        assert.ok(rule, `the HPA's metric ${name} is served by no prometheus-adapter rule`);
        const series = seriesMetric(rule.seriesQuery);
        assertRegistered(series, "prometheus-adapter seriesQuery");
        for (const n of metricNamesIn(adapterQuery(rule))) assertRegistered(n, "prometheus-adapter metricsQuery");
        // per pod, in the pod's namespace: the labels the ServiceMonitor adds
        assert.deepEqual(
          Object.fromEntries(Object.entries(rule.resources?.overrides ?? {}).map(([k, v]) => [k, v.resource])),
          { namespace: "namespace", pod: "pod" },
        );
        // the labels its query filters on are the counter's own (beyond those the scrape adds)
        const labels = sampleLabels(modelServerMetrics.text, series);
        for (const label of matcherLabels(adapterQuery(rule), series)) {
          if (!["namespace", "pod"].includes(label)) assert.ok(labels.has(label), `${series} has no label ${label}`);
        }
        // and the prediction just made is counted with a non-empty model label
        assert.match(modelServerMetrics.text, new RegExp(`^${series}\\{[^}]*model="[^"]+"[^}]*\\} [1-9]`, "m"));
      }
    });
  });

  test("the model server drains and exits within its grace period after SIGTERM", async () => {
    assert.ok(serve);
    const pod = podSpecOf(modelServer());
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    const preStop = preStopSeconds(mainContainer(modelServer()));
    assert.ok(preStop > 0 && preStop < grace, `preStop ${preStop}s must leave room inside ${grace}s`);
    const child = serve;
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const code = await exited;
    const seconds = (Date.now() - started) / 1000;
    assert.equal(code, 0, serveOut);
    // the server spends at most 5 s sending the inference log's last records: count them in
    assert.ok(seconds + 5 < grace - preStop, `drained in ${seconds}s, grace ${grace}s - preStop ${preStop}s`);
    assert.match(serveOut, /SIGTERM: finishing in-flight requests/);
    const server = podSpecOf(controlPlane());
    assert.ok(preStopSeconds(mainContainer(controlPlane())) < (server.terminationGracePeriodSeconds ?? 30));
  });
});

describe("tools", () => {
  test("promtool parses every expression (when promtool is installed)", (t) => {
    if (!hasTool("promtool", ["--version"])) {
      t.skip("promtool is not installed (Debian: apt-get install prometheus)");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "slipway-promql-"));
    try {
      const exprs = [
        ...dashboardExpressions().map((e) => withoutGrafanaVariables(e.expr)),
        ...adapterRules().map(adapterQuery),
      ];
      const recording = {
        groups: [{ name: "check", rules: exprs.map((expr, i) => ({ record: `slipway:check_${i}`, expr })) }],
      };
      writeFileSync(join(dir, "recording.json"), JSON.stringify(recording));
      const rule = one("PrometheusRule", () => true, "the alerts");
      writeFileSync(join(dir, "alerts.json"), JSON.stringify({ groups: rule.object.spec?.groups }));
      for (const file of ["recording.json", "alerts.json"]) {
        const r = spawnSync("promtool", ["check", "rules", join(dir, file)], { encoding: "utf8", timeout: 60_000 });
        assert.equal(r.status, 0, `promtool check rules ${file}:\n${r.stdout}${r.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test("kubectl kustomize builds both trees (when kubectl is installed)", (t) => {
    if (!hasTool("kubectl", ["version", "--client"])) {
      t.skip("kubectl is not installed");
      return;
    }
    const build = (dir: string): K8sObject[] => {
      const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 120_000 });
      assert.equal(r.status, 0, `kubectl kustomize ${rel(dir)}: ${r.stderr}`);
      return parseAllDocuments(r.stdout).map((doc) => doc.toJS() as K8sObject);
    };
    const objects = build(K8S);
    assert.equal(objects.length, manifests.filter((m) => applied.has(m.file)).length);
    const tag = readYaml<Kustomization>(join(K8S, "kustomization.yaml")).images?.find((i) => i.name === "slipway");
    for (const o of objects) {
      if (o.kind !== "Namespace") assert.equal(o.metadata?.namespace, "slipway", `${o.kind} ${o.metadata?.name}`);
      for (const c of o.spec?.template?.spec?.containers ?? []) {
        assert.equal(c.image, `${tag?.newName ?? "slipway"}:${tag?.newTag}`);
      }
    }
    const dashboards = build(GRAFANA);
    assert.equal(dashboards.length, dashboardFiles.length);
    for (const cm of dashboards) {
      assert.equal(cm.kind, "ConfigMap");
      assert.equal(cm.metadata?.labels?.grafana_dashboard, "1");
      for (const json of Object.values(cm.data ?? {})) JSON.parse(json);
    }
  });
});
