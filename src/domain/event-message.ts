import type { ComposeRow, EventRow } from "../db/schema.ts";
import { odcsTime, toComposeJson, type ViewSettings } from "./json-view.ts";
import { COMPOSE_STATES, stateName } from "./states.ts";

/** The event name of ODCS's messages (§15). */
export const STATE_CHANGED = "state-changed";

/**
 * The ODCS message for one state change (§15): `{"event": "state-changed",
 * "compose": <compose JSON without pungi_config_dump>}` — the same body for
 * AMQP, webhooks and the SSE stream.
 *
 * ODCS takes the compose snapshot when the change commits; the events table
 * keeps the state, reason and time of each change, so the snapshot is the
 * compose row as it is now with those put back: `state`, `state_name`,
 * `state_reason` of the event, and the time stamps a later change sets
 * (`time_started` at generating, `time_done` at done, `time_removed` at
 * removed) as they were at that change. Fields a later change rewrites in
 * place (`time_to_expire` on completion or renewal, `koji_event`) show
 * their current value.
 */
export function stateChangedMessage(event: EventRow, compose: ComposeRow, s: ViewSettings) {
  const json = toComposeJson(compose, s);
  const to = event.toState;
  const at = odcsTime(event.at);
  const snapshot = {
    ...json,
    state: to,
    state_name: stateName(to),
    state_reason: event.stateReason,
  };
  if (to === COMPOSE_STATES.wait) {
    snapshot.time_started = null;
    snapshot.time_done = null;
  }
  if (to === COMPOSE_STATES.generating) {
    snapshot.time_started = at;
    snapshot.time_done = null;
  }
  if (to === COMPOSE_STATES.done) snapshot.time_done = at;
  if (to === COMPOSE_STATES.removed) snapshot.time_removed = at;
  else snapshot.time_removed = null;
  return { event: STATE_CHANGED, compose: snapshot };
}

export type StateChangedMessage = ReturnType<typeof stateChangedMessage>;
