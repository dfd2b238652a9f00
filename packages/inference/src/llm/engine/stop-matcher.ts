/**
 * Stop sequences over streamed text. Text arrives in pieces; a piece may end with the beginning of a
 * stop sequence that the next piece completes, so such a tail is held back until it is either completed
 * (the text stops before it) or ruled out (it is released). Nothing after or inside a stop sequence is
 * ever emitted, and nothing else is delayed.
 */

export interface StopMatch {
  /** Text that is safe to send now. */
  readonly emit: string;
  /** A stop sequence was found: `emit` ends right before it, and generation should end. */
  readonly stopped: boolean;
}

export class StopMatcher {
  private readonly stops: readonly string[];
  private held = "";
  private done = false;

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  push(text: string): StopMatch {
    if (this.done) return { emit: "", stopped: true };
    if (this.stops.length === 0) return { emit: text, stopped: false };
    const buffer = this.held + text;
    let first = -1;
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    if (first !== -1) {
      this.done = true;
      this.held = "";
      return { emit: buffer.slice(0, first), stopped: true };
    }
    const hold = this.partialTail(buffer);
    this.held = buffer.slice(buffer.length - hold);
    return { emit: buffer.slice(0, buffer.length - hold), stopped: false };
  }

  /** The text held back, released at the end of generation (no stop sequence can complete any more). */
  flush(): string {
    const rest = this.done ? "" : this.held;
    this.held = "";
    return rest;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some stop sequence. */
  private partialTail(buffer: string): number {
    let best = 0;
    for (const stop of this.stops) {
      const longest = Math.min(stop.length - 1, buffer.length);
      for (let len = longest; len > best; len--) {
        if (buffer.endsWith(stop.slice(0, len))) {
          best = len;
          break;
        }
      }
    }
    return best;
  }
}
