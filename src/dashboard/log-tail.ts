import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import type { ComposeRow } from "../db/schema.ts";
import { composeDirName } from "../domain/json-view.ts";
import { stagingLog } from "../node/static.ts";
import { LOG_FILE } from "../worker/paths.ts";

/** How much of the end of a log the detail page shows before any script runs. */
export const LOG_TAIL_BYTES = 16_384;

/**
 * The end of a compose's log as served at its URL: the published file, or
 * while generating the newest attempt's file in the staging area (as
 * src/node/static.ts serves it). `size` is the byte offset the live script
 * continues from; `undefined` when there is no log on this host.
 */
export function readLogTail(
  targetDir: string,
  row: Pick<ComposeRow, "id" | "reusedId">,
): { text: string; size: number; truncated: boolean } | undefined {
  const name = composeDirName(row);
  const candidates = [join(targetDir, name, LOG_FILE), stagingLog(targetDir, name)];
  for (const file of candidates) {
    if (file === undefined) continue;
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      continue;
    }
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(0, size - LOG_TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      let text = buf.toString("utf8");
      // A cut multi-byte character or line at the start: begin at the next whole line.
      if (start > 0) text = text.slice(text.indexOf("\n") + 1);
      return { text, size, truncated: start > 0 };
    } finally {
      closeSync(fd);
    }
  }
  return undefined;
}
