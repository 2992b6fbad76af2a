/**
 * The retained heap of parsed repositories, for cache budgets: one estimate
 * for everything that holds repodata (the worker's source cache, the
 * depsolver's index). It follows how `repodata-parse.ts` lays records out
 * (Node 20 on x64: 8-byte fields, one byte per ASCII character); against
 * the heap growth of loading the fixtures it comes within ~10% on CentOS
 * Stream AppStream and BaseOS, and ~25% on small repositories.
 */
import type { Repodata } from "./repodata-read.ts";
import type { PackageRecord } from "./types.ts";

/** The record object (~36 in-object fields) and its array slot. */
const RECORD_BYTES = 368;
/** A `Dep` object and its array slot; its strings are shared. */
const DEP_BYTES = 72;
/** A `FileEntry` and its slot, plus the path's string header. */
const FILE_BYTES = 80;
/** A `Changelog` and its slot; its strings are shared. */
const CHANGELOG_BYTES = 64;
/** An array object and its backing store's header. */
const ARRAY_BYTES = 48;

const str = (s: string) => 24 + s.length;

/**
 * Approximate heap bytes `p` holds on its own: the strings it shares with
 * other records (interned at parse) are left out. Pass one `seen` set for
 * all records of a repository to count a list that records share (files
 * of duplicate pkgids, changelogs of one source) once.
 */
export function estimateRecordBytes(p: PackageRecord, seen?: Set<unknown>): number {
  let n = RECORD_BYTES + str(p.pkgid) + str(p.location);
  const lists = [
    p.provides,
    p.requires,
    p.conflicts,
    p.obsoletes,
    p.suggests,
    p.enhances,
    p.recommends,
    p.supplements,
  ];
  for (const deps of lists) if (deps.length) n += ARRAY_BYTES + DEP_BYTES * deps.length;
  if (p.files.length && !seen?.has(p.files)) {
    seen?.add(p.files);
    n += ARRAY_BYTES;
    for (const f of p.files) n += FILE_BYTES + f.path.length;
  }
  if (p.changelogs.length && !seen?.has(p.changelogs)) {
    seen?.add(p.changelogs);
    n += ARRAY_BYTES + CHANGELOG_BYTES * p.changelogs.length;
  }
  return n;
}

/** Approximate heap bytes of a parsed repository: its records and the strings they share. */
export function estimateRepodataBytes(repo: Repodata): number {
  const seen = new Set<unknown>();
  let n = repo.sharedBytes ?? 0;
  for (const p of repo.packages) n += estimateRecordBytes(p, seen);
  return n;
}
