import { closeSync, openSync, writeSync } from "node:fs";

/**
 * The compose's own log (served as `<toplevel_url>/pungi-stderr.log`, which
 * `odcs wait --watch` tails): one timestamped line per pipeline step.
 * Each line is one write(2) before the step it announces starts (a dozen
 * per compose), so whoever reads the log — a client tailing it while the
 * worker waits on a slow source, or a person after a crash — sees where the
 * compose got to. Best effort: a line that cannot be written is dropped
 * rather than failing the compose.
 */
export class ComposeLog {
  #fd: number | undefined;

  constructor(
    path: string,
    private readonly now: () => Date,
  ) {
    this.#fd = openSync(path, "a");
  }

  line(msg: string): void {
    if (this.#fd === undefined) return;
    try {
      writeSync(this.#fd, `${this.now().toISOString()} ${msg}\n`);
    } catch {
      // Full or failing disk: the compose's own steps will say so.
    }
  }

  /** Idempotent; lines after it are dropped. */
  async close(): Promise<void> {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }
}
