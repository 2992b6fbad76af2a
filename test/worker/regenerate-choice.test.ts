/**
 * Found by the soak (seed 7, 1 000 composes, a chaos action every 0.5 s):
 * "odcs-144 shows nothing, not .published/odcs-144/attempt-1-…, the tree
 * the database chose". Compose 144 was a regenerating copy (PATCH of a
 * failed or removed compose), and the copy took every column of the old
 * row but those it named — `published_attempt` too, the *old* compose's
 * chosen tree. A copy that then failed without choosing a tree of its own
 * (cancelled while waiting, or given up by the sweep) kept pointing at a
 * tree it never had; a cancelled run could not choose its own log
 * (`chooseCanceledTree` chooses only when nothing is). A new compose has
 * chosen nothing.
 */
import { afterEach, expect, test } from "vitest";
import { publishedTreeProblems } from "../helpers/published-tree.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

let h: Awaited<ReturnType<typeof composeHarness>>;
afterEach(async () => {
  await h?.stopAll();
});

const patch = (id: number, body: Record<string, unknown> = {}) =>
  h.request(`/api/1/composes/${id}`, {
    method: "PATCH",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });

test("the copy a PATCH of a failed compose makes has chosen no tree; cancelled while waiting, it shows none", async () => {
  h = await composeHarness({});
  const failed = await h.run({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["no-such-package"] },
  });
  expect(failed.state).toBe(4);
  expect(failed.publishedAttempt).toMatch(/^attempt-1-/);

  const res = await patch(failed.id);
  expect(res.status).toBe(200);
  const copy = (await res.json()) as { id: number; state_name: string };
  expect(copy.id).not.toBe(failed.id);
  expect((await h.row(copy.id)).publishedAttempt).toBeNull();

  // Cancelled while it waits: failed, nothing of its own published, and no choice.
  const del = await h.request(`/api/1/composes/${copy.id}`, { method: "DELETE" });
  expect(del.status).toBe(202);
  expect(await h.row(copy.id)).toMatchObject({ state: 4, publishedAttempt: null });
  expect(await publishedTreeProblems(h.db, h.target)).toEqual([]);
});

test("the copy a PATCH of a done compose with new sigkeys makes has chosen no tree either", async () => {
  h = await composeHarness({});
  const done = await h.run({
    source: { type: "repo", source: LIBDNF_REPO, packages: ["dwm"] },
    flags: ["no_deps"],
  });
  expect(done.state).toBe(2);
  expect(done.publishedAttempt).toMatch(/^attempt-1-/);
  const res = await patch(done.id, { sigkeys: ["deadbeef"] });
  expect(res.status).toBe(200);
  const copy = (await res.json()) as { id: number };
  expect(copy.id).not.toBe(done.id);
  expect((await h.row(copy.id)).publishedAttempt).toBeNull();
});
