// The ceiling of `npm run bench:serving`: a bare Fastify handler running the same model in plain JavaScript
// (no validation, batching, metrics or protocol handling). node serving-bare.mjs PIPELINE.json PORT
import { readFileSync } from "node:fs";
import Fastify from "fastify";
import { TextClassifier } from "../packages/ml/dist/index.js";

const classifier = TextClassifier.fromJSON(JSON.parse(readFileSync(process.argv[2], "utf8")));
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
app.post("/predict", async (request) => ({ predictions: classifier.predict(request.body.texts) }));
app.get("/ping", async () => "ok");
await app.listen({ port: Number(process.argv[3]), host: "127.0.0.1" });
console.log("ready");
// exit (rather than die) on SIGTERM, so that `node --cpu-prof` writes its profile
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
