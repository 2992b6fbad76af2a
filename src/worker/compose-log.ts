import { createWriteStream, type WriteStream } from "node:fs";

/**
 * The compose's own log (served as `<toplevel_url>/pungi-stderr.log`, which
 * `odcs wait --watch` tails): one timestamped line per pipeline step.
 * Lines written before `dirReady` resolves (its directory is being made)
 * are kept and written then; if it rejects, they are dropped: the failure
 * that made the directory fail is the compose's.
 */
export class ComposeLog {
  #out: WriteStream | undefined;
  #early: string[] | undefined = [];
  readonly #opened: Promise<void>;

  constructor(
    path: string,
    private readonly now: () => Date,
    dirReady: Promise<unknown> = Promise.resolve(),
  ) {
    this.#opened = dirReady.then(
      () => {
        this.#out = createWriteStream(path, { flags: "a" });
        this.#out.write((this.#early ?? []).join(""));
        this.#early = undefined;
      },
      () => {
        this.#early = undefined;
      },
    );
  }

  line(msg: string): void {
    const text = `${this.now().toISOString()} ${msg}\n`;
    if (this.#out) this.#out.write(text);
    else this.#early?.push(text);
  }

  async close(): Promise<void> {
    await this.#opened;
    const out = this.#out;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }
}
