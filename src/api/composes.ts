import { createRoute } from "@hono/zod-openapi";
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
import { jsonWithEtag, notModifiedResponse } from "./etag.ts";
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

/**
 * The reading routes (list, get). The writing ones are in composes-write.ts,
 * so the read-only edge bundle (src/edge.ts) contains none of their code.
 */
export function composesRouter(deps: Deps) {
  const r = newRouter();
  r.openapi(listRoute, async (c) => {
    const url = new URL(c.req.url);
    const q = firstValues(url.searchParams);
    const req = parseListQuery(q);
    const { rows, total } = deps.readList
      ? deps.readList(req.filters, req.order, req.page, req.perPage)
      : await listComposes(deps.db, req.filters, req.order, req.page, req.perPage);
    const base = `${externalBase(url, c.req.raw.headers, deps.config.ODCS_TRUST_PROXY)}/api/1/composes/`;
    corsOk(c);
    return jsonWithEtag(c, {
      items: rows.map((row) => toComposeJson(row, deps.config)),
      meta: paginationMeta(base, q, req.page, req.perPage, total),
    });
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
