/**
 * Single host (`npm start`): API, compose file server, expiry sweep and one
 * worker in one process, the worker on a thread of its own (`worker-thread.ts`).
 */
import { runProcess } from "./node/lifecycle.ts";
import { spawnWorkerThread } from "./node/worker-thread.ts";
import { spawnWriteThread } from "./node/write-thread.ts";

await runProcess("server", async (config, log) => {
  // The write and worker threads load their modules while this thread does.
  const writes = spawnWriteThread(config, log);
  const worker = spawnWorkerThread(config, log);
  const { startServer } = await import("./node/start-server.ts");
  return startServer(config, log, { worker, writes });
});
