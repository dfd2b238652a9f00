/**
 * Generated tokens → text, one token at a time. A token can end in the middle of a UTF-8 character
 * (byte-level vocabularies split emoji and CJK across tokens); such text is held until the character
 * completes, so a stream never carries U+FFFD halves. The last few tokens are passed as context, so that
 * tokenizers that drop a leading space at the start of a text (SentencePiece) keep it mid-stream.
 * Special tokens (`<|im_start|>`...) produce no text.
 */
import type { LlamaModel, Token } from "node-llama-cpp";

const REPLACEMENT = "\uFFFD";
/** A UTF-8 character is at most 4 bytes, hence at most 4 byte tokens. */
const MAX_PENDING = 4;
const CONTEXT_TOKENS = 4;

export class TokenTextDecoder {
  private pending: Token[] = [];
  private recent: Token[] = [];

  constructor(private readonly model: LlamaModel) {}

  /** Adds a token; returns the text that is complete now (often the token's own, sometimes ""). */
  push(token: Token): string {
    this.pending.push(token);
    const text = this.model.detokenize(this.pending, false, this.recent);
    if (text.endsWith(REPLACEMENT) && this.pending.length < MAX_PENDING) return "";
    return this.take(text);
  }

  /** The text of tokens still held (an incomplete character at the very end). */
  flush(): string {
    if (this.pending.length === 0) return "";
    return this.take(this.model.detokenize(this.pending, false, this.recent));
  }

  private take(text: string): string {
    this.recent = [...this.recent, ...this.pending].slice(-CONTEXT_TOKENS);
    this.pending = [];
    return text;
  }
}
