/**
 * The fenced publish. Each execution of a generate job builds its tree in
 * its own staging dir and moves it, whole, to a tree of its own,
 * `.published/odcs-<id>/<token>`; the served path `odcs-<id>` is a symlink
 * to one of them. Which one is the database's decision: the fenced commit
 * that settles the compose (done, failed, or a cancelled run's discard)
 * records its tree in `composes.published_attempt`, once. The link is then
 * pointed at what the database says (read the row, then flip), never at
 * "my own tree because I think I still own the job". As the choice is
 * written once, everyone who reads it after that commit — the worker that
 * committed, a stale worker whose commit was refused, the sweep — points
 * the link at the same tree, whatever order they run in; before it there
 * is no choice and nobody flips. The one link made without the database is
 * the first one (`linkIfAbsent`), so a compose is served before its `done`
 * commit as before; it never replaces a link.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readlink, rename, rm, symlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { crashPoint } from "../crash-points.ts";
import type { Db } from "../db/client.ts";
import { findPublished } from "../db/published.ts";
import { COMPOSE_STATES } from "../domain/states.ts";
import { composeName, finalDir, linkText, publishedRoot, REMOVING_DIR } from "./paths.ts";

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * The name of one execution's published tree: `attempt-<n>-<8 hex of the
 * worker id>`. Unique among executions that publish: a claim increments
 * the attempt, and the one way an attempt is given back (a release when
 * the database is full) comes before anything is published.
 */
export function treeToken(attempt: number, workerId: string): string {
  const worker = createHash("sha256").update(workerId).digest("hex").slice(0, 8);
  return `attempt-${attempt}-${worker}`;
}

/** Move a finished staging tree to its published place (one rename; not served by that). */
export async function moveToPublished(
  staging: string,
  targetDir: string,
  id: number,
  token: string,
): Promise<void> {
  const root = publishedRoot(targetDir, id);
  await mkdir(root, { recursive: true });
  const dest = join(root, token);
  // Only this execution publishes under its token; anything there is a crashed try of it.
  await rm(dest, { recursive: true, force: true });
  await rename(staging, dest);
}

/**
 * Serve `token` at `odcs-<id>` if nothing is served there yet (one
 * `symlink()`, which fails if the name exists): a first publish is visible
 * before its `done` commit. Never replaces a link: one that exists may be
 * the tree the database chose. True when it made the link.
 */
export async function linkIfAbsent(targetDir: string, id: number, token: string): Promise<boolean> {
  try {
    await symlink(linkText(id, token), finalDir(targetDir, id));
    return true;
  } catch (err) {
    if (code(err) === "EEXIST") return false;
    throw err;
  }
}

/** The token `odcs-<id>` points at, if it is a link into the compose's published trees. */
export async function servedToken(targetDir: string, id: number): Promise<string | undefined> {
  let text: string;
  try {
    text = await readlink(finalDir(targetDir, id));
  } catch {
    return undefined;
  }
  const token = basename(text);
  return text === linkText(id, token) ? token : undefined;
}

/**
 * Point `odcs-<id>` at tree `token` in one step: a new link made under a
 * hidden name, renamed over the old one, so readers see the old tree or the
 * new one. A real directory there (published before trees were per
 * attempt) is moved away first.
 */
export async function pointLink(targetDir: string, id: number, token: string): Promise<void> {
  const link = finalDir(targetDir, id);
  if ((await servedToken(targetDir, id)) === token) return;
  for (let tries = 0; ; tries++) {
    const tmp = join(targetDir, `.${composeName(id)}.link-${randomUUID()}`);
    await symlink(linkText(id, token), tmp);
    try {
      await rename(tmp, link);
      return;
    } catch (err) {
      await rm(tmp, { force: true });
      // The temporary link taken by a sweep's leftover pass: make another.
      if (code(err) === "ENOENT" && tries < 3) continue;
      if ((code(err) !== "EISDIR" && code(err) !== "ENOTEMPTY") || tries >= 3) throw err;
      await removeTree(targetDir, link);
    }
  }
}

/**
 * Make `odcs-<id>` show the tree the database chose for the settled compose
 * (done or failed). Safe from anyone at any time: the choice is written
 * once, by the fenced commit that settles the compose, so a read after it
 * gives every reader the same tree, and before it there is nothing to flip
 * to. A removed compose is left to the sweep. Returns the chosen token.
 */
export async function showChosen(
  db: Db,
  targetDir: string,
  id: number,
): Promise<string | undefined> {
  const row = await findPublished(db, id);
  if (!row?.publishedAttempt) return undefined;
  if (row.state !== COMPOSE_STATES.done && row.state !== COMPOSE_STATES.failed) return undefined;
  await pointLink(targetDir, id, row.publishedAttempt);
  return row.publishedAttempt;
}

/**
 * Delete the published trees of compose `id` other than `keep` (each moved
 * into `.removing/` first). Returns the tokens removed.
 */
export async function removeUnchosen(
  targetDir: string,
  id: number,
  keep: string | undefined,
): Promise<string[]> {
  const root = publishedRoot(targetDir, id);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if (code(err) === "ENOENT") return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (name === keep) continue;
    await removeTree(targetDir, join(root, name));
    removed.push(name);
  }
  return removed;
}

/**
 * Delete the served link of compose `id` (or a legacy directory there),
 * then all its published trees (the sweep; its crash point `sweep:removing`
 * is between the two renames and their deletion).
 */
export async function removeComposeTree(targetDir: string, id: number): Promise<void> {
  await removeTree(targetDir, finalDir(targetDir, id), "sweep:removing");
  await removeTree(targetDir, publishedRoot(targetDir, id));
}

/**
 * Delete the tree `dir` under `targetDir`: first renamed into
 * `<targetDir>/.removing/`, so its served path is gone at once and a reader
 * never sees half of it; then deleted there. A crash in between leaves it
 * in `.removing/`, which the sweep's leftover pass empties. A missing `dir`
 * is no error; a symlink is removed, not followed. `point`: a crash point
 * between the rename and the deletion.
 */
export async function removeTree(
  targetDir: string,
  dir: string,
  point?: "sweep:removing",
): Promise<void> {
  const trashRoot = join(targetDir, REMOVING_DIR);
  await mkdir(trashRoot, { recursive: true });
  const trash = join(trashRoot, `${basename(dir)}-${randomUUID()}`);
  try {
    await rename(dir, trash);
  } catch (err) {
    if (code(err) === "ENOENT") return;
    throw err;
  }
  if (point) crashPoint(point);
  await rm(trash, { recursive: true, force: true });
}
