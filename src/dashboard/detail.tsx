/** @jsxImportSource hono/jsx */
import type { ActiveJob } from "../db/dashboard.ts";
import type { ComposeRow, ComposeRpmRow, EventRow } from "../db/schema.ts";
import { toComposeDetailJson } from "../domain/json-view.ts";
import { COMPOSE_STATES, stateName } from "../domain/states.ts";
import { LOG_FILE } from "../worker/paths.ts";
import { LoginHint, Notice, PostForm, ScrollBox, StateBadge, Time } from "./components.tsx";
import type { PageContext } from "./context.ts";
import { STATE_LABELS, sourceTypeLabel } from "./format.ts";
import { Layout } from "./layout.tsx";
import { PATHS } from "./paths.ts";

/** Packages listed on the page; the rest are counted. */
export const RPMS_SHOWN = 500;

export interface DetailData {
  row: ComposeRow;
  events: EventRow[];
  job: ActiveJob | undefined;
  rpms: ComposeRpmRow[];
  log: { text: string; size: number; truncated: boolean } | undefined;
}

/** What a redirect after an action tells the page to say (a fixed text, never the URL's). */
export type NoticeKind = "requested" | "renewed" | "regenerated" | "canceled" | "delete-requested";

export function noticeText(kind: string | undefined, row: ComposeRow): string | undefined {
  switch (kind) {
    case "requested":
      return `Compose ${row.id} requested.`;
    case "renewed":
      return `Compose ${row.id} renewed: it now expires ${new Date(row.timeToExpire).toISOString().slice(0, 16).replace("T", " ")} UTC.`;
    case "regenerated":
      return `Compose ${row.regenerateOf ?? "?"} is being regenerated as this compose, ${row.id}.`;
    case "canceled":
      return `Compose ${row.id} canceled.`;
    case "delete-requested":
      return `The delete request for compose ${row.id} was accepted; it will be removed shortly.`;
    default:
      return undefined;
  }
}

const isActive = (state: number) =>
  state === COMPOSE_STATES.wait || state === COMPOSE_STATES.generating;

function Actions(props: { ctx: PageContext; row: ComposeRow }) {
  const { ctx, row } = props;
  const canRenew = [COMPOSE_STATES.done, COMPOSE_STATES.failed, COMPOSE_STATES.removed].includes(
    row.state as 2 | 3 | 4,
  );
  const canDelete = row.state !== COMPOSE_STATES.removed;
  if (!canRenew && !canDelete) return null;
  if (!ctx.actor) return <LoginHint what="renew or delete this compose" />;
  const removed = row.state === COMPOSE_STATES.removed;
  const removeLabel = isActive(row.state) ? "Cancel compose" : "Delete compose";
  return (
    <section class="actions" aria-label="Actions">
      {canRenew ? (
        <PostForm ctx={ctx} action={PATHS.renew(row.id)} label="Renew compose" class="inline">
          <label>
            Keep for (seconds)
            <input
              type="number"
              name="seconds_to_live"
              min="1"
              max={String(ctx.deps.config.ODCS_MAX_SECONDS_TO_LIVE)}
              placeholder={String(ctx.deps.config.ODCS_SECONDS_TO_LIVE)}
            />
          </label>
          <button type="submit">{removed || row.state === 4 ? "Regenerate" : "Renew"}</button>
        </PostForm>
      ) : null}
      {canDelete ? (
        <PostForm ctx={ctx} action={PATHS.remove(row.id)} label={removeLabel} class="inline">
          <button type="submit" class="secondary">
            {removeLabel}
          </button>
        </PostForm>
      ) : null}
    </section>
  );
}

function Links(props: {
  ctx: PageContext;
  row: ComposeRow;
  json: ReturnType<typeof toComposeDetailJson>;
}) {
  const { ctx, row, json } = props;
  if (json.toplevel_url === "") return null;
  const arches = row.arches.split(" ").filter((a) => a !== "");
  const published = row.state === COMPOSE_STATES.done;
  return (
    <section aria-labelledby="links-h">
      <h2 id="links-h">Links</h2>
      <ul class="links-list">
        {published ? (
          <li>
            <a href={json.result_repofile}>.repo file</a>
          </li>
        ) : null}
        {published
          ? arches.map((arch) => (
              <li>
                <a href={`${json.result_repo}/${arch}/os/repodata/repomd.xml`}>repodata ({arch})</a>
              </li>
            ))
          : null}
        {row.state !== COMPOSE_STATES.removed ? (
          <li>
            <a href={`${json.toplevel_url}/${LOG_FILE}`}>log file</a>
          </li>
        ) : null}
        <li>
          <a href={ctx.href(`/api/1/composes/${row.id}`)}>JSON</a>
        </li>
      </ul>
    </section>
  );
}

