/**
 * A text classifier: a vectorizer (TF-IDF, counts or hashing) followed by a linear classifier
 * (logistic regression or multinomial naive Bayes), as scikit-learn's
 * `make_pipeline(TfidfVectorizer(), LogisticRegression())`.
 *
 * It is the native predictor of the `slipway` flavor's `text-classifier` kind: `toJSON()` is the whole
 * model (vocabulary, idf, weights) in one document, `fromJSON()` loads it back with every part checked.
 * The linear head alone can be exported to ONNX (`linearParams()`), the text preprocessing cannot (ONNX
 * has no tokenizer equal to scikit-learn's), so the package records both: the native pipeline and the
 * ONNX head that takes its output.
 */
import { MlError } from "../core/errors.js";
import type { Label, LinearModelParams } from "../core/linear.js";
import type { CsrMatrix } from "../core/matrix.js";
import { CountVectorizer } from "../features/count-vectorizer.js";
import { HashingVectorizer } from "../features/hashing-vectorizer.js";
import { TfidfVectorizer } from "../features/tfidf.js";
import type { IterationInfo } from "../models/lbfgs.js";
import { LogisticRegression } from "../models/logistic-regression.js";
import { MultinomialNB } from "../models/naive-bayes.js";

export type TextVectorizer = TfidfVectorizer | CountVectorizer | HashingVectorizer;
export type TextModel = LogisticRegression | MultinomialNB;

export interface TextClassifierFitOptions {
  /** Per-iteration progress of iterative models (logistic regression's L-BFGS). */
  onIteration?: (info: IterationInfo) => void;
  sampleWeight?: ArrayLike<number>;
}

export interface TextClassifierJson {
  type: "TextClassifier";
  version: 1;
  vectorizer: unknown;
  model: unknown;
}

/** Class probabilities for a batch: `probabilities[i * classes.length + k]` is P(classes[k] | text i). */
export interface TextPredictions {
  classes: readonly Label[];
  labels: Label[];
  probabilities: Float64Array;
}

function checkTexts(texts: readonly unknown[], what: string): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) throw new MlError(`${what} must be a list of strings`);
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== "string") {
      const value = texts[i] as unknown;
      const kind = value === null ? "null" : value === undefined ? "missing" : typeof value;
      throw new MlError(`${what}[${i}] must be a string, got ${kind}`);
    }
  }
}

export class TextClassifier {
  readonly vectorizer: TextVectorizer;
  readonly model: TextModel;

  constructor(vectorizer: TextVectorizer, model: TextModel) {
    this.vectorizer = vectorizer;
    this.model = model;
  }

  /** Fits the vectorizer on `texts`, then the model on the vectors. */
  fit(texts: readonly string[], labels: readonly Label[], options: TextClassifierFitOptions = {}): this {
    checkTexts(texts, "texts");
    if (texts.length !== labels.length) {
      throw new MlError(`${texts.length} texts but ${labels.length} labels: they must be the same length`);
    }
    if (texts.length === 0) throw new MlError("the training set is empty");
    const X = this.vectorizer.fitTransform(texts);
    if (this.model instanceof LogisticRegression) {
      this.model.fit(X, labels, {
        ...(options.onIteration ? { onIteration: options.onIteration } : {}),
        ...(options.sampleWeight ? { sampleWeight: options.sampleWeight } : {}),
      });
    } else {
      this.model.fit(X, labels, options.sampleWeight ? { sampleWeight: options.sampleWeight } : {});
    }
    return this;
  }

  /** The vectors the model sees for `texts` (the input of the ONNX head). */
  transform(texts: readonly string[]): CsrMatrix {
    checkTexts(texts, "texts");
    return this.vectorizer.transform(texts);
  }

  get classes(): readonly Label[] {
    return this.model.classes;
  }

  /** Number of features the vectorizer produces (the width of the ONNX head's input). */
  get nFeatures(): number {
    return this.model.linearParams().nFeatures;
  }

  predictProba(texts: readonly string[]): Float64Array {
    return this.model.predictProba(this.transform(texts));
  }

  predict(texts: readonly string[]): Label[] {
    return this.model.predict(this.transform(texts));
  }

  /** Labels and probabilities in one pass over the vectors. */
  predictAll(texts: readonly string[]): TextPredictions {
    const probabilities = this.predictProba(texts);
    const classes = this.classes;
    const k = classes.length;
    const labels: Label[] = new Array<Label>(texts.length);
    for (let i = 0; i < texts.length; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (probabilities[i * k + c]! > probabilities[i * k + best]!) best = c;
      labels[i] = classes[best]!;
    }
    return { classes, labels, probabilities };
  }

  /** The linear head (what the ONNX export takes). */
  linearParams(): LinearModelParams {
    return this.model.linearParams();
  }

  toJSON(): TextClassifierJson {
    return { type: "TextClassifier", version: 1, vectorizer: this.vectorizer.toJSON(), model: this.model.toJSON() };
  }

  static fromJSON(value: unknown): TextClassifier {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new MlError("a TextClassifier document must be a JSON object");
    }
    const doc = value as Record<string, unknown>;
    if (doc.type !== "TextClassifier") {
      throw new MlError(`not a TextClassifier document (type is ${JSON.stringify(doc.type) ?? "missing"})`);
    }
    if (doc.version !== 1) {
      throw new MlError(`TextClassifier format version ${JSON.stringify(doc.version)} is not supported (this reads 1)`);
    }
    const vectorizer = vectorizerFromJSON(doc.vectorizer);
    const model = modelFromJSON(doc.model);
    const classifier = new TextClassifier(vectorizer, model);
    const width =
      vectorizer instanceof HashingVectorizer ? vectorizer.options.nFeatures : vectorizer.featureNames().length;
    if (classifier.nFeatures !== width) {
      throw new MlError(`the model takes ${classifier.nFeatures} features but the vectorizer makes ${width}`);
    }
    return classifier;
  }
}

function typeOf(value: unknown, what: string): string {
  if (typeof value !== "object" || value === null || typeof (value as { type?: unknown }).type !== "string") {
    throw new MlError(`${what} must be a JSON object with a 'type'`);
  }
  return (value as { type: string }).type;
}

function vectorizerFromJSON(value: unknown): TextVectorizer {
  const type = typeOf(value, "vectorizer");
  switch (type) {
    case "TfidfVectorizer":
      return TfidfVectorizer.fromJSON(value);
    case "CountVectorizer":
      return CountVectorizer.fromJSON(value);
    case "HashingVectorizer":
      return HashingVectorizer.fromJSON(value);
    default:
      throw new MlError(`vectorizer type '${type}' is not one of TfidfVectorizer, CountVectorizer, HashingVectorizer`);
  }
}

function modelFromJSON(value: unknown): TextModel {
  const type = typeOf(value, "model");
  switch (type) {
    case "LogisticRegression":
      return LogisticRegression.fromJSON(value);
    case "MultinomialNB":
      return MultinomialNB.fromJSON(value);
    default:
      throw new MlError(`model type '${type}' is not one of LogisticRegression, MultinomialNB`);
  }
}
