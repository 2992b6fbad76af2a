/**
 * Single host (`npm start`): API, compose file server, expiry sweep and one
 * worker in one process.
 */
import { runProcess } from "./node/lifecycle.ts";
import { spawnWriteThread } from "./node/write-thread.ts";

await runProcess("server", async (config, log) => {
  // The write thread loads the app while this thread does.
  const writes = spawnWriteThread(config, log);
  const { startServer } = await import("./node/start-server.ts");
  return startServer(config, log, { withWorker: true, writes });
});
