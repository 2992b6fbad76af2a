// The write thread's entry (`write-thread.ts`): a worker thread starts
// without the main thread's module hooks, so it loads TypeScript through
// tsx itself, whatever way the process was launched.
import { register } from "tsx/esm/api";

register();
await import("./write-thread-main.ts");
