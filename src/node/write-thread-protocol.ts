/** The messages between the main thread and the write thread (`write-thread.ts`). */
import type { Config } from "../config.ts";

/** What the thread is started with. */
export interface WriteThreadData {
  config: Config;
  version: string;
  /** The crash point armed in the main thread (tests), armed in the thread too. */
  crashAt: string | undefined;
}

export type ToThread =
  | {
      type: "request";
      id: number;
      method: string;
      url: string;
      headers: [string, string][];
      body: Uint8Array | null;
    }
  | { type: "open" }
  | { type: "stop" };

/** What the app in the thread would have called in the main thread. */
export type Hook =
  | { hook: "queued" }
  | { hook: "changed"; id: number }
  | { hook: "canceled"; id: number }
  | { hook: "request"; method: string; route: string; status: number; seconds: number };

export type FromThread =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | {
      type: "response";
      id: number;
      status: number;
      headers: [string, string][];
      body: ArrayBuffer;
    }
  | { type: "response-failed"; id: number; message: string }
  | ({ type: "hook" } & Hook);
