import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  createComposeWithJob,
  extendExpiry,
  findCompose,
  getCompose,
  moveCompose,
  requestRemoval,
} from "../db/composes.ts";
import { cancelComposeJobs } from "../db/jobs.ts";
import type { ComposeRow } from "../db/schema.ts";
import { parseCreateRequest, parseSecondsToLive } from "../domain/compose-request.ts";
import { InvalidRequestError, NotFoundError } from "../domain/errors.ts";
import { ANONYMOUS, type Identity, NOAUTH_OWNER } from "../domain/identity.ts";
import { toComposeJson } from "../domain/json-view.ts";
import {
  checkComposePermissions,
  requireAdmin,
  requireAllowedClient,
  requireCancelPermission,
  requireScope,
} from "../domain/permissions.ts";
import { copyForRenewal, needsCopy, parseRenewRequest } from "../domain/renew.ts";
import { bitNames, COMPOSE_STATES, FLAGS, RESULTS, sourceTypeName } from "../domain/states.ts";
import { REASONS } from "../domain/transitions.ts";
import { validateOdcsInput } from "../domain/validate.ts";
import { bodyLimits, readJsonBody } from "./body.ts";
import { AcceptedSchema, ComposeIdParam, ComposeSchema } from "./composes.schemas.ts";
import type { Deps } from "./deps.ts";
import {
  authErrorResponses,
  errorResponses,
  notFoundResponse,
  writeLimitResponses,
} from "./responses.ts";
import { newRouter } from "./router.ts";
import { checkUploadSource } from "./upload-source.ts";

const json = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const bodyRef = (name: string, required: boolean, examples: Record<string, unknown>) => ({
  required,
  content: {
    "application/json": {
      schema: { $ref: `#/components/schemas/${name}` },
      examples: Object.fromEntries(Object.entries(examples).map(([k, value]) => [k, { value }])),
    },
  },
});
const CREATE_EXAMPLES = {
  repo: { source: { type: "repo", source: "/srv/repos/fedora", packages: ["wget"] } },
  tag: {
    source: { type: "tag", source: "f40-build", packages: ["bash"], sigkeys: ["A15B79CC"] },
    arches: ["x86_64", "aarch64"],
    flags: ["no_deps"],
    seconds_to_live: 3600,
  },
  build: { source: { type: "build", source: "", builds: ["bash-5.2.26-3.fc40"] } },
};
const RENEW_EXAMPLES = {
  extend: { seconds_to_live: 86400 },
  resign: { sigkeys: ["A15B79CC"] },
};
const bearer = [{ bearerAuth: [] }];

// Bodies are documented by reference to their schemas (domain/request-schemas.ts)
// and parsed with them in the handler: ODCS reads the body as JSON whatever
// its Content-Type, and checks auth before the body.
const createComposeRoute = createRoute({
  method: "post",
  path: "/",
  operationId: "createCompose",
  tags: ["composes"],
  summary: "Request a new compose",
  security: bearer,
  request: { body: bodyRef("CreateComposeBody", true, CREATE_EXAMPLES) },
  responses: {
    200: json(ComposeSchema, "The new compose, state wait"),
    ...authErrorResponses,
    ...errorResponses,
    ...writeLimitResponses,
  },
});
const renewRoute = createRoute({
  method: "patch",
  path: "/{id}",
  operationId: "renewCompose",
  tags: ["composes"],
  summary: "Renew a compose: extend its expiry, or regenerate a removed/failed one",
  security: bearer,
  request: { params: ComposeIdParam, body: bodyRef("RenewComposeBody", false, RENEW_EXAMPLES) },
  responses: {
    200: json(ComposeSchema, "The renewed compose or its regenerating copy"),
    ...authErrorResponses,
    ...notFoundResponse,
    ...errorResponses,
    ...writeLimitResponses,
  },
});
const deleteRoute = createRoute({
  method: "delete",
  path: "/{id}",
  operationId: "deleteCompose",
  tags: ["composes"],
  summary: "Cancel a waiting or generating compose, or expire a done/failed one",
  security: bearer,
  request: { params: ComposeIdParam },
  responses: {
    202: json(AcceptedSchema, "Accepted"),
    ...authErrorResponses,
    ...notFoundResponse,
    ...errorResponses,
  },
});

