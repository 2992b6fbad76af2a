/**
 * The request bodies, each described once: these zod schemas validate the
 * body (with ODCS's messages, from each check's `error`), are the OpenAPI
 * components `CreateComposeBody` / `RenewComposeBody`, type the parsed
 * request, and tell the generic §7.3 check (`validate.ts`) which keys
 * upstream type-checks. Plain zod (no Node, no Hono): descriptions go
 * through `.meta()`, which the OpenAPI generator reads.
 */
import { z } from "zod";
import { ARCH_RE } from "./names.ts";
import { isSupportedSourceType, SUPPORTED_SOURCE_TYPES } from "./sources/index.ts";
import { moduleIdsError } from "./sources/module.ts";
import { FLAGS, MULTILIB_METHODS, RESULTS, SOURCE_TYPE_NAMES, SOURCE_TYPES } from "./states.ts";

/** Upper bounds that keep a single row and its work sane. */
export const MAX_LIST_ITEMS = 10_000;
export const MAX_STRING_LENGTH = 4096;

/**
 * ODCS's generic type check of a key (§7.3: "<key> should be a list" …),
 * which upstream applies to these names wherever they appear. Only the keys
 * upstream checks carry one, so a body upstream accepts at that step is
 * accepted here too and the first bad value in document order decides.
 */
export type OdcsKind = "list" | "string" | "int";
export const odcsKinds = z.registry<{ kind: OdcsKind }>();

type Field = (key: string) => z.ZodType;
type Fields<D extends Record<string, Field>> = { [K in keyof D]: z.ZodOptional<ReturnType<D[K]>> };

/** Optional fields, each schema made from its key so that messages name it. */
function fields<D extends Record<string, Field>>(defs: D): Fields<D> {
  return Object.fromEntries(
    Object.entries(defs).map(([key, make]) => [key, make(key).optional()]),
  ) as Fields<D>;
}

/** Marks a field as one upstream's §7.3 type-checks. */
function odcs<F extends Field>(kind: OdcsKind, make: F): F {
  return ((key: string) => {
    const schema = make(key);
    odcsKinds.add(schema, { kind });
    return schema;
  }) as F;
}

const described = <T extends z.ZodType>(schema: T, description?: string) =>
  description === undefined ? schema : schema.meta({ description });

const text = (description?: string) => (key: string) =>
  described(
    z
      .string({ error: `${key} should be a string` })
      .max(MAX_STRING_LENGTH, `${key} is longer than ${MAX_STRING_LENGTH} characters`),
    description,
  );

const item = (key: string) =>
  z
    .string({ error: `${key} should be a list of strings` })
    .max(MAX_STRING_LENGTH, `${key} has an item longer than ${MAX_STRING_LENGTH} characters`);

const list =
  <I extends z.ZodType>(of: (key: string) => I, description?: string) =>
  (key: string) =>
    described(
      z
        .array(of(key), { error: `${key} should be a list` })
        .max(MAX_LIST_ITEMS, `${key} has more than ${MAX_LIST_ITEMS} items`),
      description,
    );

const names = (t: Record<string, number>) => Object.keys(t) as [string, ...string[]];

/** A name from `table`; anything else gets `message(input)`. */
const oneOf = (table: Record<string, number>, message: (input: string) => string) => () =>
  z.enum(names(table), { error: (iss) => message(String(iss.input)) });

const int = (description?: string) => (key: string) =>
  described(
    z
      .int({ error: `${key} should be an integer` })
      .min(0, `${key} must be at least 0`)
      .max(Number.MAX_SAFE_INTEGER, `${key} should be an integer`),
    description,
  );

const arch = (key: string) =>
  item(key).regex(ARCH_RE, { error: (iss) => `Invalid arch "${String(iss.input)}"` });

/** ODCS exempts package names from its character check; whitespace and control characters still make no name. */
const packageName = (key: string) =>
  item(key).refine((v) => !/[\s\p{Cc}]/u.test(v), {
    error: (iss) =>
      `Invalid package name ${JSON.stringify(iss.input)}: whitespace and control characters are not allowed`,
  });

