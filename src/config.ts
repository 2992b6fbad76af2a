import { z } from "zod";
import { isUrlUnderPrefix } from "./domain/allowed-location.ts";
import { ARCH_RE } from "./domain/names.ts";
import { SOURCE_TYPE_NAMES, STATE_NAMES } from "./domain/states.ts";

/**
 * Every setting of the service. `loadConfig(env, file)` is pure: entry points
 * read the environment and the optional config file and pass them in.
 */

const csv = z.preprocess(
  (v) =>
    typeof v === "string"
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : v,
  z.array(z.string().min(1)),
);

/**
 * An ODCS `allowed_*` permission list: comma-separated in the environment,
 * a JSON array in the config file. `*` (or `[""]`) means "anything", as
 * ODCS's `[""]` does (§14.4).
 */
const permissionList = z.preprocess(
  (v) => (typeof v === "string" && v.trim() === "*" ? [""] : v),
  z.union([z.tuple([z.literal("")]), csv]),
);

const intFrom = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v),
    z.number().int().min(min).max(max),
  );

const boolFrom = z.preprocess(
  (v) => (typeof v === "string" ? ["1", "true", "yes", "on"].includes(v.toLowerCase()) : v),
  z.boolean(),
);

const jsonFrom = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch {
      return Symbol.for("invalid-json");
    }
  }, schema);

/** ODCS per-user/per-group permission entry: attribute name → allowed values. */
export const PermissionEntrySchema = z.record(z.string(), z.array(z.string()));
export const AllowedClientsSchema = z
  .object({
    users: z.record(z.string(), PermissionEntrySchema).default({}),
    groups: z.record(z.string(), PermissionEntrySchema).default({}),
  })
  .strict();
export const AdminsSchema = z
  .object({
    users: z.array(z.string()).default([]),
    groups: z.array(z.string()).default([]),
  })
  .strict();

const ARCH_GLOBS_FORMAT = '{"<tree arch or *>": ["<package name glob>", …]}';

/**
 * Package name globs per tree arch, `"*"` for every arch (Pungi
 * `multilib_blacklist` / `multilib_whitelist`): a JSON object in the
 * environment, an object in the config file.
 */
const multilibGlobs = jsonFrom(
  z
    .record(
      z.string(),
      z.array(z.string().regex(/^\S+$/, "a package name glob must be non-empty, without spaces"), {
        error: "expected a list of package name globs",
      }),
      {
        error: (i) => {
          if (i.code !== "invalid_type") return undefined;
          return i.input === Symbol.for("invalid-json")
            ? `not valid JSON; expected ${ARCH_GLOBS_FORMAT}`
            : `expected a JSON object ${ARCH_GLOBS_FORMAT}`;
        },
      },
    )
    .superRefine((byArch, ctx) => {
      for (const arch of Object.keys(byArch)) {
        if (arch !== "*" && !ARCH_RE.test(arch))
          ctx.addIssue({
            code: "custom",
            message: `${JSON.stringify(arch)} is not a tree arch or "*"`,
          });
      }
    }),
);

/**
 * How the processes start, stop and sit behind a proxy (kept apart so other
 * groups of settings merge without touching these lines).
 */
const processSettings = {
  /** Grace of a SIGTERM: running composes, in-flight requests and waits finish within it. */
  ODCS_WORKER_GRACE_MS: intFrom(0, 3_600_000).default(30_000),
  /** Worker id in leases and compose logs; default `<hostname>:<pid>`. */
  ODCS_WORKER_ID: z.string().min(1).optional(),
  /** Honour X-Forwarded-Host, X-Scheme/X-Forwarded-Proto and X-Script-Name (set by a proxy in front). */
  ODCS_TRUST_PROXY: boolFrom.default(false),
};

/** Limits on what one request or one owner may put on the service (kept apart to merge easily). */
const floodSettings = {
  /** Waiting composes an owner may have; more are refused with 429. Unset: unlimited. */
  ODCS_MAX_QUEUED_PER_OWNER: intFrom(1, 10_000_000).optional(),
  /** Largest request body; larger ones are refused with 413 before being read whole. */
  ODCS_MAX_BODY_BYTES: intFrom(1024, 1024 ** 3).default(1024 * 1024),
  /** A request body (JSON, form, upload) that sends no byte for this long is answered 408. */
  ODCS_BODY_IDLE_SECONDS: intFrom(1, 3600).default(60),
  /** A request whose line and headers have not all arrived this long after its first byte gets a 408 and its connection closed. */
  ODCS_HEADERS_TIMEOUT_SECONDS: intFrom(1, 3600).default(60),
};

