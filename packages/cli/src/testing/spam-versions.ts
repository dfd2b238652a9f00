/**
 * A registered model `spam` with three versions, for the hot-swap and deployment tests: version 1 says spam
 * for "free prize", version 2 (trained on flipped labels) says ham, version 3 registers but cannot load (its
 * pipeline is damaged). The champion alias points at version 1.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } from "@slipway/ml";
import {
  logModel,
  logModelPackage,
  saveModelPackage,
  setAlias,
  type ActiveRun,
  type TrackingClient,
} from "@slipway/sdk";

const TEXTS = ["win a free prize now", "free money click here", "meeting on monday", "review the report please"];

function classifier(labels: string[]): TextClassifier {
  return new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(TEXTS, labels);
}

/** Logs and registers the three versions in `run` (the broken package is written under `dir`). */
export async function registerSpamVersions(client: TrackingClient, run: ActiveRun, dir: string): Promise<void> {
  await logModelPackage(run, textClassifierPackage(classifier(["spam", "spam", "ham", "ham"])), "v1", {
    registeredModelName: "spam",
  });
  await logModelPackage(run, textClassifierPackage(classifier(["ham", "ham", "spam", "spam"])), "v2", {
    registeredModelName: "spam",
  });
  const broken = join(dir, "broken");
  await saveModelPackage(broken, textClassifierPackage(classifier(["spam", "spam", "ham", "ham"])));
  await writeFile(join(broken, "pipeline.json"), '{"type": "TextClassifier", "version": 1, "vectorizer": {}}');
  await logModel(run, broken, "v3", { registeredModelName: "spam" });
  await setAlias(client, "spam", "champion", 1);
}
