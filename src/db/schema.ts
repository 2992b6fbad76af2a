import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/** Job kinds and states; shared by the queue and the worker handlers. */
export const JOB_KINDS = ["generate"] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const JOB_STATES = ["queued", "running", "done", "failed"] as const;
export type JobState = (typeof JOB_STATES)[number];

/**
 * One row per compose with the ODCS fields; integer codes and bitmasks are
 * ODCS's. Times are epoch milliseconds.
 */
export const composes = sqliteTable(
  "composes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    owner: text("owner").notNull(),
    sourceType: integer("source_type").notNull(),
    source: text("source").notNull(),
    state: integer("state").notNull(),
    stateReason: text("state_reason"),
    timeSubmitted: integer("time_submitted").notNull(),
    timeToExpire: integer("time_to_expire").notNull(),
    timeStarted: integer("time_started"),
    timeDone: integer("time_done"),
    timeRemoved: integer("time_removed"),
    removedBy: text("removed_by"),
    kojiEvent: integer("koji_event"),
    kojiTaskId: integer("koji_task_id"),
    packages: text("packages"),
    builds: text("builds"),
    sigkeys: text("sigkeys").notNull().default(""),
    arches: text("arches").notNull(),
    multilibArches: text("multilib_arches").notNull().default(""),
    multilibMethod: integer("multilib_method").notNull().default(0),
    lookasideRepos: text("lookaside_repos"),
    modularKojiTags: text("modular_koji_tags"),
    moduleDefaultsUrl: text("module_defaults_url"),
    label: text("label"),
    composeType: text("compose_type"),
    pungiComposeId: text("pungi_compose_id"),
    /** Name of the target dir: "default" or a configured extra dir. */
    targetDir: text("target_dir").notNull().default("default"),
    scratchModules: text("scratch_modules"),
    parentPungiComposeIds: text("parent_pungi_compose_ids"),
    scratchBuildTasks: text("scratch_build_tasks"),
    modules: text("modules"),
    respinOf: text("respin_of"),
    baseModuleBrName: text("base_module_br_name"),
    baseModuleBrStream: text("base_module_br_stream"),
    baseModuleBrStreamVersionLte: integer("base_module_br_stream_version_lte"),
    baseModuleBrStreamVersionGte: integer("base_module_br_stream_version_gte"),
    pungiConfigDump: text("pungi_config_dump"),
    flags: integer("flags").notNull().default(0),
    results: integer("results").notNull().default(1),
    reusedId: integer("reused_id"),
    /**
     * The compose's inputs as its source pinned them (`Source.resolve`, as
     * canonical JSON: repomd checksums, a Koji event …); a later request
     * compares them to reuse it (domain/reuse.ts).
     */
    sourcePins: text("source_pins"),
    /** Id of the compose this one regenerates (renewal of a removed/failed compose). */
    regenerateOf: integer("regenerate_of"),
    /**
     * The tree served at `odcs-<id>`: `.published/odcs-<id>/<this>`, which
     * the `odcs-<id>` symlink points at. Written once, by the fenced commit
     * that settles the compose (worker/published.ts), so a worker that lost
     * its lease never chooses the served tree.
     */
    publishedAttempt: text("published_attempt"),
  },
  (t) => [
    // The expiry sweep scans done/failed composes by expiry time.
    index("composes_state_expire_idx").on(t.state, t.timeToExpire),
    index("composes_owner_idx").on(t.owner),
    // Reuse looks for candidates of one source type and source; the sweep for reusers of a compose.
    index("composes_reuse_idx").on(t.sourceType, t.source),
    index("composes_reused_id_idx").on(t.reusedId),
    // Stranded reusers (worker poll, sweep): generating composes that reuse
    // another, without reading every generating compose.
    index("composes_state_reused_id_idx").on(t.state, t.reusedId),
    // The list endpoint (§5): one index per filter and per order key, each
    // ending in the rowid, so `WHERE f = ? ORDER BY id` and `ORDER BY k, id`
    // read LIMIT rows off an index instead of sorting the table (checked by
    // test/db/list-plans.test.ts). Filter-only columns that are mostly NULL
    // get partial indexes: `col = ?` implies `col IS NOT NULL`.
    index("composes_state_idx").on(t.state),
    // The two-column shapes pollers use; without them the planner (no
    // ANALYZE statistics) walks all of one state's rows for one owner.
    index("composes_owner_state_idx").on(t.owner, t.state),
    index("composes_state_source_type_idx").on(t.state, t.sourceType),
    // A state filter with any other order: states are few and big (most
    // rows are removed) and follow time, so sorting one state's rows or
    // walking an order index past the others costs seconds at a million
    // rows. With these (and composes_state_expire_idx above) every
    // `state = ? ORDER BY k, id` reads its page off one index.
    index("composes_state_owner_idx").on(t.state, t.owner),
    index("composes_state_koji_event_idx").on(t.state, t.kojiEvent),
    index("composes_state_time_submitted_idx").on(t.state, t.timeSubmitted),
    index("composes_state_time_done_idx").on(t.state, t.timeDone),
    index("composes_state_time_removed_idx").on(t.state, t.timeRemoved),
    index("composes_source_type_idx").on(t.sourceType),
    index("composes_source_idx").on(t.source),
    index("composes_label_idx").on(t.label).where(sql`label IS NOT NULL`),
    index("composes_koji_task_id_idx").on(t.kojiTaskId).where(sql`koji_task_id IS NOT NULL`),
    index("composes_pungi_compose_id_idx")
      .on(t.pungiComposeId)
      .where(sql`pungi_compose_id IS NOT NULL`),
    index("composes_compose_type_idx").on(t.composeType).where(sql`compose_type IS NOT NULL`),
    index("composes_koji_event_idx").on(t.kojiEvent),
    index("composes_time_to_expire_idx").on(t.timeToExpire),
    index("composes_time_submitted_idx").on(t.timeSubmitted),
    index("composes_time_done_idx").on(t.timeDone),
    index("composes_time_removed_idx").on(t.timeRemoved),
  ],
);

