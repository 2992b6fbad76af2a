import { count } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import {
  type ComposeRow,
  composes,
  events,
  jobs,
  type NewComposeRow,
} from "../../src/db/schema.ts";

/** 2026-11-21T08:00:00Z, the fake clock's default start. */
export const T0 = Date.parse("2026-11-21T08:00:00Z");
export const DAY_MS = 86_400_000;

/** A waiting `repo` compose submitted at T0, as most tests start from. */
export const COMPOSE_DEFAULTS = {
  owner: "unknown",
  sourceType: 3,
  source: "/srv/repos/a",
  state: 0,
  timeSubmitted: T0,
  timeToExpire: T0 + DAY_MS,
  arches: "x86_64",
  lookasideRepos: "",
  composeType: "test",
} satisfies Partial<NewComposeRow>;

/** Insert a compose row directly (any state), defaults being a fresh `repo` compose. */
export async function givenCompose(
  db: Db,
  overrides: Partial<NewComposeRow> = {},
): Promise<ComposeRow> {
  const [row] = await db
    .insert(composes)
    .values({
      ...COMPOSE_DEFAULTS,
      ...overrides,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}

/** Row counts of the tables a create/renew writes. */
export async function countRows(db: Db) {
  const n = async (t: typeof composes | typeof jobs | typeof events) =>
    (await db.select({ n: count() }).from(t))[0]?.n ?? 0;
  return { composes: await n(composes), jobs: await n(jobs), events: await n(events) };
}

/** The ODCS JSON of a compose as §3.2 shows a fresh one, with `overrides` applied. */
export function composeJson(id: number, overrides: Record<string, unknown> = {}) {
  const base = "http://localhost/odcs";
  return {
    arches: "x86_64",
    base_module_br_name: null,
    base_module_br_stream: null,
    base_module_br_stream_version_gte: null,
    base_module_br_stream_version_lte: null,
    builds: null,
    compose_type: "test",
    flags: [],
    id,
    koji_event: null,
    koji_task_id: null,
    label: null,
    lookaside_repos: "",
    modular_koji_tags: null,
    module_defaults_url: null,
    modules: null,
    multilib_arches: "",
    multilib_method: 0,
    owner: "unknown",
    packages: null,
    parent_pungi_compose_ids: null,
    pungi_compose_id: null,
    removed_by: null,
    respin_of: null,
    result_repo: `${base}/odcs-${id}/compose/Temporary`,
    result_repofile: `${base}/odcs-${id}/compose/Temporary/odcs-${id}.repo`,
    results: ["repository"],
    scratch_build_tasks: null,
    scratch_modules: null,
    sigkeys: "",
    source: "/srv/repos/a",
    source_type: 3,
    state: 0,
    state_name: "wait",
    state_reason: null,
    target_dir: "default",
    time_done: null,
    time_removed: null,
    time_started: null,
    time_submitted: "2026-11-21T08:00:00Z",
    time_to_expire: "2026-11-22T08:00:00Z",
    toplevel_url: `${base}/odcs-${id}`,
    ...overrides,
  };
}

/** The ODCS error body (§1.2). */
export function odcsError(status: number, message: string) {
  const error: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    503: "Service Unavailable",
  };
  return { error: error[status], message, status };
}
