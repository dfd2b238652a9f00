/**
 * The web UI end to end: a real server (seeded through the SDK) serving the built bundle, driven in Debian's
 * Chromium. Every view opens and shows the seeded data; the filter box filters and shows the API's error inline;
 * compare shows two runs; an alias is moved with a reason and the history shows it. Screenshots of each view go
 * to a temporary directory (paths printed), and to docs/ui/ when SLIPWAY_UPDATE_SCREENSHOTS=1.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkipReason, launchChromium, startUiServer, type UiServer } from "./browser.js";
import { ABOVE_090, RUNS, seedDemo, type SeededDemo } from "./seed.js";

const skip = browserSkipReason();
const bundle = join(dirname(createRequire(import.meta.url).resolve("@slipway/ui/package.json")), "dist", "web");
const DOCS = fileURLToPath(new URL("../../../../docs/ui/", import.meta.url));

describe("web UI in Chromium", { skip: skip ?? false }, () => {
  let server: UiServer;
  let browser: Browser;
  let page: Page;
  let seeded: SeededDemo;
  let outDir: string;
  const shots: string[] = [];

  async function shot(name: string): Promise<void> {
    const file = join(outDir, `${name}.png`);
    await page.screenshot({ path: file });
    shots.push(file);
    console.log(`screenshot: ${file}`);
  }

  async function open(path: string): Promise<void> {
    await page.goto(`${server.url}${path}`);
  }

  const text = (selector: string) => page.locator(selector).first().innerText();

  before(async () => {
    assert.ok(
      existsSync(join(bundle, "index.html")),
      `the UI bundle is not built (${bundle}): run npm run build (or npm run build -w @slipway/ui)`,
    );
    outDir = await mkdtemp(join(tmpdir(), "slipway-ui-screenshots-"));
    server = await startUiServer({ prefix: "slipway-ui-e2e-" });
    seeded = await seedDemo(server.url);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (process.env.SLIPWAY_UPDATE_SCREENSHOTS === "1" && shots.length > 0) {
      await mkdir(DOCS, { recursive: true });
      for (const file of shots) await copyFile(file, join(DOCS, file.split("/").pop()!));
      console.log(`copied ${shots.length} screenshots to ${DOCS}`);
    }
  });

  it("lists experiments and creates, renames, deletes and restores one", async () => {
    await open("/");
    await page.waitForURL(/\/experiments$/);
    const table = page.getByTestId("experiments-table");
    await table.getByRole("link", { name: seeded.experimentName }).waitFor();
    assert.ok(await table.getByRole("link", { name: "empty-experiment" }).isVisible());
    await shot("experiments");

    await page.getByRole("button", { name: "New experiment" }).click();
    await page.getByLabel("New experiment name").fill("ui-made");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.waitForURL(/\/experiments\/\d+$/);
    await page.getByTestId("empty-experiment").waitFor();

    await page.goBack();
    await page.waitForURL(/\/experiments$/);
    await page.getByRole("button", { name: "Rename ui-made" }).click();
    await page.getByLabel("New name").fill("ui-renamed");
    await page.getByRole("button", { name: "Save" }).click();
    await table.getByRole("link", { name: "ui-renamed" }).waitFor();

    page.once("dialog", (dialog) => void dialog.accept());
    await page
      .getByRole("row", { name: /ui-renamed/ })
      .getByRole("button", { name: "Delete" })
      .click();
    await table.getByRole("link", { name: "ui-renamed" }).waitFor({ state: "detached" });
    await page.getByLabel("Show").selectOption("deleted");
    await page
      .getByRole("row", { name: /ui-renamed/ })
      .getByRole("button", { name: "Restore" })
      .click();
    await page.getByText("No experiments here yet.").waitFor();
  });

  it("shows the runs of an experiment in a virtual table, sorted by the server", async () => {
    await open(`/experiments/${seeded.experimentId}`);
    const grid = page.getByTestId("runs-table");
    await grid.locator("[data-row-index='0']").waitFor();
    assert.equal(await text("[data-testid='runs-count']"), `${RUNS} runs`);
    const headers = await grid.getByRole("columnheader").allInnerTexts();
    for (const column of ["Run", "Status", "accuracy", "lr"]) assert.ok(headers.includes(column), headers.join("|"));
    await shot("runs");

    await grid.getByRole("button", { name: "accuracy", exact: true }).click();
    await page.waitForURL(/sort=metrics.accuracy\+desc/);
    await grid.locator("[data-row-index='0']", { hasText: "run-05" }).waitFor();

    // keyboard: focus the grid, move down twice, open with Enter
    await grid.focus();
    await page.keyboard.press("ArrowDown");
    assert.match((await grid.locator(".vt-row.active").innerText()).replace(/\s+/g, " "), /run-11/);
    await page.keyboard.press("Enter");
    await page.waitForURL(new RegExp(`/runs/${seeded.runIds[11]}$`));
    await page.goBack();
    await page.waitForURL(/sort=metrics.accuracy\+desc/);
  });

  it("filters runs with the MLflow DSL and shows a bad filter's error inline", async () => {
    await open(`/experiments/${seeded.experimentId}`);
    const input = page.getByTestId("filter-input");
    await input.fill("metrics.accuracy > 0.9");
    await input.press("Enter");
    await page.waitForURL(/filter=metrics.accuracy/);
    await page.getByTestId("runs-count").getByText(`${ABOVE_090} runs`).waitFor();
    await shot("runs-filtered");

    await page.getByTestId("filter-input").fill("metrics.accuracy >> 1");
    await page.getByTestId("filter-input").press("Enter");
    const error = page.getByTestId("filter-error");
    await error.waitFor();
    assert.match(await error.innerText(), /^Not accepted: /);
    assert.equal(await page.getByTestId("filter-input").getAttribute("aria-invalid"), "true");
    await shot("runs-filter-error");

    // autocomplete of keys after "params."
    await page.getByTestId("filter-input").fill("params.e");
    await page.getByRole("option", { name: "epochs" }).waitFor();
  });

  it("shows what to do next in an empty experiment", async () => {
    await open(`/experiments/${seeded.emptyExperimentId}`);
    const empty = page.getByTestId("empty-experiment");
    await empty.waitFor();
    assert.match(await empty.innerText(), /mlflow\.set_experiment\("empty-experiment"\)/);
    await shot("empty-experiment");
  });

  it("shows a run: overview, params, tags, metric charts, artifacts", async () => {
    const runId = seeded.artifactRunId;
    await open(`/runs/${runId}`);
    await page.getByTestId("git-commit").waitFor();
    const body = await page.locator("main").innerText();
    for (const expected of ["run-00", "FINISHED", "train.py", "lr", "0.1", "growth", "ana"])
      assert.ok(body.includes(expected), `run page lacks ${expected}`);
    await shot("run-overview");

    await page.getByRole("tab", { name: /Metrics/ }).click();
    await page.waitForURL(/tab=metrics/);
    await page.getByTestId("metric-chart-loss").locator("canvas").waitFor();
    await page.getByTestId("metric-chart-accuracy").locator("canvas").waitFor();
    await page.getByTestId("metric-chart-loss").getByLabel("log scale").check();
    await page.getByTestId("metric-chart-loss").locator("canvas").waitFor();
    await shot("run-metrics");

    await page.getByRole("tab", { name: "Artifacts" }).click();
    await page.getByRole("button", { name: /notes\.txt/ }).click();
    await page.getByTestId("artifact-preview").getByText("Trained on the March snapshot.").waitFor();
    await page.getByRole("button", { name: /metrics\.json/ }).click();
    await page.getByTestId("artifact-preview").getByText('"rows": 5000').waitFor();
    await page.getByRole("button", { name: /data\// }).click();
    await page.getByRole("button", { name: /sample\.csv/ }).click();
    await page.getByTestId("artifact-preview").getByRole("cell", { name: "globex, inc" }).waitFor();
    await page.getByRole("button", { name: /plots\// }).click();
    await page.getByRole("button", { name: /roc\.svg/ }).click();
    const image = page.getByTestId("artifact-preview").locator("img");
    await image.waitFor();
    await page.waitForFunction(() => document.querySelector<HTMLImageElement>(".preview-image")?.naturalWidth === 240);
    await page.getByRole("button", { name: /report\.html/ }).click();
    const frame = page.frameLocator("iframe.preview-frame");
    await frame.getByText("Evaluation report").waitFor();
    await shot("run-artifacts");
  });

  it("says in words when a run does not exist", async () => {
    await open("/runs/0123456789abcdef0123456789abcdef");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /Not found: Run with id=0123456789abcdef0123456789abcdef not found/);
  });

  it("compares two runs: param differences and overlaid charts", async () => {
    await open(`/experiments/${seeded.experimentId}`);
    const grid = page.getByTestId("runs-table");
    await grid.locator("[data-row-index='0']").waitFor();
    await grid.getByLabel("Select run run-03").check();
    await grid.getByLabel("Select run run-04").check();
    await page.getByRole("button", { name: "Compare" }).click();
    await page.waitForURL(/\/compare\?runs=/);
    const params = page.getByTestId("Param differences");
    await params.waitFor();
    const rows = await params.locator("tbody tr").allInnerTexts();
    assert.ok(
      rows.some((r) => /^lr\s+0\.1\s+0\.01$/.test(r.trim())),
      rows.join("|"),
    );
    assert.ok(
      rows.some((r) => r.startsWith("model")),
      "model differs",
    );
    assert.ok(!rows.some((r) => r.startsWith("features")), "features is the same in both runs");
    const legend = await page.locator("ul.legend li").allInnerTexts();
    assert.deepEqual(legend, ["run-03", "run-04"]);
    const chart = page.getByTestId("compare-chart-accuracy");
    await chart.locator("canvas").waitFor();
    const series = await chart.locator(".u-legend .u-series").allInnerTexts();
    assert.ok(series.some((s) => s.includes("run-03")) && series.some((s) => s.includes("run-04")), series.join("|"));
    await shot("compare");
  });

  it("moves an alias with a reason, and the history shows it", async () => {
    await open("/models");
    await page.getByTestId("models-table").getByRole("link", { name: seeded.model }).click();
    await page.waitForURL(new RegExp(`/models/${seeded.model}$`));
    await page.getByTestId("aliases").getByText("@champion → v1").waitFor();
    await page.getByTestId("alias-history").getByText("“baseline”").waitFor();
    await shot("model-before");

    const form = page.getByRole("form", { name: "Move an alias" });
    await form.getByLabel("Alias").fill("champion");
    await form.getByLabel("Version").selectOption("2");
    await form.getByLabel("Reason").fill("better recall on March data — ✓");
    await form.getByRole("button", { name: "Move alias" }).click();
    await page.getByRole("status").getByText("@champion now points to v2.").waitFor();
    await page.getByTestId("aliases").getByText("@champion → v2").waitFor();
    const newest = page.getByTestId("alias-history").locator("li").first();
    await newest.getByText("“better recall on March data — ✓”").waitFor();
    assert.match(await newest.innerText(), /@champion: v1 → v2/);
    await shot("model");

    const history = (await (
      await fetch(`${server.url}/api/2.0/slipway/registered-models/alias-history?name=${seeded.model}&alias=champion`)
    ).json()) as { history: { to_version?: string; reason?: string }[] };
    assert.equal(history.history[0]!.to_version, "2");
    assert.equal(history.history[0]!.reason, "better recall on March data — ✓");
  });

  it("lists monitors with their latest window and links to the report", async () => {
    await open("/monitors");
    const table = page.getByTestId("monitors-table");
    await table.getByRole("link", { name: seeded.monitor }).waitFor();
    const row = await table.getByRole("row", { name: new RegExp(seeded.monitor) }).innerText();
    assert.match(row, /churn-model@champion/);
    assert.match(row, /\d+%/);
    await shot("monitors");
    const report = await table.getByRole("link", { name: "HTML report" }).getAttribute("href");
    const res = await fetch(`${server.url}${report}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);

    await table.getByRole("link", { name: seeded.monitor }).click();
    await page.getByTestId("windows-table").waitFor();
    await shot("monitor");
  });

  it("has a dark theme, and the back button walks the views", async () => {
    await open(`/experiments/${seeded.experimentId}`);
    await page.getByTestId("runs-table").locator("[data-row-index='0']").waitFor();
    await page.getByRole("button", { name: /Change theme/ }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    await shot("runs-dark");
    await page.getByRole("link", { name: "Models" }).click();
    await page.waitForURL(/\/models$/);
    await page.goBack();
    await page.waitForURL(new RegExp(`/experiments/${seeded.experimentId}$`));
    await page.getByTestId("runs-table").locator("[data-row-index='0']").waitFor();
    // the choice survives a reload
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
  });
});
