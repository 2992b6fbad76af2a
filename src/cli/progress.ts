/**
 * How waiting looks. On a terminal: one status line on stderr, redrawn in
 * place every second (state, elapsed time, place in the queue). Otherwise:
 * one plain line on stderr per state change, nothing redrawn, so logs of CI
 * jobs stay readable. stdout keeps exactly what the ODCS CLI prints there.
 */
export interface ProgressView {
  update(state: string, queue?: QueuePlace): void;
  /** Write text (log lines) without mixing it into the status line. */
  print(text: string): void;
  stop(): void;
}

export interface QueuePlace {
  place: number | undefined;
  waiting: number;
}

export interface Terminal {
  write(s: string): void;
  /** For log text: stdout. */
  writeOut(s: string): void;
  now(): number;
  setInterval(fn: () => void, ms: number): { stop(): void };
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export function queueText(q: QueuePlace | undefined): string {
  if (!q) return "";
  // Not among the first page of waiting composes: only the queue's length is known.
  if (q.place === undefined) return ` · ${q.waiting} composes waiting`;
  return ` · place ${q.place} of ${q.waiting} in the queue`;
}

export function statusText(id: number, state: string, elapsedMs: number, q?: QueuePlace): string {
  return `compose ${id}: ${state} · ${formatElapsed(elapsedMs)}${state === "wait" ? queueText(q) : ""}`;
}

const CLEAR_LINE = "\r\x1b[2K";

export function liveStatusLine(id: number, term: Terminal): ProgressView {
  const start = term.now();
  let state = "";
  let queue: QueuePlace | undefined;
  const draw = () => term.write(`${CLEAR_LINE}${statusText(id, state, term.now() - start, queue)}`);
  const timer = term.setInterval(draw, 1000);
  return {
    update(s, q) {
      state = s;
      queue = q;
      draw();
    },
    print(text) {
      term.write(CLEAR_LINE);
      term.writeOut(text);
      draw();
    },
    stop() {
      timer.stop();
      term.write(CLEAR_LINE);
    },
  };
}

export function plainLines(id: number, term: Terminal): ProgressView {
  const start = term.now();
  let last = "";
  return {
    update(s, q) {
      if (s === last) return;
      last = s;
      term.write(`${statusText(id, s, term.now() - start, q)}\n`);
    },
    print(text) {
      term.writeOut(text);
    },
    stop() {},
  };
}
