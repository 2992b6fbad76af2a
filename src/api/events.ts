import { createRoute } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { type EventFilter, lastEventId, listEventsAfter } from "../db/events.ts";
import { InvalidRequestError } from "../domain/errors.ts";
import { STATE_CHANGED, stateChangedMessage } from "../domain/event-message.ts";
import { SOURCE_TYPES } from "../domain/states.ts";
import { ErrorSchema } from "./composes.schemas.ts";
import type { Deps } from "./deps.ts";
import { errorBody } from "./errors.ts";
import type { EventFeed } from "./event-feed.ts";
import { EventsQuery, STREAM_DESCRIPTION } from "./events.schemas.ts";
import { errorResponses } from "./responses.ts";
import { newRouter } from "./router.ts";

/** Open streams per process; more get a 503. */
export const MAX_STREAMS = 1000;
/** Events read per query while catching up. */
const PAGE = 200;

const eventsRoute = createRoute({
  method: "get",
  path: "/",
  operationId: "streamEvents",
  security: [],
  summary: "Live stream of compose state changes (Server-Sent Events)",
  description: STREAM_DESCRIPTION,
  request: { query: EventsQuery },
  responses: {
    200: {
      description: "An endless text/event-stream",
      content: {
        "text/event-stream": {
          schema: { type: "string", example: 'id: 7\nevent: state-changed\ndata: {"event":…}\n\n' },
        },
      },
    },
    503: {
      description: "Too many streams are open already; retry later",
      content: { "application/json": { schema: ErrorSchema } },
    },
    ...errorResponses,
  },
});

export function eventsRouter(deps: Deps, feed: EventFeed) {
  const r = newRouter();
  const heartbeatMs = deps.config.ODCS_EVENTS_HEARTBEAT_SECONDS * 1000;
  r.openapi(eventsRoute, async (c) => {
    const q = c.req.valid("query");
    const header = c.req.header("Last-Event-ID");
    if (
      header !== undefined &&
      !(/^\s*\d+\s*$/.test(header) && Number.isSafeInteger(Number(header)))
    )
      throw new InvalidRequestError("Last-Event-ID: must be an event id");
    const resume = header ?? q.last_event_id;
    const filter: EventFilter = {};
    if (q.compose_id !== undefined) filter.composeId = Number(q.compose_id);
    if (q.owner !== undefined) filter.owner = q.owner;
    if (q.source_type !== undefined) filter.sourceType = SOURCE_TYPES[q.source_type];
    if (feed.size >= MAX_STREAMS) {
      c.header("Retry-After", "5");
      return c.json(errorBody(503, "Too many event streams are open; retry later"), 503);
    }
    let cursor = resume !== undefined ? Number(resume) : await lastEventId(deps.db);
    return streamSSE(c, async (stream) => {
      let wake: () => void = () => {};
      const unsubscribe = feed.subscribe(() => wake());
      stream.onAbort(() => wake());
      try {
        while (!stream.aborted && !feed.closed) {
          const top = await lastEventId(deps.db);
          const items = await listEventsAfter(deps.db, cursor, PAGE, filter);
          for (const { event, compose } of items) {
            await stream.writeSSE({
              id: String(event.id),
              event: STATE_CHANGED,
              data: JSON.stringify(stateChangedMessage(event, compose, deps.config)),
            });
            cursor = event.id;
          }
          if (items.length === PAGE) continue;
          // Every event up to `top` that matches was sent: skip the rest next time.
          cursor = Math.max(cursor, top);
          const woken = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), heartbeatMs);
            wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          if (!woken && !stream.aborted && !feed.closed) await stream.write(": heartbeat\n\n");
        }
      } finally {
        unsubscribe();
      }
    });
  });
  return r;
}
