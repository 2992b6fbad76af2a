/**
 * Single host (`npm start`): API, compose file server, expiry sweep and one
 * worker in one process.
 */
import { runProcess } from "./node/lifecycle.ts";
import { startServer } from "./node/start-server.ts";

await runProcess("server", (config, log) => startServer(config, log, { withWorker: true }));
