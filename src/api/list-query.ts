import { type ComposeFilters, ORDER_KEYS, type OrderKey } from "../db/composes.ts";
import { InvalidRequestError } from "../domain/errors.ts";
import { COMPOSE_STATES, SOURCE_TYPES } from "../domain/states.ts";

/** ODCS list defaults (§5.1). */
export const DEFAULT_PER_PAGE = 10;
const NONPOSITIVE_PER_PAGE = 20;
export const MAX_PER_PAGE = 1000;
const MAX_PAGE = 1_000_000_000;

/** Matches nothing: an unknown state/source type name filters everything out, as upstream. */
const NO_MATCH = -1;

export interface ListRequest {
  filters: ComposeFilters;
  order: { key: OrderKey; descending: boolean };
  page: number;
  perPage: number;
}

function codeOrName(value: string, table: Record<string, number>): number {
  if (/^\d+$/.test(value)) return Number(value);
  return Object.hasOwn(table, value) ? (table[value] ?? NO_MATCH) : NO_MATCH;
}

function intOr(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^\s*[+-]?\d+\s*$/.test(value)) return fallback;
  return Number(value.trim());
}

/** First value of each query parameter, in request order. */
export function firstValues(params: URLSearchParams): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of params) if (!out.has(k)) out.set(k, v);
  return out;
}

/**
 * Parse list parameters as ODCS does (§5.1): empty values do not filter,
 * state/source_type accept codes and names, bad page/per_page fall back to
 * the defaults. Deviation: `source_type` is an order key (upstream rejects it
 * and crashes on its own `source_Type`, which we also accept), and pages or
 * page sizes beyond sane bounds are a 400 instead of a database overflow.
 */
export function parseListQuery(q: Map<string, string>): ListRequest {
  const filters: ComposeFilters = {};
  const str = (k: string) => {
    const v = q.get(k);
    return v === undefined || v === "" ? undefined : v;
  };
  filters.owner = str("owner");
  filters.source = str("source");
  filters.pungiComposeId = str("pungi_compose_id");
  filters.composeType = str("compose_type");
  filters.label = str("label");
  const state = str("state");
  if (state !== undefined) filters.state = codeOrName(state, COMPOSE_STATES);
  const sourceType = str("source_type");
  if (sourceType !== undefined) filters.sourceType = codeOrName(sourceType, SOURCE_TYPES);
  const task = str("koji_task_id");
  if (task !== undefined) filters.kojiTaskId = /^\d+$/.test(task) ? Number(task) : NO_MATCH;

  const rawOrder = q.get("order_by") ?? "-id";
  const descending = rawOrder.length > 1 && rawOrder.startsWith("-");
  const name = descending ? rawOrder.slice(1) : rawOrder;
  const key = (name === "source_Type" ? "source_type" : name) as OrderKey;
  if (!ORDER_KEYS.includes(key)) {
    throw new InvalidRequestError(
      `An invalid order_by key was suplied, allowed keys are: [${ORDER_KEYS.map((k) => `'${k}'`).join(", ")}]`,
    );
  }

  let page = intOr(q.get("page"), 1);
  if (page < 1) page = 1;
  let perPage = intOr(q.get("per_page"), DEFAULT_PER_PAGE);
  if (perPage < 1) perPage = NONPOSITIVE_PER_PAGE;
  if (page > MAX_PAGE) throw new InvalidRequestError(`page must be at most ${MAX_PAGE}`);
  if (perPage > MAX_PER_PAGE)
    throw new InvalidRequestError(`per_page must be at most ${MAX_PER_PAGE}`);
  return { filters, order: { key, descending }, page, perPage };
}

/** application/x-www-form-urlencoded as upstream writes links: only A-Za-z0-9-._~ kept. */
export function formEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

/** The `meta` object with absolute pagination links (§5.2). */
export function paginationMeta(
  base: string,
  q: Map<string, string>,
  page: number,
  perPage: number,
  total: number,
) {
  const pages = total === 0 ? 0 : Math.ceil(total / perPage);
  const rest = [...q]
    .filter(([k]) => k !== "page" && k !== "per_page" && k !== "endpoint" && !k.startsWith("_"))
    .map(([k, v]) => `&${formEncode(k)}=${formEncode(v)}`)
    .join("");
  const link = (p: number) => `${base}?page=${p}&per_page=${perPage}${rest}`;
  return {
    first: link(1),
    last: link(pages),
    next: page < pages ? link(page + 1) : null,
    page,
    pages,
    per_page: perPage,
    prev: page > 1 ? link(page - 1) : null,
    total,
  };
}
