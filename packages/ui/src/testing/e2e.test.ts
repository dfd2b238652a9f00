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
import { ABOVE_090, RUNS, reportDeploymentTraffic, seedDemo, type SeededDemo } from "./seed.js";

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
    const logged = page.getByTestId("logged-models");
    assert.match(
      (await logged.innerText()).replace(/\s+/g, " "),
      /model python_function slipway 2026-03-01 12:00:00 UTC — not registered/,
    );

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

  it("lists a run's logged models with the registry versions made from them", async () => {
    await open(`/runs/${seeded.bestRunId}`);
    const logged = page.getByTestId("logged-models");
    await logged.getByRole("link", { name: `${seeded.model} v2` }).waitFor();
    assert.match(
      (await logged.innerText()).replace(/\s+/g, " "),
      /^Logged models model python_function slipway .* — registered as churn-model v2 @challenger$/,
    );
    await logged.getByRole("link", { name: "model", exact: true }).click();
    await page.waitForURL(/tab=artifacts&path=model%2FMLmodel$/);
    await page.getByTestId("artifact-preview").getByText("slipway: {}").waitFor();
    await page.goBack();
    await logged.getByRole("link", { name: `${seeded.model} v2` }).click();
    await page.waitForURL(new RegExp(`/models/${seeded.model}$`));
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

  it("draws parallel coordinates of compared runs, names a hovered run and filters by a brushed range", async () => {
    const six = seeded.runIds.slice(0, 6);
    await open(`/compare?runs=${six.join(",")}`);
    const pc = page.getByTestId("parallel-coordinates");
    await pc.locator("path.pc-line").nth(5).waitFor();
    assert.equal(await pc.locator("path.pc-line").count(), 6);
    // the params that differ, then the metrics; features (the same everywhere) is left out
    const labels = await pc.locator("text.pc-label").allTextContents();
    assert.deepEqual(labels, ["epochs", "lr", "model", "accuracy", "f1", "loss"]);
    // categorical levels evenly spaced; numeric axes labelled with their range
    assert.deepEqual(await pc.getByTestId("pc-axis-params.model").locator("text.pc-tick").allTextContents(), [
      "gbm",
      "logreg",
    ]);
    assert.deepEqual(await pc.getByTestId("pc-axis-metrics.accuracy").locator("text.pc-tick").allTextContents(), [
      "0.955",
      "0.7",
    ]);
    assert.equal(await text("[data-testid='pc-count']"), "6 runs");

    // hover: the middle of a line's first segment names that line's run
    const line = pc.locator("path.pc-line[data-run='run-05']");
    const d = (await line.getAttribute("d"))!;
    const [x0, y0, x1, y1] = [...d.matchAll(/[ML]([\d.]+),([\d.]+)/g)]
      .slice(0, 2)
      .flatMap((m) => [Number(m[1]), Number(m[2])]);
    const svgBox = (await pc.locator("svg").boundingBox())!;
    const scale = svgBox.width / 1000;
    await page.mouse.move(svgBox.x + ((x0! + x1!) / 2) * scale, svgBox.y + ((y0! + y1!) / 2) * scale);
    await pc.locator("path.pc-line.hovered").first().waitFor();
    const hovered = await pc.locator("path.pc-line.hovered").first().getAttribute("data-run");
    assert.ok(hovered, "a line is highlighted");
    assert.match(await text("[data-testid='pc-hover']"), new RegExp(`^${hovered} · accuracy `));

    // brush the top 30% of the accuracy axis: only run-05 (0.955) stays; the others (0.70–0.74) fade
    const axis = (await pc.getByTestId("pc-axis-metrics.accuracy").locator("line").boundingBox())!;
    const ax = axis.x + axis.width / 2;
    await page.mouse.move(ax, axis.y - 3); // from just above the axis: clamped to its top
    await page.mouse.down();
    await page.mouse.move(ax, axis.y + axis.height * 0.15, { steps: 3 });
    await page.mouse.move(ax, axis.y + axis.height * 0.3, { steps: 3 });
    await page.mouse.up();
    assert.equal(await text("[data-testid='pc-count']"), "1 of 6 runs in the brushed ranges");
    assert.equal(await pc.locator("path.pc-line.faded").count(), 5);
    assert.equal(await pc.locator("path.pc-line:not(.faded)").first().getAttribute("data-run"), "run-05");
    await page.mouse.move(0, 0);
    await pc.evaluate((el) => scrollTo(0, el.getBoundingClientRect().top + scrollY - 100));
    await shot("compare-parallel");

    // colour by another metric (kept in the URL), hide an axis, clear the brush
    await pc.getByLabel("Colour by").selectOption("loss");
    await page.waitForURL(/pc_color=loss/);
    await pc.getByText(/^Axes/).click();
    await pc.getByRole("checkbox", { name: "params.epochs" }).uncheck();
    await page.waitForURL(/pc=params.lr/);
    assert.deepEqual(await pc.locator("text.pc-label").allTextContents(), ["lr", "model", "accuracy", "f1", "loss"]);
    await pc.getByRole("button", { name: "Clear brushes" }).click();
    assert.equal(await text("[data-testid='pc-count']"), "6 runs");
  });

  it("deletes selected runs after a confirmation, and Undo restores them", async () => {
    await open(`/experiments/${seeded.experimentId}`);
    const grid = page.getByTestId("runs-table");
    await grid.locator("[data-row-index='0']").waitFor();
    await grid.getByLabel("Select run run-20").check();
    await grid.getByLabel("Select run run-21").check();
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Delete 2 runs?" });
    await dialog.waitFor();
    await shot("runs-delete-confirm");
    // Cancel leaves everything as it was
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal(await text("[data-testid='runs-count']"), `${RUNS} runs`);

    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete 2 runs" }).click();
    const toast = page.getByTestId("undo-toast");
    await toast.getByText("Deleted 2 runs.").waitFor();
    await page
      .getByTestId("runs-count")
      .getByText(`${RUNS - 2} runs`)
      .waitFor();
    await grid.getByText("run-21").waitFor({ state: "detached" });
    const stage = async (i: number) =>
      (
        (await (await fetch(`${server.url}/api/2.0/mlflow/runs/get?run_id=${seeded.runIds[i]}`)).json()) as {
          run: { info: { lifecycle_stage: string } };
        }
      ).run.info.lifecycle_stage;
    assert.deepEqual([await stage(20), await stage(21), await stage(19)], ["deleted", "deleted", "active"]);

    await toast.getByRole("button", { name: "Undo" }).click();
    await toast.getByText("Restored 2 runs.").waitFor();
    await page.getByTestId("runs-count").getByText(`${RUNS} runs`).waitFor();
    assert.deepEqual([await stage(20), await stage(21)], ["active", "active"]);
  });

  it("resizes a runs table column by dragging its edge or with the keyboard, and keeps the width", async () => {
    await open(`/experiments/${seeded.experimentId}`);
    const grid = page.getByTestId("runs-table");
    await grid.locator("[data-row-index='0']").waitFor();
    const header = grid.getByRole("columnheader", { name: "lr" });
    const width = async () => (await header.boundingBox())!.width;
    const before = await width();
    const handle = grid.getByRole("separator", { name: "Resize column lr" });
    await handle.scrollIntoViewIfNeeded();
    const box = (await handle.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2, { steps: 4 });
    await page.mouse.move(box.x + box.width / 2 + 80, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    assert.equal(Math.round(await width()), Math.round(before + 80));
    // the cells follow their header
    const cell = grid
      .locator("[data-row-index='0'] [role='gridcell']")
      .nth((await grid.getByRole("columnheader").allInnerTexts()).indexOf("lr"));
    assert.equal(Math.round((await cell.boundingBox())!.width), Math.round(before + 80));
    await handle.focus();
    await page.keyboard.press("ArrowLeft");
    assert.equal(Math.round(await width()), Math.round(before + 64));
    await page.reload();
    await grid.locator("[data-row-index='0']").waitFor();
    assert.equal(Math.round(await width()), Math.round(before + 64));
    await page.evaluate(() => localStorage.removeItem("slipway.runs.column-widths"));
  });

  it("lists deployments with their versions and canary weight, and shows one in detail", async () => {
    await reportDeploymentTraffic(server.url, seeded.deployment, "e2e-1");
    await open("/models");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Deployments" }).click();
    await page.waitForURL(/\/deployments$/);
    const table = page.getByTestId("deployments-table");
    await table.getByRole("link", { name: seeded.deployment }).waitFor();
    const row = (await table.getByRole("row", { name: new RegExp(seeded.deployment) }).innerText()).replace(
      /\s+/g,
      " ",
    );
    assert.match(row, /churn-model@champion v1 v2 at 10%/);
    assert.match(row, /running/);
    assert.equal(
      await table
        .getByRole("row", { name: new RegExp(seeded.deployment) })
        .getByTestId("weight-bar")
        .getAttribute("aria-label"),
      "Traffic: primary v1 90%, canary v2 10%",
    );
    assert.match(
      (await table.getByRole("row", { name: /churn-shadow/ }).innerText()).replace(/\s+/g, " "),
      /v2 running/,
    );
    await shot("deployments");

    await table.getByRole("link", { name: seeded.deployment }).click();
    await page.waitForURL(new RegExp(`/deployments/${seeded.deployment}$`));
    const traffic = page.getByTestId("deployment-traffic");
    await traffic.waitFor();
    const rows = (await traffic.locator("tbody tr").allInnerTexts()).map((r) => r.replace(/\s+/g, " ").trim());
    // two reports (the seed's and this test's) of 900 + 100 requests
    assert.ok(
      rows.some((r) => r.startsWith("primary v1 1,800 2 0.11%")),
      rows.join("|"),
    );
    assert.ok(
      rows.some((r) => r.startsWith("canary v2 200 0 0.00%")),
      rows.join("|"),
    );
    assert.match(await page.getByTestId("canary").innerText(), /Gets 10% of requests \(started at 10%\)/);
    await page
      .getByTestId("deployment-events")
      .getByText(/created/)
      .first()
      .waitFor();
    const servers = await page.getByTestId("deployment-servers").innerText();
    assert.match(servers, /127\.0\.0\.1:8081/);
    assert.match(servers, /canary v2: ready/);
    const versions = page.getByTestId("deployment-versions");
    await versions.getByRole("link", { name: "churn-model v2" }).waitFor();
    await versions.getByRole("link", { name: seeded.bestRunId.slice(0, 8) }).waitFor();
    await shot("deployment");

    await open("/deployments/no-such-deployment");
    assert.match(
      await page.getByRole("alert").innerText(),
      /^Not found: Deployment 'no-such-deployment' does not exist\./,
    );
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

    // per-feature drift over the three windows: like the reference, half-way, drifted
    const tenure = page.getByTestId("feature-tenure");
    await tenure.locator("circle.score-point").nth(2).waitFor();
    assert.equal(await tenure.locator("circle.score-point").count(), 3);
    await tenure.getByTestId("threshold").waitFor({ state: "attached" });
    const points = tenure.locator("circle.score-point");
    assert.doesNotMatch((await points.nth(0).getAttribute("class")) ?? "", /drifted/);
    assert.match((await points.nth(2).getAttribute("class")) ?? "", /drifted/);
    assert.match((await tenure.innerText()).replace(/\s+/g, " "), /drifted in [23] of 3 windows/);
    await page.getByTestId("feature-plan").waitFor();
    // the newest window is chosen first; the oldest by its point, with the keyboard
    const heading = page.getByTestId("feature-histogram").locator("h3");
    assert.match(await heading.innerText(), /^tenure in the window ending .*: score .*, drift$/);
    await points.nth(0).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/feature=tenure/);
    await heading.getByText(/no drift$/).waitFor();
    const frame = page.getByTestId("feature-histogram").locator("iframe");
    assert.match((await frame.getAttribute("src")) ?? "", /\/report$/);
    const reportFrame = await (await frame.elementHandle()).contentFrame();
    await reportFrame!.locator("#col-tenure").waitFor();
    // the frame is scrolled to the feature's card (the report shows the monitor's own sections first)
    await reportFrame!.waitForFunction(
      () => scrollY > 0 && Math.abs(document.getElementById("col-tenure")!.getBoundingClientRect().top) < 20,
    );
    await page
      .getByTestId("feature-drift")
      .evaluate((el) => scrollTo(0, el.getBoundingClientRect().top + scrollY - 56));
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
