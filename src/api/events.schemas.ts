import { z } from "@hono/zod-openapi";
import { SOURCE_TYPE_NAMES, STATE_NAMES } from "../domain/states.ts";

/** Digits naming an id a database row can have: past 2^53 - 1 no id is exact. */
const idString = (message: string) =>
  z
    .string()
    .regex(/^\d+$/, message)
    .refine((v) => Number.isSafeInteger(Number(v)), message);

const firstOf = (v: unknown) => (Array.isArray(v) ? v[0] : v);

export const EventsQuery = z.object({
  compose_id: z
    .preprocess(firstOf, idString("must be a compose id").optional())
    .openapi({ description: "Only events of this compose", example: "42" }),
  owner: z
    .preprocess(firstOf, z.string().min(1).optional())
    .openapi({ description: "Only events of composes owned by this user" }),
  source_type: z
    .preprocess(
      firstOf,
      z
        .enum(SOURCE_TYPE_NAMES, {
          error: `must be one of ${SOURCE_TYPE_NAMES.join(", ")}`,
        })
        .optional(),
    )
    .openapi({ description: "Only events of composes of this source type", example: "repo" }),
  last_event_id: z.preprocess(firstOf, idString("must be an event id").optional()).openapi({
    description:
      "Resume after this event id, for clients that cannot send the `Last-Event-ID` header (the header wins)",
  }),
});

export const STREAM_DESCRIPTION = [
  "Server-Sent Events, one per compose state change including creation, oldest first:",
  "`id:` the event id, `event: state-changed`, `data:` the JSON message",
  '`{"event": "state-changed", "compose": <compose JSON>}` (the Compose schema, without pungi_config_dump).',
  "A new stream starts with the next change; send `Last-Event-ID` (browsers' EventSource does on",
  "reconnect) to receive every retained event after that id first. Comment lines (`: heartbeat`)",
  "keep idle connections open. Event states are:",
  STATE_NAMES.join(", "),
].join(" ");
