/**
 * One request's choices, run as concurrent jobs on the slot pool and merged into one event stream:
 * each job waits for a sequence, generates, and returns the sequence; the stream gets every choice's text
 * and finish, then one usage event. The client leaving (the signal, or the consumer leaving the stream)
 * stops every job at its next token and drops the jobs still waiting.
 */
import type { LlamaContextSequence, LlamaGrammarEvaluationState, Token } from "node-llama-cpp";
import { shuttingDown } from "../errors.js";
import { EventChannel } from "../engine/event-channel.js";
import type { GenerationEvent, GenerationStream } from "../engine/llm-provider.js";
import { generateChoice, type ChoiceSampling } from "./generate-choice.js";
import { SlotPoolClosedError, type SlotPool } from "./slot-pool.js";

export interface PreparedChoice {
  readonly prompt: readonly Token[];
  readonly maxTokens: number;
  readonly sampling: ChoiceSampling;
  /** Makes the choice's grammar state (each choice needs its own), when the output is constrained. */
  readonly grammarState: (() => LlamaGrammarEvaluationState) | undefined;
  readonly stopTokens: ReadonlySet<Token>;
  readonly stopTexts: readonly string[];
  readonly trimTrailingWhitespace: boolean;
  /** Text sent before the completion (`echo`), or "". */
  readonly echo: string;
}

export interface RunGenerationOptions {
  pool: SlotPool<LlamaContextSequence>;
  choices: readonly PreparedChoice[];
  promptTokens: number;
  signal: AbortSignal;
}

export interface RunningGeneration {
  stream: GenerationStream;
  /** Settles when every job has returned its sequence. */
  done: Promise<void>;
}

export function runGeneration(options: RunGenerationOptions): RunningGeneration {
  const { pool, choices, promptTokens } = options;
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const channel = new EventChannel<GenerationEvent>(() => stop.abort());
  let completionTokens = 0;
  let failed = false;

  const runChoice = async (choice: PreparedChoice, index: number): Promise<void> => {
    const sequence = await pool.acquire(signal, (s) => commonPrefix(s, choice.prompt));
    try {
      if (choice.echo !== "") channel.push({ type: "text", choice: index, text: choice.echo });
      const outcome = await generateChoice({
        sequence,
        prompt: choice.prompt,
        maxTokens: choice.maxTokens,
        sampling: choice.sampling,
        grammarState: choice.grammarState?.(),
        stopTokens: choice.stopTokens,
        stopTexts: choice.stopTexts,
        trimTrailingWhitespace: choice.trimTrailingWhitespace,
        signal,
        onText: (text) => channel.push({ type: "text", choice: index, text }),
      });
      completionTokens += outcome.completionTokens;
      if (outcome.reason !== undefined) channel.push({ type: "finish", choice: index, reason: outcome.reason });
    } finally {
      pool.release(sequence);
    }
  };

  const jobs = choices.map((choice, index) =>
    runChoice(choice, index).catch((error: unknown) => {
      // a job that ends because the request was cancelled is not a failure; `done` reports it once
      if (signal.aborted || failed) return;
      failed = true;
      stop.abort();
      channel.fail(error instanceof SlotPoolClosedError ? shuttingDown() : error);
    }),
  );
  const done = Promise.all(jobs).then(() => {
    if (failed) return;
    if (signal.aborted) {
      // the consumer left (the channel ignores this), the client disconnected, or the engine shuts down
      channel.fail(signal.reason);
      return;
    }
    channel.push({ type: "usage", usage: { promptTokens, completionTokens } });
    channel.end();
  });
  return {
    stream: Object.assign(channel, { choices: choices.length, promptTokens }),
    done,
  };
}

function commonPrefix(sequence: LlamaContextSequence, prompt: readonly Token[]): number {
  if (sequence.nextTokenIndex === 0) return 0;
  return sequence.compareContextTokens([...prompt]).firstDifferentIndex;
}
