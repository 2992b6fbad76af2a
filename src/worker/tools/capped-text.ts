/**
 * What a child process writes to stderr, kept within a bound: a tool that
 * prints without end (a loop of warnings, a hostile RPM that makes it
 * complain per file) must not grow the worker's memory or a compose's
 * `state_reason` without end. The start (what went wrong first) and the end
 * (the final error) are kept; the middle is counted and left out.
 */

/** Characters kept in all: half from the start, half from the end. */
export const MAX_CAPTURED_CHARS = 64 * 1024;

export class CappedText {
  #head = "";
  /** The latest chunks: `#parts[#first…]`, `#tailChars` in all, at most one chunk over half. */
  #parts: string[] = [];
  #first = 0;
  #tailChars = 0;
  #droppedChunks = 0;
  readonly #half: number;

  constructor(maxChars = MAX_CAPTURED_CHARS) {
    this.#half = Math.max(1, Math.floor(maxChars / 2));
  }

  append(text: string): void {
    const room = this.#half - this.#head.length;
    if (room > 0) {
      this.#head += text.slice(0, room);
      text = text.slice(room);
    }
    if (text.length === 0) return;
    this.#parts.push(text);
    this.#tailChars += text.length;
    for (;;) {
      const oldest = this.#parts[this.#first] ?? "";
      if (this.#tailChars - oldest.length < this.#half) break;
      this.#tailChars -= oldest.length;
      this.#droppedChunks += oldest.length;
      this.#first++;
    }
    if (this.#first > 1024 && this.#first * 2 > this.#parts.length) {
      this.#parts = this.#parts.slice(this.#first);
      this.#first = 0;
    }
  }

  /** Characters left out of the middle so far. */
  get dropped(): number {
    return this.#droppedChunks + Math.max(0, this.#tailChars - this.#half);
  }

  toString(): string {
    const joined = this.#parts.slice(this.#first).join("");
    const tail = joined.slice(Math.max(0, joined.length - this.#half));
    const dropped = this.dropped;
    if (dropped === 0) return this.#head + tail;
    return `${this.#head}\n… (${dropped} characters left out) …\n${tail}`;
  }
}
