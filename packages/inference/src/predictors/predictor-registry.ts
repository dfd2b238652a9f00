/**
 * Which loader takes a model package: a registry keyed by flavor (`onnx`) and, for Slipway's own flavor,
 * by predictor kind (`flavors.slipway.predictor`, e.g. `text-classifier`). A package offering several
 * loadable flavors is loaded by the `slipway` one first (native predictors keep their preprocessing),
 * then by the other flavors in the order they were registered.
 */
import { SLIPWAY_FLAVOR, getSlipwayFlavor, type MLmodel } from "@slipway/ml";
import { PredictorLoadError, type Predictor, type PredictorLoader } from "./predictor.js";

export interface ResolvedLoader {
  /** `onnx`, or `slipway/<kind>`. */
  key: string;
  loader: PredictorLoader;
}

export class PredictorRegistry {
  private readonly flavors = new Map<string, PredictorLoader>();
  private readonly slipwayKinds = new Map<string, PredictorLoader>();

  /** Registers the loader of a flavor other than `slipway`. */
  registerFlavor(flavor: string, loader: PredictorLoader): this {
    if (flavor === SLIPWAY_FLAVOR) {
      throw new Error("register Slipway predictors by kind with registerSlipwayPredictor");
    }
    this.flavors.set(flavor, loader);
    return this;
  }

  /** Registers the loader of a `slipway` flavor predictor kind (`flavors.slipway.predictor`). */
  registerSlipwayPredictor(kind: string, loader: PredictorLoader): this {
    this.slipwayKinds.set(kind, loader);
    return this;
  }

  /** The loader for a package, or a `PredictorLoadError` saying what the package has and what loads here. */
  resolve(mlmodel: MLmodel): ResolvedLoader {
    const slipway = getSlipwayFlavor(mlmodel.flavors);
    if (slipway) {
      const loader = this.slipwayKinds.get(slipway.predictor);
      if (loader) return { key: `${SLIPWAY_FLAVOR}/${slipway.predictor}`, loader };
    }
    for (const [flavor, loader] of this.flavors) {
      if (flavor in mlmodel.flavors) return { key: flavor, loader };
    }
    const has = Object.keys(mlmodel.flavors).map((f) =>
      f === SLIPWAY_FLAVOR && slipway ? `slipway (predictor '${slipway.predictor}')` : `'${f}'`,
    );
    const here = [...this.flavors.keys()].map((f) => `'${f}'`);
    here.push(...[...this.slipwayKinds.keys()].map((k) => `slipway '${k}'`));
    throw new PredictorLoadError(
      `no predictor here can load this model: it has ${has.join(", ")}; the predictors here are ${here.length === 0 ? "none" : here.join(", ")}`,
    );
  }

  /** Loads the package in `dir` with the loader `resolve` picks. */
  async load(dir: string, mlmodel: MLmodel): Promise<Predictor> {
    return this.resolve(mlmodel).loader(dir, mlmodel);
  }

  /** The flavors and Slipway predictor kinds this registry loads (for `parseMLmodel`'s `supportedFlavors`). */
  supportedFlavors(): string[] {
    const flavors = [...this.flavors.keys()];
    if (this.slipwayKinds.size > 0) flavors.unshift(SLIPWAY_FLAVOR);
    return flavors;
  }
}