/** 8 or 16 hex digits, or "" (unsigned allowed): POST and PATCH alike. */
const sigkey = (key: string) =>
  item(key).regex(/^([0-9A-Fa-f]{8}([0-9A-Fa-f]{8})?)?$/, {
    error: (iss) => `Invalid sigkey "${String(iss.input)}": expected 8 or 16 hex digits`,
  });

const unknownField = (where: string) => (iss: { code?: string; keys?: string[] }) =>
  iss.code === "unrecognized_keys" ? `Unknown field "${iss.keys?.[0] ?? ""}"${where}` : undefined;

/** `source.source` split as ODCS does: on single spaces, first-seen order, empty items kept. */
export function sourceItems(source: string | undefined): string[] {
  return source === undefined || source === "" ? [] : [...new Set(source.split(" "))];
}

export const ComposeSource = z
  .strictObject(
    {
      type: odcs("string", (key: string) =>
        z
          .enum(SOURCE_TYPE_NAMES as [string, ...string[]], {
            error: (iss) =>
              typeof iss.input === "string"
                ? `Unknown source type "${iss.input}"`
                : `${key} should be a string`,
          })
          .meta({
            id: "SourceTypeName",
            description: `Generated by this server: ${SUPPORTED_SOURCE_TYPES.join(", ")}; the other ODCS types are refused`,
          }),
      )("type"),
      ...fields({
        source: text(
          "repo: space-separated absolute paths under an allowed root, or http(s) URLs under an allowed prefix",
        ),
        packages: odcs("list", list(packageName, "RPM names, name.arch, globs or provides")),
        builds: odcs("list", list(item, "Koji build NVRs")),
        sigkeys: odcs("list", list(sigkey, 'Ordered preference; "" allows unsigned')),
        koji_event: odcs("int", int()),
        modular_koji_tags: list(item),
        module_defaults_url: text(),
        module_defaults_commit: text(),
        scratch_modules: odcs("list", list(item)),
        scratch_build_tasks: odcs("list", list(item)),
        modules: odcs("list", list(item)),
        base_module_br_name: odcs("string", text()),
        base_module_br_stream: odcs("string", text()),
        base_module_br_stream_version_lte: odcs("int", int()),
        base_module_br_stream_version_gte: odcs("int", int()),
      }),
    },
    { error: unknownField(" in source") },
  )
  // ODCS's order (§7.1 steps 11, 12, 16), then ours: a type this server
  // cannot generate is refused before anything is stored.
  .superRefine((src, ctx) => {
    const type = src.type as keyof typeof SOURCE_TYPES;
    const scratch = (src.scratch_modules?.length ?? 0) > 0;
    if (sourceItems(src.source).length === 0 && type !== "build" && !(type === "module" && scratch))
      ctx.addIssue({ code: "custom", message: `No source provided for ${SOURCE_TYPES[type]}` });
    else if (type === "module" && moduleIdsError(sourceItems(src.source)) !== null)
      ctx.addIssue({ code: "custom", message: moduleIdsError(sourceItems(src.source)) ?? "" });
    else if (!isSupportedSourceType(type))
      ctx.addIssue({
        code: "custom",
        message: `Source type "${type}" is not supported by this server yet; supported: ${SUPPORTED_SOURCE_TYPES.join(", ")}`,
      });
    else if (Boolean(src.module_defaults_url) !== Boolean(src.module_defaults_commit))
      ctx.addIssue({
        code: "custom",
        message: 'The "module_defaults_url" and "module_defaults_commit" must be used together.',
      });
  })
  .meta({ id: "ComposeSource" });

/**
 * A JSON integer past 2^53 (2^63, 1e20) is still an integer to upstream,
 * which clamps it to the maximum lifetime; JSON.parse gives it as an
 * unsafe double, which z.int() refuses with zod's own words. Pinned to
 * the largest safe integer, it is clamped the same way.
 */
