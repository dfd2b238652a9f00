/**
 * One choice of one request on one context sequence: reuse the sequence's cached prefix, evaluate the
 * rest of the prompt, then sample token by token (temperature, top-p/top-k/min-p, seed, penalties,
 * logit bias, grammar) until an end-of-generation token, a stop token or text, `maxTokens`, or the
 * client leaving. Text goes out as it completes; stop texts are held back until ruled out; a grammar
 * that asks for it gets its trailing whitespace trimmed.
 *
 * The abort signal is checked at every token, so a client that disconnects stops generation within one
 * token's time; the caller then returns the sequence to the pool.
 */
import type {
  LlamaContextSequence,
  LlamaGrammarEvaluationState,
  SequenceEvaluateOptions,
  Token,
  TokenBias,
} from "node-llama-cpp";
import type { FinishReason } from "../engine/llm-provider.js";
import { StopMatcher } from "../engine/stop-matcher.js";
import { TokenTextDecoder } from "./token-text.js";

/** Tokens the presence and frequency penalties look back over. */
export const PENALTY_WINDOW = 256;

export interface ChoiceSampling {
  readonly temperature: number;
  readonly topP: number;
  /** 0: off. */
  readonly topK: number;
  readonly minP: number;
  readonly seed: number;
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  readonly repetitionPenalty: number | undefined;
  readonly tokenBias: TokenBias | undefined;
  readonly ignoreEos: boolean;
}

export interface ChoiceJob {
  readonly sequence: LlamaContextSequence;
  readonly prompt: readonly Token[];
  readonly maxTokens: number;
  readonly sampling: ChoiceSampling;
  /** A fresh grammar state for this choice, when the output is constrained. */
  readonly grammarState: LlamaGrammarEvaluationState | undefined;
  readonly stopTokens: ReadonlySet<Token>;
  /** User stop sequences, template stop texts and grammar stop triggers. */
  readonly stopTexts: readonly string[];
  readonly trimTrailingWhitespace: boolean;
  readonly signal: AbortSignal;
  readonly onText: (text: string) => void;
}

export interface ChoiceOutcome {
  /** `undefined` when the client left (nothing more is sent). */
  readonly reason: FinishReason | undefined;
  readonly completionTokens: number;
}

export async function generateChoice(job: ChoiceJob): Promise<ChoiceOutcome> {
  const { sequence, prompt, sampling, signal } = job;
  const model = sequence.model;
  const input = await reusePrefix(sequence, prompt);
  if (signal.aborted) return { reason: undefined, completionTokens: 0 };

  const generated: Token[] = [];
  const penalize =
    sampling.presencePenalty !== 0 || sampling.frequencyPenalty !== 0 || sampling.repetitionPenalty !== undefined;
  const options: SequenceEvaluateOptions = {
    temperature: sampling.temperature,
    topP: sampling.topP,
    topK: sampling.topK,
    minP: sampling.minP,
    seed: sampling.seed,
    yieldEogToken: sampling.ignoreEos,
    ...(sampling.tokenBias ? { tokenBias: sampling.tokenBias } : {}),
    ...(job.grammarState ? { grammarEvaluationState: job.grammarState } : {}),
    ...(penalize
      ? {
          repeatPenalty: {
            punishTokens: () => generated.slice(-PENALTY_WINDOW),
            maxPunishTokens: PENALTY_WINDOW,
            penalty: sampling.repetitionPenalty ?? 1,
            presencePenalty: sampling.presencePenalty,
            frequencyPenalty: sampling.frequencyPenalty,
          },
        }
      : {}),
  };

  const decoder = new TokenTextDecoder(model);
  const answer = new AnswerText(job.stopTexts, job.trimTrailingWhitespace, job.onText);
  let reason: FinishReason = "stop";
  for await (const token of sequence.evaluate([...input], options)) {
    if (signal.aborted) return { reason: undefined, completionTokens: generated.length };
    generated.push(token);
    if (model.isEogToken(token)) {
      // only yielded with ignore_eos: generation goes on past it, and it has no text
      if (!sampling.ignoreEos) break;
    } else if (job.stopTokens.has(token)) break;
    const text = decoder.push(token);
    if (text !== "" && answer.push(text)) break;
    if (generated.length >= job.maxTokens) {
      reason = "length";
      break;
    }
  }
  // an iterator that ends by itself met an end-of-generation token: "stop"
  if (signal.aborted) return { reason: undefined, completionTokens: generated.length };
  if (!answer.stopped) answer.push(decoder.flush());
  answer.finish();
  return { reason, completionTokens: generated.length };
}

/**
 * Keeps the part of the sequence's state that the prompt starts with (at least one prompt token is
 * always evaluated, to get the next token's logits) and erases the rest; returns the tokens to evaluate.
 */
async function reusePrefix(sequence: LlamaContextSequence, prompt: readonly Token[]): Promise<readonly Token[]> {
  const keep = Math.min(sequence.compareContextTokens([...prompt]).firstDifferentIndex, prompt.length - 1);
  if (sequence.nextTokenIndex > keep) {
    await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
  }
  return prompt.slice(sequence.nextTokenIndex);
}

/** The answer's text on its way out: stop texts cut it, trailing whitespace may be held and dropped. */
class AnswerText {
  private readonly matcher: StopMatcher;
  private whitespace = "";
  stopped = false;

  constructor(
    stops: readonly string[],
    private readonly trimTrailing: boolean,
    private readonly emit: (text: string) => void,
  ) {
    this.matcher = new StopMatcher(stops);
  }

  /** Returns true when a stop text was found (the answer is complete). */
  push(text: string): boolean {
    const { emit, stopped } = this.matcher.push(text);
    this.send(emit);
    if (stopped) this.stopped = true;
    return stopped;
  }

  finish(): void {
    if (!this.stopped) this.send(this.matcher.flush());
    if (!this.trimTrailing) this.flushWhitespace();
  }

  private send(text: string): void {
    if (text === "") return;
    if (!this.trimTrailing) {
      this.emit(text);
      return;
    }
    const body = text.trimEnd();
    if (body === "") {
      this.whitespace += text;
      return;
    }
    this.emit(this.whitespace + body);
    this.whitespace = text.slice(body.length);
  }

  private flushWhitespace(): void {
    if (this.whitespace !== "") this.emit(this.whitespace);
    this.whitespace = "";
  }
}
