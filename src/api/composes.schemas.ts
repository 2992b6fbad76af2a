import { z } from "@hono/zod-openapi";
import { ORDER_KEYS } from "../db/composes.ts";
import { STATE_NAMES } from "../domain/states.ts";
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

export const ComposeSchema = z
  .object({
    id: z.number().int().openapi({ example: 42 }),
    owner: z.string().openapi({ example: "unknown" }),
    source_type: z.number().int().openapi({
      description: "1 tag, 2 module, 3 repo, 4 pulp, 5 raw_config, 6 build, 7 pungi_compose",
    }),
    source: z.string(),
    state: z
      .number()
      .int()
      .openapi({ description: "0 wait, 1 generating, 2 done, 3 removed, 4 failed" }),
    state_name: z.enum(STATE_NAMES as [string, ...string[]]),
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
    flags: z.array(z.string()),
    results: z.array(z.string()),
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
      .openapi({ description: "bitmask: 1 runtime, 2 devel, 4 all" }),
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
  .openapi("Compose");

export const ComposeDetailSchema = ComposeSchema.extend({
  pungi_config_dump: z.string().nullable(),
}).openapi("ComposeDetail");

export const ErrorSchema = z
  .object({
    status: z.number().int().openapi({ example: 404 }),
    error: z.string().openapi({ example: "Not Found" }),
    message: z.string().openapi({ example: "No such compose found." }),
  })
  .openapi("Error");

export const AcceptedSchema = z
  .object({ status: z.literal(202), message: z.string() })
  .openapi("Accepted");

const link = z.string().nullable();
export const ComposeListSchema = z
  .object({
    items: z.array(ComposeSchema),
    meta: z.object({
      page: z.number().int(),
      pages: z.number().int(),
      per_page: z.number().int(),
      total: z.number().int(),
      first: z.string(),
      last: z.string(),
      prev: link,
      next: link,
    }),
  })
  .openapi("ComposeList");

export const ComposeIdParam = z.object({
  id: z
    .string()
    .regex(/^\d{1,18}$/)
    .openapi({ param: { name: "id", in: "path" }, example: "42" }),
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