/** Uploads (POST /api/1/uploads/, the `upload` source), kept apart for easy merges. */
const uploadSettings = {
  /** Where uploaded RPMs are kept; API and workers must share it (like ODCS_TARGET_DIR). */
  ODCS_UPLOAD_DIR: z.string().min(1).default("./data/uploads"),
  /** Largest upload (all its files together), in MiB. */
  ODCS_UPLOAD_MAX_MB: intFrom(1, 1024 * 1024).default(2048),
  /** Most files in one upload. */
  ODCS_UPLOAD_MAX_FILES: intFrom(1, 100_000).default(1000),
  /** Bytes one owner may keep in unexpired uploads, in MiB. */
  ODCS_UPLOAD_QUOTA_MB: intFrom(1, 1024 * 1024 * 1024).default(10240),
  /**
   * An upload dir with no row (its server died mid-upload) in which nothing
   * changed for this many seconds is deleted by the sweep.
   */
  ODCS_UPLOAD_ABANDONED_SECONDS: intFrom(1, 30 * 24 * 3600).default(3600),
};

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL");

/**
 * The dashboard's OpenID Connect login (src/dashboard/login/): on when
 * `ODCS_AUTH_BACKEND=openidc` and a client id is set. Kept apart so other
 * groups of settings merge without touching these lines.
 */
const dashboardLoginSettings = {
  /** Client id of the dashboard at the issuer (authorization code + PKCE); unset: no login. */
  ODCS_OIDC_CLIENT_ID: z.string().min(1).optional(),
  /** Its secret when it is a confidential client (sent with HTTP Basic); unset: a public client. */
  ODCS_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Scopes the login asks for, space- or comma-separated; default openid + the ODCS scopes. */
  ODCS_OIDC_LOGIN_SCOPES: z
    .preprocess(
      (v) => (typeof v === "string" ? v.split(/[\s,]+/).filter((s) => s !== "") : v),
      z.array(z.string().min(1)),
    )
    .optional(),
  /** The login's redirect URI; default `<external base of the request>/login/callback`. */
  ODCS_DASHBOARD_REDIRECT_URL: httpUrl.optional(),
  /** Key material of the session cookies (≥ 32 characters); default derived from the client secret. */
  ODCS_DASHBOARD_SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Lifetime of a dashboard login. */
  ODCS_DASHBOARD_SESSION_SECONDS: intFrom(60, 30 * 86400).default(8 * 3600),
};

/** One `ODCS_WEBHOOKS` entry: where to POST, the HMAC secret, and optional filters (any listed value matches). */
export const WebhookSchema = z
  .object({
    url: httpUrl,
    secret: z.string().min(1),
    owners: z.array(z.string()).optional(),
    source_types: z.array(z.enum(SOURCE_TYPE_NAMES)).optional(),
    labels: z.array(z.string()).optional(),
    states: z.array(z.enum(STATE_NAMES)).optional(),
  })
  .strict();
export type WebhookConfig = z.infer<typeof WebhookSchema>;

