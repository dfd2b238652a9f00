import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { echoPredictor } from "../testing/test-server.js";
import { InferenceMetrics } from "./metrics.js";
import { ModelSet } from "./model-set.js";
import { ServedModel } from "./served-model.js";

describe("InferenceMetrics", () => {
  it("renders request counters and cumulative latency buckets in Prometheus' text format", async () => {
    const metrics = new InferenceMetrics({ defaultMetrics: false });
    metrics.observeRequest("kserve", "iris", 200, 0.0003);
    metrics.observeRequest("kserve", "iris", 200, 0.002);
    metrics.observeRequest("kserve", "iris", 400, 0.0001);
    const text = await metrics.text();
    assert.match(text, /^# TYPE slipway_inference_requests_total counter$/m);
    assert.match(text, /^slipway_inference_requests_total\{protocol="kserve",model="iris",status="200"\} 2$/m);
    assert.match(text, /^slipway_inference_requests_total\{protocol="kserve",model="iris",status="400"\} 1$/m);
    assert.match(text, /^# TYPE slipway_inference_request_duration_seconds histogram$/m);
    assert.match(
      text,
      /^slipway_inference_request_duration_seconds_bucket\{protocol="kserve",model="iris",le="0\.0001"\} 1$/m,
    );
    assert.match(
      text,
      /^slipway_inference_request_duration_seconds_bucket\{protocol="kserve",model="iris",le="0\.0005"\} 2$/m,
    );
    assert.match(
      text,
      /^slipway_inference_request_duration_seconds_bucket\{protocol="kserve",model="iris",le="\+Inf"\} 3$/m,
    );
    assert.match(text, /^slipway_inference_request_duration_seconds_count\{protocol="kserve",model="iris"\} 3$/m);
    assert.match(metrics.contentType, /^text\/plain/);
  });

  it("counts predictions per class, folding classes past the hundredth into 'other', and reads queue depth", async () => {
    const metrics = new InferenceMetrics({ defaultMetrics: false });
    const model = new ServedModel({
      name: "echo",
      version: "4",
      predictor: echoPredictor(),
      hooks: metrics.modelHooks(),
    });
    await model.start();
    const models = new ModelSet();
    models.add(model);
    metrics.watchQueues(models);
    const texts = Array.from({ length: 150 }, (_, i) => `t${i}`);
    await model.predict({ form: "rows", rows: [...texts, "t0"] });
    const text = await metrics.text();
    assert.match(text, /^slipway_inference_predictions_total\{model="echo",version="4",class="T0"\} 2$/m);
    assert.match(text, /^slipway_inference_predictions_total\{model="echo",version="4",class="other"\} 50$/m);
    assert.equal(text.match(/^slipway_inference_predictions_total\{/gm)?.length, 101);
    assert.match(text, /^slipway_inference_batch_size_sum\{model="echo",version="4"\} 151$/m);
    assert.match(text, /^slipway_inference_queue_depth\{model="echo",version="4"\} 0$/m);
    await model.close();
  });
});
