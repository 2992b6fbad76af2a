/**
 * The `odcs-worker` process (`npm run worker`, `bin/odcs-worker.js`): one
 * compose worker. Runs whenever it is loaded; the code is in
 * `node/start-worker.ts`.
 */
import { runProcess } from "./node/lifecycle.ts";
import { startWorker } from "./node/start-worker.ts";

await runProcess("worker", startWorker);
