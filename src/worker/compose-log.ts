import { createWriteStream, type WriteStream } from "node:fs";

/**
 * The compose's own log (served as `<toplevel_url>/pungi-stderr.log`, which
 * `odcs wait --watch` tails): one timestamped line per pipeline step.
 */
export class ComposeLog {
  #out: WriteStream;
  constructor(
    path: string,
    private readonly now: () => Date,
  ) {
    this.#out = createWriteStream(path, { flags: "a" });
  }
  line(msg: string): void {
    this.#out.write(`${this.now().toISOString()} ${msg}\n`);
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.#out.end(resolve));
  }
}
