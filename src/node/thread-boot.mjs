// The entry of the service's worker threads (`thread-host.ts`): a worker
// thread starts without the main thread's module hooks, so it loads
// TypeScript through tsx itself, whatever way the process was launched, then
// the thread's module (`workerData.module`, a file beside this one).
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(new URL(workerData.module, import.meta.url).href);