export const ConfigSchema = z
  .object({
    ...processSettings,
    ...dashboardLoginSettings,
    ...floodSettings,
    ...uploadSettings,
    PORT: intFrom(0, 65535).default(5000),
    HOST: z.string().min(1).default("0.0.0.0"),
    ODCS_DATABASE_URL: z.string().min(1).default("file:./data/odcs.db"),
    ODCS_DATABASE_AUTH_TOKEN: z.string().optional(),
    ODCS_TARGET_DIR: z.string().min(1).default("./data/composes"),
    /** Public URL of ODCS_TARGET_DIR; by default served by this process at /composes. */
    ODCS_TARGET_DIR_URL: httpUrl.optional(),
    /** The full service, named in the read-only (edge) app's 405 answers to writes. */
    ODCS_ORIGIN_URL: httpUrl.optional(),
    /** Seconds the edge keeps answers about done/removed/failed composes (Cache API, max-age); 0: none. */
    ODCS_EDGE_CACHE_SECONDS: intFrom(0, 86400).default(60),
    /** Local repository roots a `repo` compose may read; "/" (anywhere) suits a single host, narrow it in production. */
    ODCS_ALLOWED_REPO_ROOTS: csv.default(["/"]),
    ODCS_ALLOWED_REPO_URLS: csv.default([]),
    /** URL prefixes (https, http, file) of git repositories that may be cloned: `module_defaults_url`. */
    ODCS_ALLOWED_GIT_URLS: csv.default([]),
    ODCS_GIT_TIMEOUT_MS: intFrom(1000, 3_600_000).default(60_000),
    ODCS_GIT_MAX_BYTES: intFrom(1024, 64 * 1024 ** 3).default(64 * 1024 ** 2),
    ODCS_AUTH_BACKEND: z.enum(["noauth", "openidc"]).default("noauth"),
    ODCS_OIDC_ISSUER: httpUrl.optional(),
    ODCS_OIDC_AUDIENCE: z.string().min(1).optional(),
    ODCS_OIDC_JWKS_URI: httpUrl.optional(),
    ODCS_OIDC_USERNAME_CLAIM: z.string().min(1).default("preferred_username"),
    ODCS_OIDC_GROUPS_CLAIM: z.string().min(1).default("groups"),
    ODCS_OIDC_SCOPE_PREFIX: z.string().default("https://pagure.io/odcs/"),
    ODCS_OIDC_ALGORITHMS: csv.default([
      "RS256",
      "RS384",
      "RS512",
      "PS256",
      "PS384",
      "PS512",
      "ES256",
      "ES384",
      "ES512",
      "EdDSA",
    ]),
    ODCS_OIDC_CLOCK_SKEW_SECONDS: intFrom(0, 600).default(30),
    ODCS_ALLOWED_CLIENTS: jsonFrom(AllowedClientsSchema).default({ users: {}, groups: {} }),
    ODCS_ADMINS: jsonFrom(AdminsSchema).default({ users: [], groups: [] }),
    ODCS_SECONDS_TO_LIVE: intFrom(1, 10 * 365 * 86400).default(86400),
    ODCS_MAX_SECONDS_TO_LIVE: intFrom(1, 10 * 365 * 86400).default(259200),
    ODCS_ARCHES: csv.pipe(z.array(z.string().regex(ARCH_RE))).default(["x86_64"]),
    ODCS_SIGKEYS: csv.default([]),
    /** Secondary-arch packages never added as multilib. */
    ODCS_MULTILIB_BLACKLIST: multilibGlobs.default({}),
    /** Secondary-arch packages always added as multilib (next to their native package). */
    ODCS_MULTILIB_WHITELIST: multilibGlobs.default({}),
    /** false for providers that cannot put ODCS scopes in tokens (Dex): roles alone decide. */
    ODCS_OIDC_REQUIRE_SCOPES: boolFrom.default(true),
    ODCS_ALLOWED_SOURCE_TYPES: permissionList.default(["tag", "module", "build", "repo"]),
    ODCS_ALLOWED_SOURCES: permissionList.default([""]),
    ODCS_ALLOWED_FLAGS: permissionList.default([
      "no_flags",
      "no_deps",
      "no_inheritance",
      "include_unpublished_pulp_repos",
      "check_deps",
      "include_done_modules",
      "ignore_absent_pulp_repos",
      "no_reuse",
      "use_only_compatible_arch",
    ]),
    ODCS_ALLOWED_RESULTS: permissionList.default(["repository", "iso", "ostree", "boot.iso"]),
    ODCS_ALLOWED_ARCHES: permissionList.default(["x86_64"]),
    ODCS_ALLOWED_COMPOSE_TYPES: permissionList.default([""]),
    ODCS_WORKER_CONCURRENCY: intFrom(1, 64).default(2),
    ODCS_WORKER_POLL_MS: intFrom(10, 600_000).default(200),
    ODCS_WORKER_LEASE_MS: intFrom(1000, 3_600_000).default(30_000),
    /** How often a worker with running jobs asks whether one was cancelled (one read). */
    ODCS_WORKER_CANCEL_CHECK_MS: intFrom(50, 60_000).default(500),
    ODCS_JOB_MAX_ATTEMPTS: intFrom(1, 100).default(3),
    ODCS_GENERATE_TIMEOUT_SECONDS: intFrom(1, 86400).default(3600),
    ODCS_SWEEP_CRON: z.string().min(1).default("* * * * *"),
    /** Done/failed jobs older than this are deleted by the sweep. */
    ODCS_JOBS_RETENTION_DAYS: intFrom(1, 36500).default(30),
    ODCS_REPODATA_COMPRESSION: z.enum(["gz", "zst"]).default("gz"),
    ODCS_REPODATA_WRITER: z.enum(["native", "createrepo_c"]).default("native"),
    ODCS_CACHE_BUDGET_MB: intFrom(16, 1_000_000).default(1024),
    ODCS_DOWNLOAD_TIMEOUT_MS: intFrom(1000, 3_600_000).default(300_000),
    /** Koji hub XML-RPC URL; unset = `tag` and `build` composes are refused. */
    ODCS_KOJI_HUB_URL: httpUrl.optional(),
    /** Koji file server (topurl), for headers (Range requests) and downloads. */
    ODCS_KOJI_TOPURL: httpUrl.optional(),
    /** Koji's top dir mounted here (wins over the topurl): positioned header reads, hardlinks. */
    ODCS_KOJI_TOPDIR: z.string().min(1).optional(),
    ODCS_KOJI_TIMEOUT_MS: intFrom(1000, 3_600_000).default(120_000),
    ODCS_KOJI_RETRIES: intFrom(0, 20).default(3),
    /** MBS base URL (`…/module-build-service`); unset = module composes need `modular_koji_tags`. */
    ODCS_MBS_URL: httpUrl.optional(),
    /** Per MBS request. */
    ODCS_MBS_TIMEOUT_MS: intFrom(1000, 3_600_000).default(60_000),
    /** Pulp server root (not the API root), e.g. https://pulp.example.com/; unset = `pulp` composes are refused. */
    ODCS_PULP_URL: httpUrl.optional(),
    ODCS_PULP_USERNAME: z.string().optional(),
    ODCS_PULP_PASSWORD: z.string().optional(),
    /** Pulp 2 (`/pulp/api/v2/`, repo notes) or Pulp 3 (`/pulp/api/v3/`, repo labels and distributions). */
    ODCS_PULP_API: z.enum(["2", "3"]).default("2"),
    ODCS_PULP_TIMEOUT_MS: intFrom(1000, 3_600_000).default(60_000),
    /** Persistent caches (Koji RPM headers). */
    ODCS_CACHE_DIR: z.string().min(1).default("./data/cache"),
    ODCS_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    /** Event rows older than this are deleted by the sweep. */
    ODCS_EVENTS_RETENTION_DAYS: intFrom(1, 3650).default(14),
    /** How often a server process looks for new events (consumers and SSE streams). */
    ODCS_EVENTS_POLL_MS: intFrom(10, 60_000).default(250),
    /** Delivery lease of a durable consumer (AMQP, a webhook) held by one server process. */
    ODCS_EVENTS_LEASE_MS: intFrom(1000, 3_600_000).default(30_000),
    /** First retry delay of a failed delivery; doubled per failure up to ODCS_EVENTS_RETRY_MAX_MS. */
    ODCS_EVENTS_RETRY_BASE_MS: intFrom(10, 3_600_000).default(1000),
    ODCS_EVENTS_RETRY_MAX_MS: intFrom(10, 86_400_000).default(300_000),
    /** Seconds between SSE heartbeat comments. */
    ODCS_EVENTS_HEARTBEAT_SECONDS: intFrom(1, 3600).default(15),
    ODCS_AMQP_URL: z
      .string()
      .refine((u) => /^amqps?:\/\//.test(u), "must be an amqp:// or amqps:// URL")
      .optional(),
    ODCS_AMQP_EXCHANGE: z.string().min(1).default("amq.topic"),
    ODCS_AMQP_TOPIC: z.string().min(1).default("odcs.compose.state-changed"),
    ODCS_WEBHOOKS: jsonFrom(
      z.array(WebhookSchema, {
        error: (i) =>
          i.input === Symbol.for("invalid-json")
            ? "not valid JSON; expected a list of {url, secret, …}"
            : "expected a JSON list of {url, secret, owners?, source_types?, labels?, states?}",
      }),
    ).default([]),
    /** URL prefixes a webhook URL must lie under (parsed URL comparison). */
    ODCS_ALLOWED_WEBHOOK_URLS: csv.default([]),
    ODCS_WEBHOOK_TIMEOUT_MS: intFrom(100, 600_000).default(10_000),
    /** Port of the standalone worker's own /metrics endpoint; off when unset. */
    ODCS_WORKER_METRICS_PORT: intFrom(0, 65535).optional(),
    /** Largest repomd.xml a source may have; real ones are a few KB. */
    ODCS_MAX_REPOMD_BYTES: intFrom(1024, 1024 ** 3).default(4 * 1024 ** 2),
    /** Largest metadata file (primary, filelists, other), as stored and once decompressed. */
    ODCS_MAX_METADATA_BYTES: intFrom(1024 ** 2, 64 * 1024 ** 3).default(2 * 1024 ** 3),
    /** Largest productmd file (rpms.json, composeinfo.json) a `pungi_compose` source may have; parsed whole. */
    ODCS_MAX_PUNGI_METADATA_BYTES: intFrom(1024, 1024 ** 3).default(256 * 1024 ** 2),
  })
  .superRefine((c, ctx) => {
    c.ODCS_WEBHOOKS.forEach((hook, i) => {
      if (!c.ODCS_ALLOWED_WEBHOOK_URLS.some((p) => isUrlUnderPrefix(hook.url, p)))
        ctx.addIssue({
          code: "custom",
          path: ["ODCS_WEBHOOKS", i, "url"],
          message:
            c.ODCS_ALLOWED_WEBHOOK_URLS.length === 0
              ? `${hook.url} is not allowed: ODCS_ALLOWED_WEBHOOK_URLS is empty`
              : `${hook.url} is not under a prefix of ODCS_ALLOWED_WEBHOOK_URLS (${c.ODCS_ALLOWED_WEBHOOK_URLS.join(", ")})`,
        });
    });
    if (c.ODCS_KOJI_HUB_URL && !c.ODCS_KOJI_TOPURL && !c.ODCS_KOJI_TOPDIR)
      ctx.addIssue({
        code: "custom",
        path: ["ODCS_KOJI_TOPURL"],
        message:
          "ODCS_KOJI_HUB_URL needs ODCS_KOJI_TOPURL or ODCS_KOJI_TOPDIR (where the RPMs are)",
      });
    if (c.ODCS_AUTH_BACKEND === "openidc") {
      for (const key of ["ODCS_OIDC_ISSUER", "ODCS_OIDC_AUDIENCE"] as const) {
        if (!c[key])
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "required when ODCS_AUTH_BACKEND=openidc",
          });
      }
    }
  });

