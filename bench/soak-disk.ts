/**
 * A disk filled while composes run, as a soak chaos action (`npm run soak --
 * --fill-disk [target|db|target,db]`): each named directory — the compose
 * target dir (ODCS_TARGET_DIR, its staging trees included) and the
 * database file's dir — lives on a private tmpfs of its own, mounted here
 * and unmounted at the end (also on Ctrl-C or a failure: the soak runs as
 * root). A seeded loop, beside the kills, now and then fills one disk's
 * free space with a filler file at a random moment while composes are
 * generating, and deletes it a random while later. The figures (fills,
 * seconds full) and the disk checks (a compose failed for space says so;
 * composes succeed again once space is back) are here too.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { ComposeRow } from "../src/db/schema.ts";
import { mountTmpfs, type SmallDisk } from "../test/helpers/tmpfs.ts";

/**
 * `target`: ODCS_TARGET_DIR on a disk of its own; `db`: the database's dir
 * on one of its own; `data`: one disk holding the target dir, the cache
 * and the database, as `npm start`'s ./data does (alone: a full disk stops
 * both the trees and the database at once).
 */
export const FILL_DISKS = ["target", "db", "data"] as const;
export type FillDisk = (typeof FILL_DISKS)[number];
/** What a soak disk holds. */
export type DiskRole = "target" | "db" | "cache";

/** Size of each private tmpfs (MB): room for a long run's trees or database, its fill a fraction of a second. */
export const DEFAULT_DISK_MB = 256;
/** Mean gap between fills (exponential), ms. */
export const DEFAULT_FILL_EVERY_MS = 4000;
/** Mean time a disk stays full (exponential), ms. */
export const DEFAULT_FILL_FOR_MS = 2500;
/** Most room a fill that leaves some leaves (bytes): a compose's RPMs and repodata need more. */
const NEARLY_FULL_ROOM_BYTES = 512 * 1024;
/** Longest a short run keeps a disk full waiting for a compose to meet it, ms. */
const SHORT_RUN_HOLD_MS = 15_000;
/** Longest wait for a compose to be generating before a fill goes ahead anyway, ms. */
const FILL_AIM_MS = 3000;

/**
 * The disks `--fill-disk` names: bare (or `target`) the target dir, `db`
 * the database's dir, `target,db` (or `all`) both on disks of their own,
 * `data` the two and the cache on one disk; undefined when the value names
 * something else or `data` with another.
 */
export function parseFillDisk(value: string): FillDisk[] | undefined {
  const v = value.trim();
  if (v === "" || v === "target") return ["target"];
  if (v === "all") return ["target", "db"];
  const names = v.split(",").map((s) => s.trim());
  if (names.some((n) => !(FILL_DISKS as readonly string[]).includes(n))) return undefined;
  if (names.includes("data") && names.length > 1) return undefined;
  return FILL_DISKS.filter((d) => names.includes(d));
}

/**
 * `--fill-disk` may come bare (`npm run soak -- --fill-disk --seed 3`):
 * node's parseArgs wants a value for a string option, so a bare one gets
 * `target`.
 */
export function withFillDiskValue(argv: readonly string[]): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    out.push(a);
    const next = argv[i + 1];
    if (a === "--fill-disk" && (next === undefined || next.startsWith("--"))) out.push("target");
  });
  return out;
}

export interface DiskFillOptions {
  disks: readonly FillDisk[];
  /** Size of each tmpfs, MB (default DEFAULT_DISK_MB). */
  diskMb?: number;
  /** Mean gap between fills, ms (default DEFAULT_FILL_EVERY_MS). */
  fillEveryMs?: number;
  /** Mean time a disk stays full, ms (default DEFAULT_FILL_FOR_MS). */
  fillForMs?: number;
  /** A short run (CI): the chaos lasts until each disk was filled (and freed) this many times. */
  fillsPerDisk?: number;
}

/** When a disk was full: from the fill to the free (ms, `Date.now()`). */
interface Window {
  disk: FillDisk;
  from: number;
  to: number | undefined;
  /** Whether a compose was generating when it filled. */
  aimed: boolean;
}

/** Mounted soak disks, for the unmount on exit or a signal whatever state the run is in. */
const mounted = new Set<SmallDisk>();

/** Unmount every soak disk still mounted (lazily: a process may still hold files there). */
export function unmountSoakDisks(): void {
  for (const d of mounted) {
    try {
      d.unmount();
    } catch (err) {
      process.stderr.write(`soak: unmounting ${d.dir} failed: ${String(err)}\n`);
    }
    mounted.delete(d);
  }
}
process.once("exit", unmountSoakDisks);

/**
 * A watchdog in a session of its own that unmounts `dir` once this process
 * is gone, however it went: Ctrl-C under `npm run` (npm and tsx take the
 * signal too, and tsx kills its child with SIGKILL if it does not answer
 * within 30 ms), a kill -9, a crash. After a normal end it finds the mount
 * gone already.
 */
