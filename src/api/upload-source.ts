import { findUpload } from "../db/uploads.ts";
import type { ComposeRequest } from "../domain/compose-request.ts";
import { ForbiddenError, InvalidRequestError } from "../domain/errors.ts";
import type { Identity } from "../domain/identity.ts";
import { odcsTime } from "../domain/json-view.ts";
import { isAdmin } from "../domain/permissions.ts";
import type { Deps } from "./deps.ts";

/**
 * The request-time check of an `upload` compose: its upload exists, is
 * neither removed nor expired, and belongs to the caller (or the caller is
 * an admin). Nothing for other source types.
 */
export async function checkUploadSource(
  deps: Deps,
  identity: Identity | null,
  req: Pick<ComposeRequest, "sourceTypeName" | "sourceItems">,
): Promise<void> {
  if (req.sourceTypeName !== "upload") return;
  const id = req.sourceItems[0] ?? "";
  const row = await findUpload(deps.db, id);
  if (!row) throw new InvalidRequestError(`No upload with id ${id}`);
  if (row.state !== "ready")
    throw new InvalidRequestError(
      `Upload ${id} was removed at ${odcsTime(row.timeRemoved)}; upload the RPMs again`,
    );
  if (row.timeToExpire <= deps.clock.now().getTime())
    throw new InvalidRequestError(
      `Upload ${id} expired at ${odcsTime(row.timeToExpire)}; upload the RPMs again`,
    );
  if (identity !== null && identity.username !== row.owner && !isAdmin(identity, deps.config))
    throw new ForbiddenError(
      `Upload ${id} is owned by ${row.owner}; only its owner or an admin may compose from it`,
    );
}