type ParsedConfig = z.infer<typeof ConfigSchema>;
/** The validated settings; `ODCS_TARGET_DIR_URL` is always filled in. */
export type Config = Readonly<ParsedConfig & { ODCS_TARGET_DIR_URL: string }>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Build the configuration from environment variables, which win over the
 * optional config file's values (a JSON object with the same keys; values may
 * be native JSON types). Throws `ConfigError` whose message names every bad
 * setting, one per line.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  file?: Record<string, unknown>,
): Config {
  const known = new Set(Object.keys(ConfigSchema.shape));
  const unknown = Object.keys(file ?? {}).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((k) => `invalid setting ${k}: unknown setting in config file`).join("\n"),
    );
  }
  const merged: Record<string, unknown> = { ...(file ?? {}) };
  for (const [k, v] of Object.entries(env)) {
    if ((k.startsWith("ODCS_") || k === "PORT" || k === "HOST") && v !== undefined && v !== "")
      merged[k] = v;
  }
  delete merged.ODCS_CONFIG;
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `invalid setting ${i.path.join(".") || "(config)"}: ${i.message}`,
    );
    throw new ConfigError(lines.join("\n"));
  }
  const c = parsed.data;
  return Object.freeze({
    ...c,
    ODCS_TARGET_DIR_URL: c.ODCS_TARGET_DIR_URL ?? `http://localhost:${c.PORT}/composes`,
  });
}

