// quickstart.mjs — run with: node examples/quickstart/quickstart.mjs (a server must be running; see README)
import { Slipway } from "@slipway/sdk";

const slipway = new Slipway({ trackingUri: process.env.SLIPWAY_TRACKING_URI ?? "http://127.0.0.1:5000" });
const run = await slipway.startRun({ experiment: "quickstart", runName: "first-run" });
await run.logParams({ lr: 0.01, epochs: 5 });
for (let epoch = 0; epoch < 5; epoch++) {
  await run.logMetric("loss", 1 / (epoch + 1), { step: epoch });
}
await run.setTag("stage", "demo");
await run.logDict({ accuracy: 0.93 }, "eval/summary.json");
await run.end();
console.log(`logged run ${run.id}`);
