/**
 * The `odcs-server` process (`npm run server`, `bin/odcs-server.js`): API,
 * compose file server and expiry sweep, no worker. Runs whenever it is
 * loaded, however it was launched; the code is in `node/start-server.ts`.
 */
import { runProcess } from "./node/lifecycle.ts";
import { spawnWriteThread } from "./node/write-thread.ts";

await runProcess("server", async (config, log) => {
  // The write thread loads the app while this thread does.
  const writes = spawnWriteThread(config, log);
  const { startServer } = await import("./node/start-server.ts");
  return startServer(config, log, { writes });
});
