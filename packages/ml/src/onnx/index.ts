/**
 * ONNX export of `@slipway/ml`'s linear models, and the pieces under it: a protocol-buffers encoder and
 * decoder, builders for ONNX messages, and a reader of an ONNX file's outline (inputs, outputs, opsets).
 */
export * from "./export-linear.js";
export * from "./onnx-inspect.js";
export * from "./onnx-model.js";
export * from "./protobuf-reader.js";
export * from "./protobuf-writer.js";
