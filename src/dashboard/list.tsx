/** @jsxImportSource hono/jsx */
import { firstValues, parseListQuery } from "../api/list-query.ts";
import { type ComposeFilters, listComposes, ORDER_KEYS } from "../db/compose-list.ts";
import { SEARCH_WINDOW, searchComposes } from "../db/dashboard.ts";
import type { ComposeRow } from "../db/schema.ts";
import { SOURCE_TYPE_NAMES, STATE_NAMES } from "../domain/states.ts";
import { ScrollBox, StateBadge, Time } from "./components.tsx";
import type { PageContext } from "./context.ts";
import { STATE_LABELS, sourceTypeLabel } from "./format.ts";
import { Layout } from "./layout.tsx";
import { PATHS } from "./paths.ts";

export const PER_PAGE_CHOICES = [10, 20, 50, 100];
const DEFAULT_PER_PAGE = 20;

const ORDER_LABELS: Record<string, string> = {
  "-id": "Newest first",
  id: "Oldest first",
  "-time_submitted": "Submitted, newest",
  "-time_done": "Finished, newest",
  time_to_expire: "Expiring soonest",
  state: "State",
  owner: "Owner",
  source_type: "Source type",
};

/** The list's query: the API's list parameters plus `q` (text search). */
export interface ListParams {
  raw: Map<string, string>;
  q: string;
}

export function listParams(url: URL): ListParams {
  const raw = firstValues(url.searchParams);
  if (!raw.has("per_page")) raw.set("per_page", String(DEFAULT_PER_PAGE));
  return { raw, q: (raw.get("q") ?? "").trim() };
}

export async function loadList(ctx: PageContext, params: ListParams) {
  const req = parseListQuery(params.raw);
  const perPage = Math.min(req.perPage, 100);
  const filters: ComposeFilters = req.filters;
  if (params.q !== "") {
    const r = await searchComposes(ctx.deps.db, params.q, filters, req.order, req.page, perPage);
    return { ...r, page: req.page, perPage };
  }
  const read = ctx.deps.readList;
  const r = read
    ? read(filters, req.order, req.page, perPage)
    : await listComposes(ctx.deps.db, filters, req.order, req.page, perPage);
  return { ...r, page: req.page, perPage };
}

function pageHref(ctx: PageContext, raw: Map<string, string>, page: number): string {
  const q = new URLSearchParams([...raw].filter(([k, v]) => k !== "page" && v !== ""));
  q.set("page", String(page));
  return ctx.href(`${PATHS.list}?${q.toString()}`);
}

function Filters(props: { raw: Map<string, string> }) {
  const v = (k: string) => props.raw.get(k) ?? "";
  return (
    <form method="get" class="filters" aria-label="Filter composes">
      <div class="grid-filters">
        <div>
          <label for="f-q">Search source or packages</label>
          <input id="f-q" type="search" name="q" value={v("q")} placeholder="e.g. bash" />
        </div>
        <div>
          <label for="f-state">State</label>
          <select id="f-state" name="state">
            <option value="">any</option>
            {STATE_NAMES.map((s) => (
              <option value={s} selected={v("state") === s}>
                {STATE_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-source_type">Source type</label>
          <select id="f-source_type" name="source_type">
            <option value="">any</option>
            {SOURCE_TYPE_NAMES.map((s) => (
              <option value={s} selected={v("source_type") === s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-owner">Owner</label>
          <input id="f-owner" type="text" name="owner" value={v("owner")} autocomplete="off" />
        </div>
        <div>
          <label for="f-label">Label</label>
          <input id="f-label" type="text" name="label" value={v("label")} autocomplete="off" />
        </div>
        <div>
          <label for="f-order_by">Sort</label>
          <select id="f-order_by" name="order_by">
            {Object.entries(ORDER_LABELS)
              .filter(([k]) => ORDER_KEYS.includes(k.replace(/^-/, "") as never))
              .map(([k, label]) => (
                <option value={k} selected={(v("order_by") || "-id") === k}>
                  {label}
                </option>
              ))}
          </select>
        </div>
        <div>
          <label for="f-per_page">Per page</label>
          <select id="f-per_page" name="per_page">
            {PER_PAGE_CHOICES.map((n) => (
              <option value={String(n)} selected={v("per_page") === String(n)}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div class="filter-buttons">
        <button type="submit">Apply filters</button>
        <a href="?" class="secondary">
          Clear
        </a>
      </div>
    </form>
  );
}

export function ComposeRowView(props: { ctx: PageContext; row: ComposeRow }) {
  const { ctx, row } = props;
  return (
    <tr data-compose-id={String(row.id)} data-state-code={String(row.state)}>
      <td data-label="Id">
        <a href={ctx.href(PATHS.compose(row.id))} aria-label={`Compose ${row.id}`}>
          {row.id}
        </a>
      </td>
      <td data-label="State" data-field="state">
        <StateBadge state={row.state} />
      </td>
      <td data-label="Source" class="source">
        <span class="muted">{sourceTypeLabel(row.sourceType)}</span>{" "}
        <span class="wrap">{row.source || row.builds || "—"}</span>
      </td>
      <td data-label="Owner">{row.owner}</td>
      <td data-label="Label">{row.label ?? "—"}</td>
      <td data-label="Submitted">
        <Time ms={row.timeSubmitted} now={ctx.now} />
      </td>
      <td data-label="Finished">
        <Time ms={row.timeDone} now={ctx.now} field="time_done" />
      </td>
    </tr>
  );
}

export function ListPage(props: {
  ctx: PageContext;
  params: ListParams;
  result: { rows: ComposeRow[]; total: number; page: number; perPage: number };
  error?: string;
}) {
  const { ctx, params, result } = props;
  const pages = Math.max(1, Math.ceil(result.total / result.perPage));
  return (
    <Layout ctx={ctx} title="Composes" current="list" live={{ page: "list" }}>
      <h1>Composes</h1>
      <Filters raw={params.raw} />
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <p class="summary" aria-live="polite">
        <span data-testid="total">{result.total}</span> compose{result.total === 1 ? "" : "s"}
        {params.q !== "" ? ` matching “${params.q}” among the newest ${SEARCH_WINDOW}` : ""}
        {" · "}page {result.page} of {pages}
        <span class="live-note" hidden>
          {" · "}
          <a href={pageHref(ctx, params.raw, 1)} data-testid="new-composes">
            new composes: reload
          </a>
        </span>
      </p>
      <ScrollBox label="Composes">
        <table class="composes striped">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">State</th>
              <th scope="col">Source</th>
              <th scope="col">Owner</th>
              <th scope="col">Label</th>
              <th scope="col">Submitted</th>
              <th scope="col">Finished</th>
            </tr>
          </thead>
          <tbody>
            {result.rows.map((row) => (
              <ComposeRowView ctx={ctx} row={row} />
            ))}
          </tbody>
        </table>
      </ScrollBox>
      {result.rows.length === 0 ? <p>No composes match.</p> : null}
      <nav aria-label="Pagination" class="pagination">
        <ul>
          <li>
            {result.page > 1 ? (
              <a href={pageHref(ctx, params.raw, result.page - 1)} rel="prev">
                ← Previous page
              </a>
            ) : (
              <span aria-disabled="true" class="muted">
                ← Previous page
              </span>
            )}
          </li>
          <li>
            {result.page < pages ? (
              <a href={pageHref(ctx, params.raw, result.page + 1)} rel="next">
                Next page →
              </a>
            ) : (
              <span aria-disabled="true" class="muted">
                Next page →
              </span>
            )}
          </li>
        </ul>
      </nav>
    </Layout>
  );
}
