import { z } from "@hono/zod-openapi";
import { ORDER_KEYS } from "../db/composes.ts";
import {
  COMPOSE_STATES,
  FLAGS,
  MULTILIB_METHODS,
  RESULTS,
  SOURCE_TYPES,
  STATE_NAMES,
} from "../domain/states.ts";
import { WAIT_DEFAULT_SECONDS, WAIT_MAX_SECONDS } from "./compose-waits.ts";

const time = z
  .string()
  .nullable()
  .openapi({ example: "2026-11-21T05:24:58Z", description: "UTC, second precision" });
const joined = (d: string) =>
  z
    .string()
    .nullable()
    .openapi({ description: `${d}, space-separated` });

/** Integer codes as an OpenAPI enum, with their names in the description. */
const codes = (table: Record<string, number>) => {
  const values = Object.values(table) as [number, ...number[]];
  const names = Object.entries(table).map(([n, v]) => `${v} ${n}`);
  return z
    .number()
    .int()
    .openapi({ enum: values, description: names.join(", ") });
};

export const ComposeStateName = z.enum(STATE_NAMES).openapi("ComposeStateName", {
  description: "wait → generating → done | failed; done/failed → removed",
});
/** `no_flags` is accepted in requests but never listed in a compose (§2.3). */
export const FlagName = z
  .enum(Object.keys(FLAGS).filter((f) => f !== "no_flags") as [string, ...string[]])
  .openapi("FlagName");
export const ResultName = z
  .enum(Object.keys(RESULTS) as [string, ...string[]])
  .openapi("ResultName");

/** §3.2, as this server answers a fresh `repo` compose. */
const COMPOSE_EXAMPLE = {
  arches: "x86_64",
  base_module_br_name: null,
  base_module_br_stream: null,
  base_module_br_stream_version_gte: null,
  base_module_br_stream_version_lte: null,
  builds: null,
  compose_type: "test",
  flags: [],
  id: 42,
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
  packages: "wget",
  parent_pungi_compose_ids: null,
  pungi_compose_id: null,
  removed_by: null,
  respin_of: null,
  result_repo: "http://localhost:5000/composes/odcs-42/compose/Temporary",
  result_repofile: "http://localhost:5000/composes/odcs-42/compose/Temporary/odcs-42.repo",
  results: ["repository"],
  scratch_build_tasks: null,
  scratch_modules: null,
  sigkeys: "",
  source: "/srv/repos/fedora",
  source_type: 3,
  state: 0,
  state_name: "wait",
  state_reason: null,
  target_dir: "default",
  time_done: null,
  time_removed: null,
  time_started: null,
  time_submitted: "2026-11-21T05:24:58Z",
  time_to_expire: "2026-11-22T05:24:58Z",
  toplevel_url: "http://localhost:5000/composes/odcs-42",
};

export const ComposeSchema = z
  .object({
    id: z.number().int().openapi({ example: 42 }),
    owner: z.string().openapi({ example: "unknown" }),
    source_type: codes(SOURCE_TYPES),
    source: z.string(),
    state: codes(COMPOSE_STATES),
    state_name: ComposeStateName,
    state_reason: z.string().nullable(),
    time_submitted: time,
    time_to_expire: time,
    time_started: time,
    time_done: time,
    time_removed: time,
    removed_by: z.string().nullable(),
    toplevel_url: z.string(),
    result_repo: z.string(),
    result_repofile: z.string(),
    flags: z.array(FlagName),
    results: z.array(ResultName),
    sigkeys: z.string(),
    koji_event: z.number().int().nullable(),
    koji_task_id: z.number().int().nullable(),
    packages: joined("Requested package names"),
    builds: joined("Koji build NVRs"),
    arches: z.string(),
    multilib_arches: z.string(),
    multilib_method: z
      .number()
      .int()
      .min(0)
      .max(MULTILIB_METHODS.runtime | MULTILIB_METHODS.devel | MULTILIB_METHODS.all)
      .openapi({ description: "bitmask: 0 none, 1 runtime, 2 devel, 4 all" }),
    lookaside_repos: z.string().nullable(),
    modular_koji_tags: z.string().nullable(),
    module_defaults_url: z.string().nullable(),
    label: z.string().nullable(),
    compose_type: z.string().nullable(),
    pungi_compose_id: z.string().nullable(),
    target_dir: z.string(),
    scratch_modules: z.string().nullable(),
    parent_pungi_compose_ids: z.string().nullable(),
    scratch_build_tasks: z.string().nullable(),
    modules: z.string().nullable(),
    respin_of: z.string().nullable(),
    base_module_br_name: z.string().nullable(),
    base_module_br_stream: z.string().nullable(),
    base_module_br_stream_version_lte: z.number().int().nullable(),
    base_module_br_stream_version_gte: z.number().int().nullable(),
  })
  .openapi("Compose", { example: COMPOSE_EXAMPLE });