const now = (deps: Deps) => deps.clock.now().getTime();
const ownerOf = (id: Identity | null) => id?.username ?? NOAUTH_OWNER;
const queueOpts = (deps: Deps, t: number) => ({
  now: t,
  maxAttempts: deps.config.ODCS_JOB_MAX_ATTEMPTS,
  maxQueuedPerOwner: deps.config.ODCS_MAX_QUEUED_PER_OWNER,
});

async function createCompose(c: Context, deps: Deps) {
  const identity = await deps.auth.authenticate(c.req.header("authorization"));
  const row = await createComposeAs(deps, identity, () =>
    readJsonBody(c, { allowEmpty: false, ...bodyLimits(deps.config) }),
  );
  return c.json(toComposeJson(row, deps.config), 200);
}

/**
 * POST /api/1/composes/ for a known caller (`null`: noauth), shared with the
 * dashboard's form. The body is read after the permission checks, as ODCS
 * checks auth before the body.
 */
export async function createComposeAs(
  deps: Deps,
  identity: Identity | null,
  readBody: () => Promise<unknown>,
): Promise<ComposeRow> {
  requireScope(identity, "new-compose", deps.config);
  requireAllowedClient(identity, deps.config);
  const req = parseCreateRequest(await readBody(), deps.config);
  checkComposePermissions(
    identity,
    {
      source_type: req.sourceTypeName,
      sources: req.sourceItems,
      results: req.resultNames,
      flags: ["no_flags", ...req.flagNames],
      arches: req.archList,
      compose_type: req.composeType,
      target_dir: null,
      raw_config_key: null,
    },
    deps.config,
  );
  await checkUploadSource(deps, identity, req);
  const t = now(deps);
  const row = await createComposeWithJob(
    deps.db,
    {
      owner: ownerOf(identity),
      sourceType: req.sourceType,
      source: req.source,
      timeSubmitted: t,
      timeToExpire: t + req.secondsToLive * 1000,
      flags: req.flags,
      results: req.results,
      arches: req.arches,
      packages: req.packages,
      builds: req.builds,
      sigkeys: req.sigkeys,
      kojiEvent: req.kojiEvent,
      multilibArches: req.multilibArches,
      multilibMethod: req.multilibMethod,
      lookasideRepos: req.lookasideRepos,
      label: req.label,
      composeType: req.composeType,
      targetDir: req.targetDir,
      modularKojiTags: req.modularKojiTags,
      moduleDefaultsUrl: req.moduleDefaultsUrl,
      scratchModules: req.scratchModules,
      parentPungiComposeIds: req.parentPungiComposeIds,
      scratchBuildTasks: req.scratchBuildTasks,
      modules: req.modules,
      respinOf: req.respinOf,
      baseModuleBrName: req.baseModuleBrName,
      baseModuleBrStream: req.baseModuleBrStream,
      baseModuleBrStreamVersionLte: req.baseModuleBrStreamVersionLte,
      baseModuleBrStreamVersionGte: req.baseModuleBrStreamVersionGte,
    },
    queueOpts(deps, t),
  );
  deps.onJobQueued?.();
  return row;
}

/**
 * §8. Deliberate deviations: a non-object body is a 400 (upstream 500s) and
 * unknown fields are a 400 (upstream ignores them), see `parseRenewRequest`.
 */
async function renewCompose(c: Context, deps: Deps, id: number) {
  const identity = await deps.auth.authenticate(c.req.header("authorization"));
  const row = await renewComposeAs(deps, identity, id, () =>
    readJsonBody(c, { allowEmpty: true, ...bodyLimits(deps.config) }),
  );
  return c.json(toComposeJson(row, deps.config), 200);
}

