/** What to do next in an empty experiment: the few lines that log a run into it. */
import { useState } from "react";

export function Snippet(props: { experimentName: string | undefined }) {
  const [tab, setTab] = useState<"python" | "typescript" | "cli">("python");
  const uri = location.origin;
  const name = JSON.stringify(props.experimentName ?? "my-experiment");
  const code = {
    python: `import mlflow

mlflow.set_tracking_uri("${uri}")
mlflow.set_experiment(${name})

with mlflow.start_run(run_name="first-run"):
    mlflow.log_param("lr", 0.01)
    for step in range(10):
        mlflow.log_metric("loss", 1 / (step + 1), step=step)`,
    typescript: `import { Slipway } from "@slipway/sdk";

const slipway = new Slipway({ trackingUri: "${uri}" });
const run = await slipway.startRun({ experiment: ${name}, runName: "first-run", params: { lr: 0.01 } });
for (let step = 0; step < 10; step++) await run.logMetric("loss", 1 / (step + 1), { step });
await run.end();`,
    cli: `export SLIPWAY_TRACKING_URI=${uri}
# run your training script (it logs with MLflow's client or @slipway/sdk), then:
slipway runs list --experiment-name ${name}`,
  }[tab];
  return (
    <section className="empty-state" data-testid="empty-experiment">
      <h2>No runs yet</h2>
      <p>Log a run into this experiment from your training code; it shows up here as soon as it starts.</p>
      <div className="tabs" role="tablist">
        {(["python", "typescript", "cli"] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={tab === t ? "current" : ""}
            onClick={() => setTab(t)}
          >
            {t === "python" ? "Python (MLflow)" : t === "typescript" ? "TypeScript (@slipway/sdk)" : "Shell"}
          </button>
        ))}
      </div>
      <pre className="code">
        <code>{code}</code>
      </pre>
      <button type="button" onClick={() => void navigator.clipboard?.writeText(code)}>
        Copy
      </button>
    </section>
  );
}
