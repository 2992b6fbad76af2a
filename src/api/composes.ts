import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { listComposes } from "../db/compose-list.ts";
import { getCompose } from "../db/composes.ts";
import { NotFoundError } from "../domain/errors.ts";
import { toComposeDetailJson, toComposeJson } from "../domain/json-view.ts";
import {
  ComposeDetailSchema,
  ComposeIdParam,
  ComposeListSchema,
  ListQuery,
} from "./composes.schemas.ts";
import type { Deps } from "./deps.ts";
import { etagOf, jsonWithEtag, notModifiedResponse, sendJson } from "./etag.ts";
import { ListPageCache } from "./list-cache.ts";
import { firstValues, paginationMeta, parseListQuery } from "./list-query.ts";
import { externalBase } from "./proxy.ts";
import { errorResponses, notFoundResponse } from "./responses.ts";
import { newRouter } from "./router.ts";

const json = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
/** Reads need no identity: an explicitly empty requirement. */
const anonymous: { [name: string]: string[] }[] = [];

const listRoute = createRoute({
  method: "get",
  path: "/",
  operationId: "listComposes",
  tags: ["composes"],
  summary: "List composes (filters, order_by, pagination)",
  security: anonymous,
  request: { query: ListQuery },
  responses: {
    200: json(ComposeListSchema, "One page of composes"),
    ...notModifiedResponse,
    ...errorResponses,
  },
});
const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  operationId: "getCompose",
  tags: ["composes"],
  summary: "Get one compose",
  security: anonymous,
  request: { params: ComposeIdParam },
  responses: {
    200: json(ComposeDetailSchema, "The compose"),
    ...notModifiedResponse,
    ...notFoundResponse,
    ...errorResponses,
  },
});

const corsOk = (c: Context) => c.header("Access-Control-Allow-Origin", "*");

type ComposeList = z.infer<typeof ComposeListSchema>;

/**
 * The reading routes (list, get). The writing ones are in composes-write.ts,
 * so the read-only edge bundle (src/edge.ts) contains none of their code.
 */
export function composesRouter(deps: Deps) {
  const r = newRouter();
  const pages = new ListPageCache();
  r.openapi(listRoute, async (c) => {
    const url = new URL(c.req.url);
    const base = `${externalBase(url, c.req.raw.headers, deps.config.ODCS_TRUST_PROXY)}/api/1/composes/`;
    // Read before the page: see list-cache.ts.
    const writes = deps.readListWrites?.();
    const key = `${base}${url.search}`;
    const hit = writes === undefined ? undefined : pages.get(key, writes);
    if (hit) {
      corsOk(c);
      return sendJson<ComposeList>(c, hit.body, hit.etag);
    }
    const q = firstValues(url.searchParams);
    const req = parseListQuery(q);
    corsOk(c);
    const { rows, total } = deps.readList
      ? deps.readList(req.filters, req.order, req.page, req.perPage)
      : await listComposes(deps.db, req.filters, req.order, req.page, req.perPage);
    const list: ComposeList = {
      items: rows.map((row) => toComposeJson(row, deps.config)),
      meta: paginationMeta(base, q, req.page, req.perPage, total),
    };
    const body = JSON.stringify(list);
    const etag = etagOf(body);
    if (writes !== undefined) pages.set(key, writes, { body, etag });
    return sendJson<ComposeList>(c, body, etag);
  });
  r.openapi(getRoute, async (c) => {
    const id = Number(c.req.valid("param").id);
    const row = deps.readCompose ? deps.readCompose(id) : await getCompose(deps.db, id);
    if (!row) throw new NotFoundError("No such compose found.");
    corsOk(c);
    return jsonWithEtag(c, toComposeDetailJson(row, deps.config));
  });
  return r;
}
