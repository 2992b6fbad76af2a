import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { findUpload, insertUpload, markUploadRemoved, ownerUploadBytes } from "../db/uploads.ts";
import { parseSecondsToLive } from "../domain/compose-request.ts";
import {
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
} from "../domain/errors.ts";
import { ANONYMOUS, type Identity, NOAUTH_OWNER } from "../domain/identity.ts";
import {
  isAdmin,
  requireAllowedClient,
  requireScope,
  requireSourceTypePermission,
} from "../domain/permissions.ts";
import {
  toUploadJson,
  UPLOAD_ID_RE,
  type UploadLimits,
  type UploadStore,
} from "../domain/uploads.ts";
import { bodyLimits, withIdleTimeout } from "./body.ts";
import { ErrorSchema } from "./composes.schemas.ts";
import type { Deps } from "./deps.ts";
import { authErrorResponses, errorResponses } from "./responses.ts";
import { newRouter } from "./router.ts";
import { UploadIdParam, UploadQuery, UploadSchema } from "./uploads.schemas.ts";

const MIB = 1024 ** 2;
const bearer = [{ bearerAuth: [] }];
const json = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const notFound = { 404: json(ErrorSchema, "No such upload") };
const binary = { schema: { type: "string" as const, format: "binary" } };

// The body is documented, not validated by the router: a validator would
// buffer it, and the store streams it (nothing of an upload sits in memory).
const createUploadRoute = createRoute({
  method: "post",
  path: "/",
  operationId: "createUpload",
  tags: ["uploads"],
  summary: "Upload RPMs for an `upload` compose (ours, beyond ODCS)",
  description:
    "One or more RPMs as multipart/form-data file parts, or as one tar stream. Every file's " +
    "RPM headers are checked as it arrives; sizes, file count and the owner's quota are limited " +
    "(ODCS_UPLOAD_MAX_MB, ODCS_UPLOAD_MAX_FILES, ODCS_UPLOAD_QUOTA_MB). Expires like a compose.",
  security: bearer,
  request: {
    query: UploadQuery,
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: {
            type: "object" as const,
            properties: { file: { type: "array" as const, items: binary.schema } },
          },
        },
        "application/x-tar": binary,
      },
    },
  },
  responses: {
    201: json(UploadSchema, "The upload, its files validated and stored"),
    ...authErrorResponses,
    408: json(ErrorSchema, "The body stalled: no byte for ODCS_BODY_IDLE_SECONDS; nothing is kept"),
    413: json(ErrorSchema, "Over the size, file count or quota limit; nothing is kept"),
    503: json(ErrorSchema, "This server process takes no uploads"),
    507: json(
      ErrorSchema,
      "The disk of the upload dir is full; nothing is kept, the same upload may succeed later (`Retry-After`)",
    ),
    ...errorResponses,
  },
});
const getUploadRoute = createRoute({
  method: "get",
  path: "/{id}",
  operationId: "getUpload",
  tags: ["uploads"],
  summary: "An upload and its files",
  security: [],
  request: { params: UploadIdParam },
  responses: { 200: json(UploadSchema, "The upload"), ...notFound, ...errorResponses },
});
const deleteUploadRoute = createRoute({
  method: "delete",
  path: "/{id}",
  operationId: "deleteUpload",
  tags: ["uploads"],
  summary: "Remove an upload and its files (its owner or an admin)",
  security: bearer,
  request: { params: UploadIdParam },
  responses: {
    200: json(UploadSchema, "The upload, removed"),
    ...authErrorResponses,
    ...notFound,
    503: json(ErrorSchema, "This server process takes no uploads"),
    ...errorResponses,
  },
});

const ownerOf = (id: Identity | null) => id?.username ?? NOAUTH_OWNER;

async function getReady(deps: Deps, id: string) {
  const row = UPLOAD_ID_RE.test(id) ? await findUpload(deps.db, id) : undefined;
  if (!row) throw new NotFoundError(`No upload with id ${id}`);
  return row;
}