export const ComposeDetailSchema = ComposeSchema.extend({
  pungi_config_dump: z.string().nullable(),
}).openapi("ComposeDetail", { example: { ...COMPOSE_EXAMPLE, pungi_config_dump: null } });

export const ErrorSchema = z
  .object({
    status: z.number().int().openapi({ example: 404 }),
    error: z.string().openapi({ example: "Not Found" }),
    message: z.string().openapi({ example: "No such compose found." }),
  })
  .openapi("Error");

export const AcceptedSchema = z
  .object({
    status: z.literal(202),
    message: z.string().openapi({ example: "Compose (id=42) has been canceled" }),
  })
  .openapi("Accepted");

const link = z.string().nullable();
export const ComposeListSchema = z
  .object({
    items: z.array(ComposeSchema),
    meta: z
      .object({
        page: z.number().int(),
        pages: z.number().int(),
        per_page: z.number().int(),
        total: z.number().int(),
        first: z.string(),
        last: z.string(),
        prev: link,
        next: link,
      })
      .openapi("ComposeListMeta", {
        example: {
          page: 1,
          pages: 1,
          per_page: 10,
          total: 1,
          first: "http://localhost:5000/api/1/composes/?page=1&per_page=10",
          last: "http://localhost:5000/api/1/composes/?page=1&per_page=10",
          prev: null,
          next: null,
        },
      }),
  })
  .openapi("ComposeList");

/**
 * The id as the URL carries it (a path parameter is text; leading zeros
 * allowed, §1.1), documented as the integer it is, so generated clients take
 * a number.
 */
export const ComposeIdParam = z.object({
  id: z
    .string()
    .regex(/^\d{1,18}$/)
    .openapi({
      param: { name: "id", in: "path" },
      type: "integer",
      format: "int64",
      minimum: 1,
      example: 42,
    }),
});

/**
 * A query parameter; a repeated one arrives as a list and its first value
 * counts (§5.1), so both shapes are valid here.
 */
const queryParam = (description?: string) => {
  const p = z.preprocess((v) => (Array.isArray(v) ? v[0] : v), z.string().optional());
  return description === undefined ? p : p.openapi({ description });
};

export const ListQuery = z.object({
  owner: queryParam(),
  source_type: queryParam("Numeric code or name"),
  source: queryParam("The whole space-separated source string"),
  state: queryParam("Numeric code or name"),
  koji_task_id: queryParam(),
  pungi_compose_id: queryParam(),
  compose_type: queryParam(),
  label: queryParam(),
  order_by: queryParam(`One of ${ORDER_KEYS.join(", ")}; "-" prefix for descending (default -id)`),
  page: queryParam("1-based page number (default 1)"),
  per_page: queryParam("Page size (default 10, at most 1000; 0 or less means 20)"),
});

const STATE_LIST = new RegExp(`^(${STATE_NAMES.join("|")})(,(${STATE_NAMES.join("|")}))*$`);

/** Query of GET /api/1/composes/{id}/wait; limits in api/compose-waits.ts. */
export const WaitQuery = z.object({
  state: z
    .preprocess(
      (v) => (Array.isArray(v) ? v[0] : v),
      z
        .string()
        .regex(STATE_LIST, `must be a comma-separated list of ${STATE_NAMES.join(", ")}`)
        .optional(),
    )
    .openapi({
      description:
        "States to wait for, comma-separated (default done,failed,removed). The wait also ends when the compose can no longer reach any of them (waiting for done, it failed).",
      example: "done",
    }),
  timeout: z
    .preprocess(
      (v) => (Array.isArray(v) ? v[0] : v),
      z
        .string()
        .regex(/^\d{1,9}(\.\d{1,3})?$/, "must be a number of seconds")
        .refine((v) => Number(v) <= WAIT_MAX_SECONDS, `must be at most ${WAIT_MAX_SECONDS} seconds`)
        .optional(),
    )
    .openapi({
      description: `Seconds to wait at most, 0 to ${WAIT_MAX_SECONDS} (default ${WAIT_DEFAULT_SECONDS}); the compose is returned as it is then`,
      example: "30",
    }),
});

export const AboutSchema = z
  .object({
    version: z.string(),
    auth_backend: z.string(),
    allowed_clients: z.object({
      groups: z.record(z.string(), z.record(z.string(), z.array(z.string()))),
      users: z.record(z.string(), z.record(z.string(), z.array(z.string()))),
    }),
    raw_config_urls: z.record(z.string(), z.unknown()),
    sigkeys: z.array(z.string()),
  })
  .openapi("About");
