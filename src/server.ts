/**
 * The `odcs-server` process (`npm run server`, `bin/odcs-server.js`): API,
 * compose file server and expiry sweep, no worker. Runs whenever it is
 * loaded, however it was launched; the code is in `node/start-server.ts`.
 */
import { runProcess } from "./node/lifecycle.ts";
import { startServer } from "./node/start-server.ts";

await runProcess("server", (config, log) => startServer(config, log, { withWorker: false }));