/** PATCH /api/1/composes/{id} for a known caller; the renewed row or its regenerating copy. */
export async function renewComposeAs(
  deps: Deps,
  identity: Identity | null,
  id: number,
  readBody: () => Promise<unknown>,
): Promise<ComposeRow> {
  requireScope(identity, "renew-compose", deps.config);
  requireAllowedClient(identity, deps.config);
  const body = await readBody();
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequestError("The request body must be a JSON object");
  }
  const fields = body as Record<string, unknown>;
  validateOdcsInput(fields);
  const seconds = parseSecondsToLive(fields, deps.config);
  const req = parseRenewRequest(fields);
  const old = await findCompose(deps.db, id);
  if (
    !old ||
    ![COMPOSE_STATES.done, COMPOSE_STATES.failed, COMPOSE_STATES.removed].includes(
      old.state as 2 | 3 | 4,
    )
  ) {
    throw new NotFoundError(`No compose with id ${id} found`);
  }
  checkComposePermissions(
    identity,
    {
      source_type: sourceTypeName(old.sourceType),
      sources: old.source.split(" "),
      results: bitNames(RESULTS, old.results),
      flags: ["no_flags", ...bitNames(FLAGS, old.flags)],
      arches: old.arches.split(" "),
      compose_type: old.composeType ?? "test",
      target_dir: null,
      raw_config_key: null,
    },
    deps.config,
  );
  const t = now(deps);
  if (!needsCopy(old, req)) return extendExpiry(deps.db, old, t + seconds * 1000);
  const row = await createComposeWithJob(
    deps.db,
    copyForRenewal(old, req, ownerOf(identity), t, seconds),
    queueOpts(deps, t),
  );
  deps.onJobQueued?.();
  return row;
}

/**
 * §9. A `wait` compose is cancelled (its queued job too), naming
 * `anonymous` under noauth. Deliberate: upstream can only cancel when Celery
 * is installed and then crashes under noauth (§20 quirk 5); the contract
 * recommends implementing cancel, which `odcs delete` on a waiting compose
 * expects. Otherwise admins mark a done/failed compose for the next sweep.
 *
 * A `generating` compose is cancelled too, by the same rule (owner or
 * admin): a deliberate deviation, upstream answers 400 for it. Its running
 * job is ended with it, and the worker holding the job sees that within
 * ODCS_WORKER_CANCEL_CHECK_MS (a worker in this process at once,
 * `onComposeCanceled`), aborts its downloads and tools and publishes
 * nothing (worker/loop.ts) — so `odcs delete` does what users mean.
 */
async function deleteCompose(c: Context, deps: Deps, id: number) {
  const identity = await deps.auth.authenticate(c.req.header("authorization"));
  return c.json(await deleteComposeAs(deps, identity, id), 202);
}

/**
 * DELETE /api/1/composes/{id} for a known caller: cancel a waiting or
 * generating compose, or mark a done/failed one for removal. The
 * conditional transition is the arbiter against a worker finishing the
 * compose at the same moment: if the worker's `done` committed first, the
 * removal rules apply (admins only).
 */
export async function deleteComposeAs(
  deps: Deps,
  identity: Identity | null,
  id: number,
): Promise<{ message: string; status: 202 }> {
  requireScope(identity, "delete-compose", deps.config);
  const row = await getCompose(deps.db, id);
  const user = identity?.username ?? ANONYMOUS;
  const t = now(deps);
  if (row.state === COMPOSE_STATES.wait || row.state === COMPOSE_STATES.generating) {
    requireCancelPermission(identity, row, deps.config);
    const canceled = await deps.db.transaction(
      async (tx) => {
        const moved = await moveCompose(tx, id, ["wait", "generating"], "failed", t, {
          stateReason: REASONS.canceledBy(user),
        });
        if (moved) await cancelComposeJobs(tx, id, t);
        return moved;
      },
      { behavior: "immediate" },
    );
    if (canceled) {
      deps.waits?.notify(id);
      deps.onComposeCanceled?.(id);
      return { message: `Compose (id=${id}) has been canceled`, status: 202 };
    }
    // A worker finished it meanwhile: fall through to the state rules below.
  }
  requireAdmin(identity, deps.config);
  const removed = await requestRemoval(deps.db, id, user, t);
  if (!removed) {
    throw new InvalidRequestError(
      `Compose (id=${id}) can not be removed, its state need to be in ['done', 'failed'].`,
    );
  }
  return {
    message: `The delete request for compose (id=${id}) has been accepted and will be processed by backend later.`,
    status: 202,
  };
}

/** The writing routes (create, renew, delete); never part of the read-only edge bundle. */
export function composesWriteRouter(deps: Deps) {
  const r = newRouter();
  r.openapi(createComposeRoute, (c) => createCompose(c, deps));
  r.openapi(renewRoute, (c) => renewCompose(c, deps, Number(c.req.valid("param").id)));
  r.openapi(deleteRoute, (c) => deleteCompose(c, deps, Number(c.req.valid("param").id)));
  return r;
}
