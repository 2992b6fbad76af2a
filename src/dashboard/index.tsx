/** @jsxImportSource hono/jsx */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Context } from "hono";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { bodyLimits, readFormBody } from "../api/body.ts";
import { createComposeAs, deleteComposeAs, renewComposeAs } from "../api/composes-write.ts";
import type { Deps } from "../api/deps.ts";
import { statusOf } from "../api/errors.ts";
import { listComposeRpms } from "../db/compose-rpms.ts";
import { findCompose } from "../db/composes.ts";
import {
  activeCount,
  findActiveJob,
  listActiveJobs,
  listComposeEvents,
  listEventsBetween,
  listGenerationTimes,
} from "../db/dashboard.ts";
import { DomainError } from "../domain/errors.ts";
import { AboutPage } from "./about.tsx";
import {
  finishedPerBucket,
  generationPercentiles,
  queueDepthPerBucket,
  RANGES,
  type RangeName,
} from "./chart-data.ts";
import { ChartsPage } from "./charts.tsx";
import { type PageContext, pageContext } from "./context.ts";
import { isCsrfValid } from "./csrf.ts";
import { DetailPage, type NoticeKind, noticeText } from "./detail.tsx";
import { ListPage, listParams, loadList } from "./list.tsx";
import { readLogTail } from "./log-tail.ts";
import { MessagePage } from "./message-page.tsx";
import { composeBodyFromForm, NewComposePage } from "./new-compose.tsx";
import { PATHS, UI } from "./paths.ts";
import { QueuePage } from "./queue.tsx";

const require = createRequire(import.meta.url);
const asset = (file: string) => readFileSync(new URL(`./assets/${file}`, import.meta.url), "utf8");

/** Static assets, read once per process. */
function loadAssets(): Record<string, { body: string; type: string }> {
  return {
    "pico.min.css": {
      body: readFileSync(require.resolve("@picocss/pico/css/pico.min.css"), "utf8"),
      type: "text/css; charset=utf-8",
    },
    "dashboard.css": { body: asset("dashboard.css"), type: "text/css; charset=utf-8" },
    "live.js": { body: asset("live.js"), type: "text/javascript; charset=utf-8" },
  };
}
let assets: ReturnType<typeof loadAssets> | undefined;

const idOf = (c: Context) => {
  const raw = c.req.param("id") ?? "";
  return /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
};

function message(
  c: Context,
  ctx: PageContext,
  status: ContentfulStatusCode,
  title: string,
  text: string,
) {
  return c.html(<MessagePage ctx={ctx} title={title} message={text} />, status);
}

/**
 * The form fields of a POST, or the page refusing it: the CSRF check failed
 * (then nothing may be written), or the body is over ODCS_MAX_BODY_BYTES
 * (read no further than that, as the API's) or not a well-formed form.
 */
async function checkedForm(
  c: Context,
  deps: Deps,
  ctx: PageContext,
): Promise<Record<string, unknown> | Response> {
  let form: Record<string, unknown>;
  try {
    form = await readFormBody(c, bodyLimits(deps.config));
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return message(c, ctx, statusOf(err), "Refused", `${err.message}. Nothing was changed.`);
  }
  return isCsrfValid(c, form) ? form : message(c, ctx, 403, "Refused", CSRF_MESSAGE);
}

const noticeUrl = (ctx: PageContext, id: number, notice: NoticeKind) =>
  ctx.href(`${PATHS.compose(id)}?notice=${notice}`);

/**
 * The web dashboard: server-rendered pages over the same db readers and
 * domain functions as the API (no HTTP loopback). Mounted at `/` by the
 * full app only (src/api/app.ts), never by the read-only edge app.
 */