function Timeline(props: { ctx: PageContext; events: EventRow[] }) {
  return (
    <section aria-labelledby="timeline-h">
      <h2 id="timeline-h">Timeline</h2>
      <ol class="timeline" data-testid="timeline">
        {props.events.map((e) => (
          <li data-state={stateName(e.toState)}>
            <StateBadge state={e.toState} /> <Time ms={e.at} now={props.ctx.now} />
            {e.stateReason ? <span class="reason"> — {e.stateReason}</span> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Fields(props: { json: ReturnType<typeof toComposeDetailJson> }) {
  const entries = Object.entries(props.json);
  return (
    <details>
      <summary>All fields</summary>
      <dl class="fields">
        {entries.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd data-key={k}>
              {v === null || v === "" ? "—" : Array.isArray(v) ? v.join(", ") || "—" : String(v)}
            </dd>
          </>
        ))}
      </dl>
    </details>
  );
}

function Packages(props: { rpms: ComposeRpmRow[] }) {
  const { rpms } = props;
  if (rpms.length === 0) return null;
  const shown = rpms.slice(0, RPMS_SHOWN);
  return (
    <section aria-labelledby="pkgs-h">
      <h2 id="pkgs-h">Packages ({rpms.length})</h2>
      <details>
        <summary>Show the package list</summary>
        <ScrollBox label="Packages">
          <table class="striped">
            <thead>
              <tr>
                <th scope="col">Package</th>
                <th scope="col">Tree</th>
                <th scope="col">Signed by</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr>
                  <td class="wrap">
                    {r.name}-{r.epoch !== "0" && r.epoch !== "" ? `${r.epoch}:` : ""}
                    {r.version}-{r.release}.{r.arch}
                  </td>
                  <td>{r.treeArch}</td>
                  <td>{r.sigkey ?? "unsigned"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
        {rpms.length > shown.length ? <p>… and {rpms.length - shown.length} more.</p> : null}
      </details>
    </section>
  );
}

function Log(props: {
  row: ComposeRow;
  json: ReturnType<typeof toComposeDetailJson>;
  log: DetailData["log"];
}) {
  const { row, json, log } = props;
  if (row.state === COMPOSE_STATES.removed || json.toplevel_url === "") return null;
  return (
    <section aria-labelledby="log-h">
      <h2 id="log-h">Log</h2>
      {log?.truncated ? <p class="muted">The last part of the log:</p> : null}
      <pre
        class="log"
        id="log"
        tabindex={0}
        data-log-url={`${json.toplevel_url}/${LOG_FILE}`}
        data-offset={String(log?.size ?? 0)}
      >
        {log?.text ?? ""}
      </pre>
      {log === undefined ? <p class="muted log-empty">No log yet.</p> : null}
    </section>
  );
}

export function DetailPage(props: { ctx: PageContext; data: DetailData; notice?: string }) {
  const { ctx, data } = props;
  const { row } = data;
  const json = toComposeDetailJson(row, ctx.deps.config);
  const name = stateName(row.state);
  return (
    <Layout
      ctx={ctx}
      title={`Compose ${row.id}`}
      current=""
      live={{ page: "detail", "compose-id": String(row.id), state: name }}
    >
      <hgroup>
        <h1>
          Compose {row.id} <StateBadge state={row.state} />
        </h1>
        <p>
          {sourceTypeLabel(row.sourceType)} <span class="wrap">{row.source || row.builds}</span>
        </p>
      </hgroup>
      <Notice text={props.notice} />
      <div class="failure" role="alert" hidden={row.state !== COMPOSE_STATES.failed}>
        <strong>Failed:</strong> <span data-field="state_reason">{row.stateReason ?? ""}</span>
      </div>
      <dl class="summary-fields">
        <dt>State</dt>
        <dd data-field="state_name">{STATE_LABELS[name]}</dd>
        <dt>Owner</dt>
        <dd>{row.owner}</dd>
        <dt>Submitted</dt>
        <dd>
          <Time ms={row.timeSubmitted} now={ctx.now} />
        </dd>
        <dt>Started</dt>
        <dd>
          <Time ms={row.timeStarted} now={ctx.now} field="time_started" />
        </dd>
        <dt>Finished</dt>
        <dd>
          <Time ms={row.timeDone} now={ctx.now} field="time_done" />
        </dd>
        <dt>Expires</dt>
        <dd>
          <Time ms={row.timeToExpire} now={ctx.now} field="time_to_expire" />
        </dd>
        {data.job ? (
          <>
            <dt>Job</dt>
            <dd data-testid="job">
              {data.job.state === "running" ? `running on ${data.job.lockedBy ?? "?"}` : "queued"},
              attempt {data.job.attempts} of {data.job.maxAttempts}
            </dd>
          </>
        ) : null}
        {row.reusedId !== null ? (
          <>
            <dt>Reuses</dt>
            <dd>
              <a href={ctx.href(PATHS.compose(row.reusedId))}>compose {row.reusedId}</a>
            </dd>
          </>
        ) : null}
        {row.regenerateOf !== null ? (
          <>
            <dt>Regenerates</dt>
            <dd>
              <a href={ctx.href(PATHS.compose(row.regenerateOf))}>compose {row.regenerateOf}</a>
            </dd>
          </>
        ) : null}
      </dl>
      <Actions ctx={ctx} row={row} />
      <Links ctx={ctx} row={row} json={json} />
      <Timeline ctx={ctx} events={data.events} />
      <Log row={row} json={json} log={data.log} />
      <Packages rpms={data.rpms} />
      <Fields json={json} />
      {isActive(row.state) ? (
        <noscript>
          <p>This page does not update by itself without JavaScript: reload it to see progress.</p>
        </noscript>
      ) : null}
    </Layout>
  );
}