/** `ODCS_*` variables that are ours without being settings of the service. */
const OTHER_KNOWN_VARIABLES = [
  "ODCS_CONFIG", // names the config file
  "ODCS_SERVER", // the `odcs` CLI's server URL
  "ODCS_TOKEN", // the `odcs` CLI's token
  "ODCS_TEST_CRASH_AT", // tests: a crash point (crash-points.ts), read by the process entry
];

/** Every `ODCS_*` name the service or its CLI reads. */
export function knownVariables(): string[] {
  return [
    ...Object.keys(ConfigSchema.shape).filter((k) => k.startsWith("ODCS_")),
    ...OTHER_KNOWN_VARIABLES,
  ];
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

export interface UnknownVariable {
  name: string;
  /** The known name nearest by edit distance (ties: the first in schema order). */
  closest: string;
}

/**
 * `ODCS_*` environment variables nobody reads: a typo in a setting name is
 * otherwise silently ignored and its default used. Entry points log each as a
 * warning at start-up.
 */
export function unknownVariables(env: Record<string, string | undefined>): UnknownVariable[] {
  const known = knownVariables();
  const knownSet = new Set(known);
  return Object.keys(env)
    .filter((k) => k.startsWith("ODCS_") && !knownSet.has(k))
    .sort()
    .map((name) => {
      let closest = known[0] as string;
      let best = Number.POSITIVE_INFINITY;
      for (const k of known) {
        const dist = editDistance(name, k);
        if (dist < best) {
          best = dist;
          closest = k;
        }
      }
      return { name, closest };
    });
}
