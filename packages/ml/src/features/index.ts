/**
 * Feature extraction of `@slipway/ml`, equal to scikit-learn's: text tokenization and vectorizers
 * (counts, tf-idf, hashing) producing CSR matrices, and tabular transformers (standard scaling, one-hot
 * encoding, imputation). Every fitted transformer has `toJSON()` / static `fromJSON()`.
 */
export { tokenize, DEFAULT_TOKEN_PATTERN, WORD_CHAR_CLASS, type TokenizeOptions } from "./tokenizer.js";
export type { TextAnalyzerOptions } from "./analyzer.js";
export type { RowNorm } from "./normalize.js";
export { compareCodePoints } from "./code-point-order.js";
export {
  CountVectorizer,
  type CountVectorizerJson,
  type CountVectorizerOptions,
  type DocumentFrequency,
  type ResolvedCountOptions,
  type ResolvedDocumentFrequency,
} from "./count-vectorizer.js";
export {
  TfidfTransformer,
  TfidfVectorizer,
  type ResolvedTfidfOptions,
  type TfidfOptions,
  type TfidfTransformerJson,
  type TfidfVectorizerJson,
  type TfidfVectorizerOptions,
} from "./tfidf.js";
export { murmurhash3_32 } from "./murmurhash3.js";
export {
  HashingVectorizer,
  hashFeature,
  type HashingVectorizerJson,
  type HashingVectorizerOptions,
  type ResolvedHashingOptions,
} from "./hashing-vectorizer.js";
export { StandardScaler, type StandardScalerJson, type StandardScalerOptions } from "./standard-scaler.js";
export {
  OneHotEncoder,
  columnsFromRows,
  type Category,
  type CategoricalColumn,
  type CategoryValue,
  type HandleUnknown,
  type OneHotEncoderJson,
  type OneHotEncoderOptions,
} from "./one-hot-encoder.js";
export {
  SimpleImputer,
  type ImputeStrategy,
  type ImputerInput,
  type MaybeNumber,
  type SimpleImputerJson,
  type SimpleImputerOptions,
} from "./simple-imputer.js";