/** The limits of one upload by `owner`, or 413 when the quota is used up already. */
async function limitsFor(deps: Deps, owner: string, now: number): Promise<UploadLimits> {
  const quota = deps.config.ODCS_UPLOAD_QUOTA_MB * MIB;
  const max = deps.config.ODCS_UPLOAD_MAX_MB * MIB;
  const left = quota - (await ownerUploadBytes(deps.db, owner, now));
  if (left <= 0)
    throw new PayloadTooLargeError(
      `Upload refused: your uploads already use your quota of ${deps.config.ODCS_UPLOAD_QUOTA_MB} MiB (ODCS_UPLOAD_QUOTA_MB); delete some or wait until they expire`,
    );
  return {
    maxBytes: Math.min(max, left),
    maxFiles: deps.config.ODCS_UPLOAD_MAX_FILES,
    ...(left < max ? { quotaLeft: { bytes: left, quotaBytes: quota } } : {}),
  };
}

async function createUpload(c: Context, deps: Deps, store: UploadStore) {
  const identity = await deps.auth.authenticate(c.req.header("authorization"));
  requireScope(identity, "new-upload", deps.config);
  requireAllowedClient(identity, deps.config);
  requireSourceTypePermission(identity, "upload", deps.config);
  const seconds = parseSecondsToLive(
    { seconds_to_live: c.req.query("seconds_to_live") },
    deps.config,
  );
  const raw = c.req.raw.body;
  if (!raw) throw new InvalidRequestError("The upload has no body");
  const body = withIdleTimeout(raw, bodyLimits(deps.config).idleMs);
  const owner = ownerOf(identity);
  const t = deps.clock.now().getTime();
  const limits = await limitsFor(deps, owner, t);
  const id = crypto.randomUUID();
  const files = await store.receive(id, c.req.header("content-type") ?? "", body, limits);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  try {
    // Uploads of one owner running side by side are each within the quota
    // left when they started; the one committing second is checked again here.
    const row = await deps.db.transaction(
      async (tx) => {
        const used = await ownerUploadBytes(tx, owner, t);
        if (used + bytes > deps.config.ODCS_UPLOAD_QUOTA_MB * MIB)
          throw new PayloadTooLargeError(
            `Upload refused: with it your uploads would exceed your quota of ${deps.config.ODCS_UPLOAD_QUOTA_MB} MiB (ODCS_UPLOAD_QUOTA_MB)`,
          );
        return insertUpload(tx, {
          id,
          owner,
          state: "ready",
          bytes,
          files: JSON.stringify(files),
          timeCreated: t,
          timeToExpire: t + seconds * 1000,
        });
      },
      { behavior: "immediate" },
    );
    deps.log.info("upload stored", { upload: id, owner, files: files.length, bytes });
    return c.json(toUploadJson(row), 201);
  } catch (err) {
    await store.remove(id);
    throw err;
  }
}

async function deleteUpload(c: Context, deps: Deps, store: UploadStore, id: string) {
  const identity = await deps.auth.authenticate(c.req.header("authorization"));
  requireScope(identity, "delete-upload", deps.config);
  const row = await getReady(deps, id);
  if (identity !== null && identity.username !== row.owner && !isAdmin(identity, deps.config))
    throw new ForbiddenError(`Upload ${id} can not be removed, it's owned by someone else.`);
  if (row.state !== "ready") throw new InvalidRequestError(`Upload ${id} is removed already`);
  const removed = await markUploadRemoved(
    deps.db,
    id,
    deps.clock.now().getTime(),
    identity?.username ?? ANONYMOUS,
  );
  if (!removed) throw new InvalidRequestError(`Upload ${id} is removed already`);
  await store.remove(id);
  return c.json(toUploadJson(removed), 200);
}

/**
 * POST, GET and DELETE /api/1/uploads/. Without a store (a process that
 * cannot write files) POST answers 503; the read-only edge app mounts none
 * of this (its 405 names the origin server).
 */
export function uploadsRouter(deps: Deps) {
  const r = newRouter();
  const store = (): UploadStore => {
    if (deps.uploads) return deps.uploads;
    throw new HTTPException(503, {
      message: "This server process takes no uploads (it has no upload store)",
    });
  };
  r.openapi(createUploadRoute, (c) => createUpload(c, deps, store()));
  r.openapi(getUploadRoute, async (c) =>
    c.json(toUploadJson(await getReady(deps, c.req.valid("param").id)), 200),
  );
  r.openapi(deleteUploadRoute, (c) => deleteUpload(c, deps, store(), c.req.valid("param").id));
  return r;
}