/**
 * Row counts of `composes` per shape, so a list answers `meta.total`
 * without counting: kind `all` (key ''), `state`, `owner`, `source_type`
 * (key the code or name as text). Maintained only by triggers on
 * `composes` (migrations/0004_compose_counts_triggers.sql), so every
 * write, whatever code makes it, updates them in its own transaction.
 */
export const composeCounts = sqliteTable(
  "compose_counts",
  {
    kind: text("kind").notNull(),
    key: text("key").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.key] })],
);

/** The exact package set of a done compose: what makes regeneration honest. */
export const composeRpms = sqliteTable(
  "compose_rpms",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    composeId: integer("compose_id")
      .notNull()
      .references(() => composes.id),
    /** Tree arch the package was placed in (x86_64 …). */
    treeArch: text("tree_arch").notNull(),
    name: text("name").notNull(),
    epoch: text("epoch").notNull(),
    version: text("version").notNull(),
    release: text("release").notNull(),
    arch: text("arch").notNull(),
    sigkey: text("sigkey"),
    checksumType: text("checksum_type").notNull(),
    checksum: text("checksum").notNull(),
    /** Where the file came from: the source repo root plus its location href. */
    sourceRepo: text("source_repo").notNull(),
    location: text("location").notNull(),
    /** Path of the file inside the compose's repo dir (Packages/b/bash-….rpm). */
    path: text("path").notNull(),
  },
  (t) => [index("compose_rpms_compose_idx").on(t.composeId)],
);

