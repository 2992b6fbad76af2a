/** @jsxImportSource hono/jsx */
import type { ActiveJob } from "../db/dashboard.ts";
import type { ComposeRow } from "../db/schema.ts";
import { ScrollBox, StateBadge, Time } from "./components.tsx";
import type { PageContext } from "./context.ts";
import { duration, sourceTypeLabel } from "./format.ts";
import { Layout } from "./layout.tsx";
import { PATHS } from "./paths.ts";

export function QueuePage(props: {
  ctx: PageContext;
  items: { job: ActiveJob; compose: ComposeRow }[];
}) {
  const { ctx, items } = props;
  const running = items.filter((i) => i.job.state === "running").length;
  return (
    <Layout ctx={ctx} title="Queue" current="queue" live={{ page: "queue" }}>
      <h1>Queue</h1>
      <p>
        <span data-testid="waiting">{items.length - running}</span> waiting,{" "}
        <span data-testid="running">{running}</span> generating.
      </p>
      {items.length === 0 ? (
        <p>Nothing is queued.</p>
      ) : (
        <ScrollBox label="Queue">
          <table class="composes striped">
            <thead>
              <tr>
                <th scope="col">Compose</th>
                <th scope="col">State</th>
                <th scope="col">Source</th>
                <th scope="col">Age</th>
                <th scope="col">Worker</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {items.map(({ job, compose }) => (
                <tr data-compose-id={String(compose.id)} data-state-code={String(compose.state)}>
                  <td data-label="Compose">
                    <a href={ctx.href(PATHS.compose(compose.id))}>{compose.id}</a>
                  </td>
                  <td data-label="State" data-field="state">
                    <StateBadge state={compose.state} />
                  </td>
                  <td data-label="Source" class="source">
                    <span class="muted">{sourceTypeLabel(compose.sourceType)}</span>{" "}
                    <span class="wrap">{compose.source || compose.builds}</span>
                  </td>
                  <td data-label="Age">
                    <span title="since submitted">{duration(ctx.now - compose.timeSubmitted)}</span>
                  </td>
                  <td data-label="Worker">
                    {job.state === "running" ? (
                      <>
                        {job.lockedBy ?? "—"}
                        {job.leaseUntil !== null ? (
                          <small class="muted">
                            {" "}
                            lease <Time ms={job.leaseUntil} now={ctx.now} />
                          </small>
                        ) : null}
                      </>
                    ) : job.runAt > ctx.now ? (
                      <span>
                        retry <Time ms={job.runAt} now={ctx.now} />
                      </span>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td data-label="Attempts">
                    {job.attempts} of {job.maxAttempts}
                    {job.lastError ? (
                      <small class="muted wrap" title={job.lastError}>
                        {" "}
                        (last error: {job.lastError.slice(0, 120)})
                      </small>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
    </Layout>
  );
}