export function dashboardRouter(deps: Deps): Hono {
  assets ??= loadAssets();
  const files = assets;
  const r = new Hono();

  r.get(`${UI}/assets/:name`, (c) => {
    const name = c.req.param("name");
    // Own names only: `__proto__`, `constructor` and `toString` were answered 200 with no body.
    const file = Object.hasOwn(files, name) ? files[name] : undefined;
    if (!file) return c.text("Not Found", 404);
    c.header("Content-Type", file.type);
    c.header("Cache-Control", "public, max-age=300");
    return c.body(file.body);
  });

  r.get(PATHS.list, async (c) => {
    const ctx = await pageContext(c, deps);
    const params = listParams(new URL(c.req.url));
    try {
      const result = await loadList(ctx, params);
      return c.html(<ListPage ctx={ctx} params={params} result={result} />);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const empty = { rows: [], total: 0, page: 1, perPage: 20 };
      return c.html(
        <ListPage ctx={ctx} params={params} result={empty} error={err.message} />,
        statusOf(err),
      );
    }
  });

  r.get(`${UI}/composes/:id`, async (c) => {
    const ctx = await pageContext(c, deps);
    const id = idOf(c);
    const row = id === undefined ? undefined : await findCompose(deps.db, id);
    if (!row) return message(c, ctx, 404, "Not found", `No compose with id ${c.req.param("id")}`);
    const [events, job, rpms] = await Promise.all([
      listComposeEvents(deps.db, row.id),
      findActiveJob(deps.db, row.id),
      listComposeRpms(deps.db, row.reusedId ?? row.id),
    ]);
    const log = readLogTail(deps.config.ODCS_TARGET_DIR, row);
    const notice = noticeText(c.req.query("notice"), row);
    return c.html(<DetailPage ctx={ctx} data={{ row, events, job, rpms, log }} notice={notice} />);
  });

  r.get(PATHS.queue, async (c) => {
    const ctx = await pageContext(c, deps);
    return c.html(<QueuePage ctx={ctx} items={await listActiveJobs(deps.db)} />);
  });

  r.get(PATHS.charts, async (c) => {
    const ctx = await pageContext(c, deps);
    const range: RangeName = c.req.query("range") === "7d" ? "7d" : "24h";
    const { spanMs, bucketMs } = RANGES[range];
    // Buckets end at the next whole bucket, so bars do not shift with every request.
    const to = Math.ceil((ctx.now + 1) / bucketMs) * bucketMs;
    const from = to - spanMs;
    const [events, times, depthNow] = await Promise.all([
      listEventsBetween(deps.db, from, to),
      listGenerationTimes(deps.db, from, to),
      activeCount(deps.db),
    ]);
    return c.html(
      <ChartsPage
        ctx={ctx}
        range={range}
        finished={finishedPerBucket(events, from, to, bucketMs)}
        durations={generationPercentiles(times)}
        depth={queueDepthPerBucket(events, from, to, bucketMs, depthNow)}
      />,
    );
  });

  r.get(PATHS.about, async (c) => {
    const ctx = await pageContext(c, deps);
    return c.html(<AboutPage ctx={ctx} />);
  });

  r.get(PATHS.newCompose, async (c) => {
    const ctx = await pageContext(c, deps);
    return c.html(<NewComposePage ctx={ctx} />);
  });

  r.post(PATHS.newCompose, async (c) => {
    const ctx = await pageContext(c, deps);
    const form = await checkedForm(c, deps, ctx);
    if (form instanceof Response) return form;
    if (!ctx.actor) return message(c, ctx, 403, "Not logged in", "Log in to request a compose.");
    try {
      const row = await createComposeAs(deps, ctx.actor.identity, async () =>
        composeBodyFromForm(form),
      );
      return c.redirect(noticeUrl(ctx, row.id, "requested"), 303);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return c.html(<NewComposePage ctx={ctx} values={form} error={err.message} />, statusOf(err));
    }
  });

  r.post(`${UI}/composes/:id/renew`, async (c) => {
    const ctx = await pageContext(c, deps);
    const form = await checkedForm(c, deps, ctx);
    if (form instanceof Response) return form;
    if (!ctx.actor) return message(c, ctx, 403, "Not logged in", "Log in to renew composes.");
    const id = idOf(c);
    if (id === undefined) return message(c, ctx, 404, "Not found", "No such compose");
    const ttl = typeof form.seconds_to_live === "string" ? form.seconds_to_live.trim() : "";
    const body: Record<string, unknown> = {};
    if (ttl !== "") body.seconds_to_live = /^-?\d+$/.test(ttl) ? Number(ttl) : ttl;
    try {
      const row = await renewComposeAs(deps, ctx.actor.identity, id, async () => body);
      return c.redirect(noticeUrl(ctx, row.id, row.id === id ? "renewed" : "regenerated"), 303);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return message(c, ctx, statusOf(err), "Not renewed", err.message);
    }
  });

  r.post(`${UI}/composes/:id/delete`, async (c) => {
    const ctx = await pageContext(c, deps);
    const form = await checkedForm(c, deps, ctx);
    if (form instanceof Response) return form;
    if (!ctx.actor) return message(c, ctx, 403, "Not logged in", "Log in to delete composes.");
    const id = idOf(c);
    if (id === undefined) return message(c, ctx, 404, "Not found", "No such compose");
    try {
      const res = await deleteComposeAs(deps, ctx.actor.identity, id);
      const kind = res.message.includes("canceled") ? "canceled" : "delete-requested";
      return c.redirect(noticeUrl(ctx, id, kind), 303);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return message(c, ctx, statusOf(err), "Not deleted", err.message);
    }
  });

  return r;
}

const CSRF_MESSAGE =
  "The form could not be verified (missing or stale security token). Nothing was changed: reload the page and try again.";
