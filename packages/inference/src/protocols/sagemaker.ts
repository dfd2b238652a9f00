/**
 * Amazon SageMaker's real-time container contract: `GET /ping` and `POST /invocations` on port 8080
 * (or `SAGEMAKER_BIND_TO_PORT`), all interfaces, the model unpacked in `/opt/ml/model`. The routes are
 * MLflow's (`mlflow.ts`): MLflow's scoring server is SageMaker-compatible by design, so MLflow clients
 * and SageMaker's `InvokeEndpoint` send the same bodies. This file holds the settings SageMaker mode
 * changes.
 */

export const SAGEMAKER_MODEL_DIR = "/opt/ml/model";
export const SAGEMAKER_DEFAULT_PORT = 8080;

export interface SagemakerSettings {
  host: string;
  port: number;
  /** Where SageMaker unpacks `ModelDataUrl`: the model served when no URI is given. */
  modelDir: string;
}

/** SageMaker mode's bind address and model directory, from the environment SageMaker sets. */
export function sagemakerSettings(env: Readonly<Record<string, string | undefined>>): SagemakerSettings {
  const text = env.SAGEMAKER_BIND_TO_PORT;
  let port = SAGEMAKER_DEFAULT_PORT;
  if (text !== undefined && text !== "") {
    port = Number(text);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`SAGEMAKER_BIND_TO_PORT: '${text}' is not a port number (1-65535)`);
    }
  }
  return { host: "0.0.0.0", port, modelDir: SAGEMAKER_MODEL_DIR };
}
