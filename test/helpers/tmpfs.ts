/**
 * A small real filesystem for full-disk tests: a tmpfs of `sizeBytes`
 * mounted on a fresh temp dir (the tests run as root; CI too). `fill()`
 * takes every free byte with a filler file, `free()` deletes it.
 */
import { execFileSync } from "node:child_process";
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallDisk {
  dir: string;
  /** Write a filler file until the filesystem says ENOSPC, then give back `leaveBytes` of it. */
  fill(leaveBytes?: number): void;
  /** Remove the filler. */
  free(): void;
  /** Bytes free now. */
  available(): number;
  unmount(): void;
}

export function mountTmpfs(sizeBytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), "odcs-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir]);
  const filler = join(dir, "filler");
  return {
    dir,
    fill(leaveBytes = 0) {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      try {
        for (;;) {
          try {
            writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
            // Finer, to the last byte.
            for (let n = 4096; n >= 1; n = Math.floor(n / 2)) {
              for (;;) {
                try {
                  writeSync(fd, chunk.subarray(0, n));
                } catch {
                  break;
                }
              }
            }
            if (leaveBytes > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leaveBytes));
            return;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    available() {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
    unmount() {
      try {
        unlinkSync(filler);
      } catch {
        // not there
      }
      execFileSync("umount", ["-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
