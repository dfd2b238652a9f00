import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_BODY_LIMIT } from "./http/app.js";
import { loadServeConfig, ServeConfigError } from "./serve-config.js";

describe("loadServeConfig", () => {
  it("defaults to 127.0.0.1:8080, batches of 64 without waiting, a queue of 1024", () => {
    assert.deepEqual(loadServeConfig(["models:/spam@champion"], {}, {}), {
      uris: ["models:/spam@champion"],
      names: [],
      host: "127.0.0.1",
      port: 8080,
      batching: { maxBatchSize: 64, maxWaitMicros: 0, queueCapacity: 1024 },
      predictThreads: 1,
      bodyLimit: DEFAULT_BODY_LIMIT,
      sagemaker: false,
    });
  });

  it("takes flags, names and batching settings", () => {
    const config = loadServeConfig(
      ["a", "b"],
      {
        port: "9000",
        host: "0.0.0.0",
        name: ["x"],
        maxBatchSize: "8",
        maxBatchWaitUs: "500",
        queueCapacity: "16",
        predictThreads: "0",
        bodyLimit: "2048",
      },
      {},
    );
    assert.equal(config.port, 9000);
    assert.equal(config.host, "0.0.0.0");
    assert.deepEqual(config.names, ["x"]);
    assert.deepEqual(config.batching, { maxBatchSize: 8, maxWaitMicros: 500, queueCapacity: 16 });
    assert.equal(config.bodyLimit, 2048);
    assert.equal(config.predictThreads, 0);
  });

  it("listens where Vertex AI and SageMaker say, unless --port says otherwise", () => {
    const vertex = loadServeConfig(["m"], {}, { AIP_HTTP_PORT: "7080" });
    assert.deepEqual([vertex.host, vertex.port], ["0.0.0.0", 7080]);
    assert.equal(loadServeConfig(["m"], { port: "1234" }, { AIP_HTTP_PORT: "7080" }).port, 1234);
    const sagemaker = loadServeConfig([], { sagemaker: true }, { SAGEMAKER_BIND_TO_PORT: "8081" });
    assert.deepEqual([sagemaker.host, sagemaker.port, sagemaker.uris], ["0.0.0.0", 8081, ["/opt/ml/model"]]);
    assert.equal(loadServeConfig(["m"], {}, { SAGEMAKER_BIND_TO_PORT: "8081" }).port, 8080, "only in SageMaker mode");
  });

  it("logs every request to the tracking server's inference log when one is configured, else nothing", () => {
    assert.equal(loadServeConfig(["m"], { logBuffer: "500" }, {}).inferenceLog, undefined);
    assert.deepEqual(loadServeConfig(["m"], { trackingUri: "http://ctl:5000/" }, {}).inferenceLog, {
      endpoint: "http://ctl:5000/api/2.0/slipway/inference-log",
      sampleRate: 1,
      maxBuffer: 10_000,
    });
    assert.deepEqual(
      loadServeConfig(
        ["m"],
        { logSampleRate: "0.05", logBuffer: "500" },
        { MLFLOW_TRACKING_URI: "https://u:p@ctl/mlflow" },
      ).inferenceLog,
      { endpoint: "https://u:p@ctl/mlflow/api/2.0/slipway/inference-log", sampleRate: 0.05, maxBuffer: 500 },
    );
    assert.equal(
      loadServeConfig(["m"], { logSampleRate: "0" }, { SLIPWAY_TRACKING_URI: "http://ctl:5000" }).inferenceLog,
      undefined,
    );
    assert.equal(loadServeConfig(["m"], { logSampleRate: "0" }, {}).inferenceLog, undefined);
  });

  it("names the bad setting", () => {
    const fails = (fn: () => unknown, message: RegExp) =>
      assert.throws(fn, (e: unknown) => e instanceof ServeConfigError && message.test(e.message));
    fails(() => loadServeConfig([], {}, {}), /give at least one model URI/);
    fails(() => loadServeConfig(["m"], { port: "80a" }, {}), /--port: '80a' is not an integer from 0 to 65535/);
    fails(() => loadServeConfig(["m"], { maxBatchSize: "0" }, {}), /--max-batch-size: '0' is not an integer from 1/);
    fails(() => loadServeConfig(["m"], { maxBatchWaitUs: "-5" }, {}), /--max-batch-wait-us: '-5'/);
    fails(() => loadServeConfig(["m"], { queueCapacity: "lots" }, {}), /--queue-capacity: 'lots'/);
    fails(() => loadServeConfig(["m"], { predictThreads: "65" }, {}), /--predict-threads/);
    fails(() => loadServeConfig(["m"], {}, { AIP_HTTP_PORT: "99999" }), /AIP_HTTP_PORT: '99999'/);
    const tracked = { trackingUri: "http://ctl:5000" };
    for (const rate of ["1.5", "-0.1", "half"]) {
      fails(
        () => loadServeConfig(["m"], { ...tracked, logSampleRate: rate }, {}),
        new RegExp(`--log-sample-rate: '${rate}' is not a number from 0 to 1`),
      );
    }
    fails(() => loadServeConfig(["m"], { logSampleRate: "0.5" }, {}), /--log-sample-rate: .*give --tracking-uri/);
    fails(
      () => loadServeConfig(["m"], { ...tracked, logBuffer: "0" }, {}),
      /--log-buffer: '0' is not an integer from 1/,
    );
    fails(
      () => loadServeConfig(["m"], { trackingUri: "ftp://ctl" }, {}),
      /--tracking-uri: 'ftp:\/\/ctl' is not an http/,
    );
    fails(
      () => loadServeConfig([], { sagemaker: true }, { SAGEMAKER_BIND_TO_PORT: "x" }),
      /SAGEMAKER_BIND_TO_PORT: 'x'/,
    );
  });
});
