/** @jsxImportSource hono/jsx */
import { allowedClientsForAbout } from "../domain/permissions.ts";
import type { PageContext } from "./context.ts";
import { Layout } from "./layout.tsx";

function Entries(props: { title: string; entries: Record<string, Record<string, string[]>> }) {
  const names = Object.keys(props.entries);
  return (
    <>
      <h3>{props.title}</h3>
      {names.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <dl>
          {names.map((n) => (
            <>
              <dt>{n}</dt>
              <dd>
                {Object.entries(props.entries[n] ?? {})
                  .map(([k, v]) => `${k}: ${v.join(", ") || "any"}`)
                  .join("; ") || "no restrictions"}
              </dd>
            </>
          ))}
        </dl>
      )}
    </>
  );
}

/** What /api/1/about/ publishes, for people, plus where to find the rest. */
export function AboutPage(props: { ctx: PageContext }) {
  const { ctx } = props;
  const { config } = ctx.deps;
  const clients = allowedClientsForAbout(config);
  return (
    <Layout ctx={ctx} title="About" current="about">
      <h1>About this service</h1>
      <dl class="summary-fields">
        <dt>Version</dt>
        <dd data-testid="version">{ctx.deps.version}</dd>
        <dt>Authentication</dt>
        <dd data-testid="auth-backend">{ctx.backend}</dd>
        <dt>Default signing keys</dt>
        <dd>
          {config.ODCS_SIGKEYS.length > 0 ? config.ODCS_SIGKEYS.join(", ") : "none (unsigned)"}
        </dd>
        <dt>Default arches</dt>
        <dd>{config.ODCS_ARCHES.join(", ")}</dd>
        <dt>Default lifetime</dt>
        <dd>
          {config.ODCS_SECONDS_TO_LIVE} s (at most {config.ODCS_MAX_SECONDS_TO_LIVE} s)
        </dd>
      </dl>
      <section aria-labelledby="clients-h">
        <h2 id="clients-h">Allowed clients</h2>
        <Entries title="Groups" entries={clients.groups} />
        <Entries title="Users" entries={clients.users} />
      </section>
      <section aria-labelledby="api-h">
        <h2 id="api-h">API</h2>
        <ul>
          <li>
            <a href={ctx.href("/api/1/docs")}>API reference (OpenAPI)</a> ·{" "}
            <a href={ctx.href("/api/1/openapi.json")}>openapi.json</a>
          </li>
          <li>
            <a href={ctx.href("/api/1/about/")}>/api/1/about/</a> (this information as JSON)
          </li>
          <li>
            <a href={ctx.href("/api/1/metrics/")}>Prometheus metrics</a>
          </li>
          <li>
            <a href={ctx.href("/api/1/events/")}>Event stream</a> (Server-Sent Events)
          </li>
        </ul>
      </section>
    </Layout>
  );
}
