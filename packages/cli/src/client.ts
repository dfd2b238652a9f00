import { TrackingClient, resolveTrackingUri } from "@slipway/sdk";

export interface ClientFlags {
  trackingUri?: string;
  json?: boolean;
}

export const TRACKING_URI_HELP =
  "tracking server (env SLIPWAY_TRACKING_URI or MLFLOW_TRACKING_URI; default http://127.0.0.1:5000)";

export function clientFor(flags: ClientFlags): TrackingClient {
  return new TrackingClient({ trackingUri: flags.trackingUri ?? resolveTrackingUri(), maxRetries: 2 });
}
