/** What every protocol adapter's handlers share: the served models and the server's settings. */
import type { ModelSet } from "../serving/model-set.js";

export interface ServingContext {
  models: ModelSet;
  /** The server's version (`/version`, KServe's server metadata). */
  version: string;
  /** Largest request body accepted, in bytes (the 413 message names it). */
  bodyLimit: number;
}