function unmountWhenGone(dir: string): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; umount -l "$1" 2>/dev/null; rm -rf "$1"`;
  const guard = spawn("sh", ["-c", script, "soak-disk-guard", dir], {
    detached: true,
    stdio: "ignore",
  });
  guard.unref();
}

/** The private disks of a run and their fills. */
export class SoakDisks {
  readonly #disks = new Map<FillDisk, SmallDisk>();
  readonly #windows: Window[] = [];

  constructor(names: readonly FillDisk[], mb = DEFAULT_DISK_MB) {
    for (const n of names) {
      const d = mountTmpfs(mb * 1024 * 1024);
      mounted.add(d);
      this.#disks.set(n, d);
      unmountWhenGone(d.dir);
    }
  }

  get names(): FillDisk[] {
    return [...this.#disks.keys()];
  }

  /** Where the disks are mounted. */
  get mountPoints(): string[] {
    return [...this.#disks.values()].map((d) => d.dir);
  }

  /** The soak disk holding `role`, if one does. */
  diskOf(role: DiskRole): FillDisk | undefined {
    if (this.#disks.has("data")) return "data";
    return role === "cache" ? undefined : this.#disks.has(role) ? role : undefined;
  }

  /** The directory for `role` on its soak disk (`<mount>/composes`, `<mount>/db`, `<mount>/cache`), or undefined if no soak disk holds it. */
  dir(role: DiskRole): string | undefined {
    const disk = this.diskOf(role);
    const d = disk && this.#disks.get(disk);
    return d && join(d.dir, role === "target" ? "composes" : role);
  }

  isFull(disk: FillDisk): boolean {
    return this.#windows.some((w) => w.disk === disk && w.to === undefined);
  }

  /**
   * Take the free space of `disk` now, all of it or all but `leaveBytes`
   * (a nearly full disk: small writes pass, larger ones break off halfway).
   */
  fill(disk: FillDisk, aimed: boolean, leaveBytes = 0): void {
    const d = this.#disks.get(disk);
    if (!d || this.isFull(disk)) return;
    d.fill(leaveBytes);
    this.#windows.push({ disk, from: Date.now(), to: undefined, aimed });
  }

  /** Give `disk`'s space back (delete the filler). */
  free(disk: FillDisk): void {
    const w = this.#windows.find((x) => x.disk === disk && x.to === undefined);
    this.#disks.get(disk)?.free();
    if (w) w.to = Date.now();
  }

  freeAll(): void {
    for (const n of this.names) this.free(n);
  }

  /** Whether `at` (ms, `Date.now()`) fell while `disk` was full or within `graceMs` after. */
  wasFull(disk: FillDisk, at: number, graceMs: number): boolean {
    return this.#windows.some(
      (w) => w.disk === disk && at >= w.from && at <= (w.to ?? Number.POSITIVE_INFINITY) + graceMs,
    );
  }

  /** Fills per disk, and of them those that came while a compose was generating. */
  fills(): Record<string, { fills: number; aimed: number; secondsFull: number }> {
    const out: Record<string, { fills: number; aimed: number; secondsFull: number }> = {};
    for (const n of this.names) {
      const ws = this.#windows.filter((w) => w.disk === n);
      out[n] = {
        fills: ws.length,
        aimed: ws.filter((w) => w.aimed).length,
        secondsFull: ws.reduce((s, w) => s + ((w.to ?? Date.now()) - w.from), 0) / 1000,
      };
    }
    return out;
  }

  /** Free and unmount (the processes using them stopped first). */
  unmount(): void {
    for (const [, d] of this.#disks) {
      if (!mounted.has(d)) continue;
      d.unmount();
      mounted.delete(d);
    }
  }
}

/**
 * The fill loop of the chaos: while `on()`, after an exponential gap a disk
 * not full already is drawn and filled — at a moment a compose is
 * generating, if one comes within FILL_AIM_MS — and freed after an
 * exponential while (in the background, on `background`). Resolves when
 * `on()` turns false; the frees still pending are the caller's to await.
 */
export async function fillLoop(args: {
  disks: SoakDisks;
  opts: DiskFillOptions;
  rnd: () => number;
  on: () => boolean;
  generating: () => Promise<boolean>;
  /**
   * Whether a compose has met `disk` full. A short run (`fillsPerDisk`)
   * keeps each disk full, every byte taken, until one has (at most
   * SHORT_RUN_HOLD_MS), so a CI run shows a compose meeting it.
   */
  metFull?: (disk: FillDisk) => Promise<boolean>;
  background: (p: Promise<unknown>) => void;
  say: (line: string) => void;
}): Promise<void> {
  const { disks, opts, rnd, on, say } = args;
  const every = opts.fillEveryMs ?? DEFAULT_FILL_EVERY_MS;
  const forMs = opts.fillForMs ?? DEFAULT_FILL_FOR_MS;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while (on()) {
    await sleep(-Math.log(1 - rnd()) * every);
    const free = disks.names.filter((n) => !disks.isFull(n));
    // A short run stops filling once each disk had its fills.
    const had = disks.fills();
    if (
      opts.fillsPerDisk !== undefined &&
      disks.names.every((n) => (had[n]?.fills ?? 0) >= (opts.fillsPerDisk ?? 0))
    )
      continue;
    // A short run fills each disk in turn, so every one is filled.
    const disk = opts.fillsPerDisk !== undefined ? leastFilled(disks, free) : pickOf(free, rnd);
    const hold = -Math.log(1 - rnd()) * forMs;
    // Half the fills take every byte; the others leave a little room, under 512 KiB.
    const leave =
      rnd() < 0.5 || opts.fillsPerDisk !== undefined
        ? 0
        : Math.floor(rnd() * NEARLY_FULL_ROOM_BYTES);
    if (!on() || disk === undefined) continue;
    let aimed = false;
    for (const until = Date.now() + FILL_AIM_MS; Date.now() < until; ) {
      aimed = await args.generating().catch(() => false);
      if (aimed) break;
      await sleep(50);
    }
    disks.fill(disk, aimed, leave);
    say(
      `chaos: fill the ${disk} disk${leave > 0 ? ` but ${leave} bytes` : ""} for ${(hold / 1000).toFixed(1)} s`,
    );
    args.background(
      (async () => {
        await sleep(hold);
        if (opts.fillsPerDisk !== undefined && args.metFull)
          for (const until = Date.now() + SHORT_RUN_HOLD_MS; Date.now() < until; ) {
            if (await args.metFull(disk).catch(() => false)) break;
            await sleep(100);
          }
        disks.free(disk);
        say(`chaos: free the ${disk} disk`);
      })(),
    );
  }
}

const pickOf = <T>(xs: readonly T[], rnd: () => number): T | undefined =>
  xs[Math.floor(rnd() * xs.length)];

function leastFilled(disks: SoakDisks, free: readonly FillDisk[]): FillDisk | undefined {
  const f = disks.fills();
  return [...free].sort((a, b) => (f[a]?.fills ?? 0) - (f[b]?.fills ?? 0))[0];
}

/** Whether a short run's fills are done: each disk filled `fillsPerDisk` times and freed. */
export function fillsDone(disks: SoakDisks, opts: DiskFillOptions): boolean {
  const f = disks.fills();
  return disks.names.every(
    (n) => (f[n]?.fills ?? 0) >= (opts.fillsPerDisk ?? 0) && !disks.isFull(n),
  );
}

/**
 * The words a compose failed for want of space says it with
 * (src/worker/disk-full.ts, `diskFullMessage`), after ODCS's "Error while
 * generating compose: " and any "gave up after N attempts; last error: ".
 */
export const DISK_FULL_REASON =
  /no space left on device \(the disk of [A-Z_, ]+(?:and [A-Z_]+ )?is full\)/;
/** Words of a failure that met a full disk, in any wording (an errno, a tool's own). */
const DISK_HINT =
  /ENOSPC|no space left|disk is full|disk full|file operation error|EDQUOT|quota|EFBIG/i;

/** The 503 body of a request the database's full disk refused (src/api/errors.ts). */
export const DB_FULL_503 = /the database disk is full; nothing was changed/;

export interface DiskFindings {
  /** Failed composes that met a full disk but whose reason does not say so plainly. */
  unclear: string[];
  /** Composes submitted after every disk was freed that did not end done. */
  notRecovered: string[];
}

/**
 * Failed composes whose reason hints at a full disk (an errno, a tool's
 * "file operation error") without the plain wording a person can act on,
 * and composes that failed while the target disk was full (or just after)
 * for a reason that is none of the disk, a user's cancel, or attempts used
 * up by killed workers ("worker lease expired") — a download cut short or
 * a tool failing on the full disk must not pass for another fault.
 */
export function unclearDiskFailures(
  rows: readonly ComposeRow[],
  failedAt: ReadonlyMap<number, number>,
  disks: SoakDisks,
): string[] {
  const out: string[] = [];
  for (const r of rows) {
    if (r.state !== 4) continue;
    const reason = r.stateReason ?? "";
    if (DISK_FULL_REASON.test(reason) || /^Canceled by|worker lease expired$/.test(reason))
      continue;
    if (DISK_HINT.test(reason)) out.push(`compose ${r.id}: failed for space, but says "${reason}"`);
    else {
      const at = failedAt.get(r.id);
      const target = disks.diskOf("target");
      if (at !== undefined && target && disks.wasFull(target, at, 1000))
        out.push(`compose ${r.id}: failed while the target disk was full, saying "${reason}"`);
    }
  }
  return out;
}

/** Count of composes failed with the disk-full reason. */
export const failedForSpace = (rows: readonly ComposeRow[]) =>
  rows.filter((r) => r.state === 4 && DISK_FULL_REASON.test(r.stateReason ?? "")).length;
