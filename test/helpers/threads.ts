import { readdirSync, readFileSync } from "node:fs";

/** The niceness of every thread of this process (Linux /proc). */
export function niceOfThreads(): number[] {
  return readdirSync(`/proc/${process.pid}/task`).map((tid) => niceOfThread(Number(tid)));
}

export function niceOfThread(tid: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8");
  // Fields after the command (which may hold spaces): state is field 3, nice field 19.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[16]);
}
