import { configFromProcess } from "./node/runtime.ts";
import { startServer } from "./server.ts";

/** Single host: API, compose file server, expiry sweep and one worker in one process. */
await startServer(configFromProcess(), { withWorker: true });