/** The work queue. See worker/ and sweep/ for the claim/lease protocol. */
export const jobs = sqliteTable(
  "jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    composeId: integer("compose_id")
      .notNull()
      .references(() => composes.id),
    kind: text("kind", { enum: JOB_KINDS }).notNull(),
    state: text("state", { enum: JOB_STATES }).notNull(),
    runAt: integer("run_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    lockedBy: text("locked_by"),
    leaseUntil: integer("lease_until"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // Claim scans queued jobs by run_at.
    index("jobs_claim_idx").on(t.state, t.runAt),
    // Retention prunes done/failed jobs by age (sweep/prune-jobs.ts).
    index("jobs_finished_idx").on(t.state, t.updatedAt),
    // Requeue scans running jobs by lease expiry.
    index("jobs_lease_idx").on(t.state, t.leaseUntil),
    // Enqueue is idempotent: at most one queued job per kind and compose.
    uniqueIndex("jobs_one_queued_idx").on(t.kind, t.composeId).where(sql`state = 'queued'`),
  ],
);

/** Append-only log of compose state changes; consumers keep a cursor on `id`. */
export const events = sqliteTable(
  "events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    composeId: integer("compose_id")
      .notNull()
      .references(() => composes.id),
    fromState: integer("from_state"),
    toState: integer("to_state").notNull(),
    stateReason: text("state_reason"),
    at: integer("at").notNull(),
  },
  (t) => [
    index("events_compose_idx").on(t.composeId),
    // Retention pruning deletes by age.
    index("events_at_idx").on(t.at),
  ],
);

/**
 * Durable event consumers (the AMQP publisher, each webhook): the id of the
 * last event delivered and confirmed, and a lease so that of several server
 * processes on one database only one delivers a consumer's events at a time.
 * A failed delivery sets `retry_at` (backoff) and `attempts`; the cursor only
 * moves after a confirmed delivery.
 */
export const eventConsumers = sqliteTable("event_consumers", {
  name: text("name").primaryKey(),
  cursor: integer("cursor").notNull(),
  leaseOwner: text("lease_owner"),
  leaseUntil: integer("lease_until"),
  attempts: integer("attempts").notNull().default(0),
  retryAt: integer("retry_at").notNull().default(0),
  lastError: text("last_error"),
  /** When the consumer last delivered (or skipped) an event. */
  deliveredAt: integer("delivered_at"),
  updatedAt: integer("updated_at").notNull(),
});

export type ComposeRow = typeof composes.$inferSelect;
export type NewComposeRow = typeof composes.$inferInsert;
export type JobRow = typeof jobs.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type EventConsumerRow = typeof eventConsumers.$inferSelect;
export type ComposeRpmRow = typeof composeRpms.$inferSelect;
export type NewComposeRpmRow = typeof composeRpms.$inferInsert;

export const UPLOAD_STATES = ["ready", "removed"] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

/**
 * RPMs sent to POST /api/1/uploads/ (the `upload` source). The files live
 * in `ODCS_UPLOAD_DIR/<id>/`; `files` is their JSON list (name, NEVRA,
 * size, sha256, sigkey) as validated on arrival.
 */
export const uploads = sqliteTable(
  "uploads",
  {
    id: text("id").primaryKey(),
    owner: text("owner").notNull(),
    state: text("state", { enum: UPLOAD_STATES }).notNull(),
    /** Sum of the file sizes: what counts against ODCS_UPLOAD_QUOTA_MB. */
    bytes: integer("bytes").notNull(),
    files: text("files").notNull(),
    timeCreated: integer("time_created").notNull(),
    timeToExpire: integer("time_to_expire").notNull(),
    timeRemoved: integer("time_removed"),
    removedBy: text("removed_by"),
  },
  (t) => [
    // The quota sums an owner's ready uploads.
    index("uploads_owner_state_idx").on(t.owner, t.state),
    // The sweep scans ready uploads by expiry time.
    index("uploads_state_expire_idx").on(t.state, t.timeToExpire),
  ],
);
export type UploadRow = typeof uploads.$inferSelect;