const unsafeIntToSafe = (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v)
    ? Math.sign(v) * Number.MAX_SAFE_INTEGER
    : v;
const secondsToLive = (description: string) => (key: string) =>
  z
    .preprocess(
      unsafeIntToSafe,
      z.union([z.int(), z.boolean()], { error: `${key} should be an integer` }),
    )
    .meta({ description });
const SECONDS_TO_LIVE =
  "Lifetime in seconds after the compose is done; absent, 0 or false: the server's default; above the server's maximum: the maximum; negative: refused";
const legacySecondsToLive = () =>
  z
    .union([z.number(), z.string(), z.boolean()])
    .meta({ description: "Legacy alias of seconds_to_live (read only when it is absent)" });

/** Why a result name ODCS knows is refused here. */
const UNSUPPORTED_RESULTS: Record<string, string> = {
  ostree: 'The "ostree" result is not supported by this server',
  "boot.iso":
    'The "boot.iso" result is not supported by this server: an installable boot.iso needs lorax, which this platform lacks; "iso" gives a non-installable ISO of the compose\'s packages',
};

export const CreateComposeBody = z
  .strictObject(
    {
      source: ComposeSource,
      ...fields({
        seconds_to_live: odcs("int", secondsToLive(SECONDS_TO_LIVE)),
        "seconds-to-live": legacySecondsToLive,
        flags: list(oneOf(FLAGS, (n) => `Unknown flag ${n}`)),
        results: (key: string) =>
          list(
            oneOf(RESULTS, (n) => `Unknown result ${n}`),
            'ODCS\'s result names; this server makes "repository" (always) and "iso"',
          )(key).superRefine((r, ctx) => {
            const refused = r.find((n) => n !== "repository" && n !== "iso");
            if (refused) ctx.addIssue({ code: "custom", message: UNSUPPORTED_RESULTS[refused] });
          }),
        multilib_method: odcs(
          "list",
          list(oneOf(MULTILIB_METHODS, (n) => `Unknown multilib method "${n}"`)),
        ),
        target_dir: odcs("string", (key: string) =>
          text('"default" (or "") only')(key).refine((d) => d === "" || d === "default", {
            error: (iss) => `Unknown "target_dir" "${String(iss.input)}"`,
          }),
        ),
        arches: list(arch, "Absent or []: the server's default arches"),
        multilib_arches: list(arch),
        lookaside_repos: list(item, "Repositories to satisfy dependencies from, never taken"),
        label: odcs("string", text()),
        compose_type: odcs("string", text('Default "test"')),
        parent_pungi_compose_ids: list(item),
        respin_of: (key: string) =>
          z.union([text()(key), z.number()], { error: `${key} should be a string` }),
      }),
    },
    { error: unknownField("") },
  )
  .meta({ id: "CreateComposeBody" });
export type CreateComposeBody = z.infer<typeof CreateComposeBody>;

export const RenewComposeBody = z
  .strictObject(
    {
      ...fields({
        seconds_to_live: odcs(
          "int",
          secondsToLive(
            "New lifetime from now; never shortens a done compose's (absent or 0: the server's default; above the maximum: the maximum)",
          ),
        ),
        "seconds-to-live": legacySecondsToLive,
        sigkeys: odcs(
          "list",
          list(sigkey, "Replaces the sigkeys: a different list regenerates the compose"),
        ),
        source: () =>
          z.strictObject(
            fields({
              modules: odcs("list", list(item)),
              builds: odcs("list", list(item)),
            }),
            {
              error: (iss) =>
                iss.code === "unrecognized_keys"
                  ? `Unknown field "${iss.keys[0] ?? ""}" in source`
                  : "source should be an object",
            },
          ),
      }),
    },
    { error: unknownField("") },
  )
  .meta({ id: "RenewComposeBody" });
export type RenewComposeBody = z.infer<typeof RenewComposeBody>;

/**
 * The client's message for a failed parse: the first issue's, which each
 * check above sets (schema order is ODCS's check order where it has one).
 */
export function firstIssueMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid request body";
  return issue.message;
}
