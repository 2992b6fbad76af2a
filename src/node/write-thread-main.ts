/**
 * The write thread's side (`write-thread.ts` explains why there is one):
 * the API app of this process once more, on a database client of its own,
 * answering the write requests the main thread hands over. What the app
 * would call in the main thread (a job queued, a compose changed, a request
 * timed) is sent there as a hook message.
 */
import { createApp } from "../api/app.ts";
import { createAuthenticator } from "../api/auth.ts";
import { ComposeWaits } from "../api/compose-waits.ts";
import { systemClock } from "../api/deps.ts";
import type { MetricsSource } from "../api/metrics.ts";
import type { Db } from "../db/client.ts";
import { armCrashPointFromEnv } from "./lifecycle.ts";
import { connectDatabase } from "./runtime.ts";
import { lowerThreadPriority, startOnOpen, threadLogger, threadStart } from "./thread-side.ts";
import type { FromThread, ToThread, WriteThreadData } from "./write-thread-protocol.ts";

const { port, data } = threadStart<WriteThreadData>("write-thread-main.ts");
const { config, version, crashAt } = data;
const post = (msg: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
const log = threadLogger(config, "server");

/** `notify` goes to the main thread, whose waits the requests waiting there are in. */
class ForwardedWaits extends ComposeWaits {
  override notify(id: number): void {
    post({ type: "hook", hook: "changed", id });
  }
}

const metrics: MetricsSource = {
  contentType: "text/plain",
  render: () => Promise.reject(new Error("the write thread renders no metrics")),
  observeRequest: (method, route, status, seconds) =>
    post({ type: "hook", hook: "request", method, route, status, seconds }),
};

async function start(): Promise<{ app: ReturnType<typeof createApp>; close: () => void }> {
  lowerThreadPriority(log, "write thread");
  armCrashPointFromEnv(crashAt, log);
  const { db, close } = await connectDatabase(config);
  const app = createApp({
    db,
    clock: systemClock,
    config,
    log,
    auth: createAuthenticator(config),
    version,
    waits: new ForwardedWaits(db as Db),
    metrics,
    onJobQueued: () => post({ type: "hook", hook: "queued" }),
    onComposeCanceled: (id) => post({ type: "hook", hook: "canceled", id }),
  });
  return { app, close };
}

async function answer(app: ReturnType<typeof createApp>, msg: ToThread & { type: "request" }) {
  try {
    const res = await app.fetch(
      new Request(msg.url, {
        method: msg.method,
        headers: msg.headers,
        ...(msg.body ? { body: msg.body as Uint8Array<ArrayBuffer> } : {}),
      }),
    );
    const body = await res.arrayBuffer();
    post({ type: "response", id: msg.id, status: res.status, headers: [...res.headers], body }, [
      body,
    ]);
  } catch (err) {
    // The app answers its own errors; this is a failure to answer at all.
    post({ type: "response-failed", id: msg.id, message: String(err) });
  }
}

// Loaded; the database is opened when the main thread says it is migrated.
const opening = startOnOpen(port, start);
port.on("message", (msg: ToThread) => {
  if (msg.type === "open") opening.open();
  else if (msg.type === "request") {
    if (!opening.opened()) {
      post({ type: "response-failed", id: msg.id, message: "the write thread is not open" });
      return;
    }
    void opening.started().then((opened) => {
      if (opened) return answer(opened.app, msg);
      post({ type: "response-failed", id: msg.id, message: "the write thread did not start" });
    });
  } else {
    void opening.started().then((opened) => {
      opened?.close();
      port.close();
    });
  }
});
