import { InvalidRequestError } from "../errors.ts";
import { UPLOAD_ID_RE } from "../uploads.ts";
import type { SourceRequest } from "./types.ts";

/**
 * An `upload` compose (ours): `source` is one upload id. Whether that
 * upload exists, is unexpired and is the caller's needs the database, so
 * the API checks it next (api/upload-source.ts).
 */
export function validateUploadRequest(req: SourceRequest): void {
  if (req.sourceItems.length !== 1)
    throw new InvalidRequestError(
      `An "upload" compose takes one upload id in "source" (POST /api/1/uploads/ answers it), not ${req.sourceItems.length}`,
    );
  const id = req.sourceItems[0] ?? "";
  if (!UPLOAD_ID_RE.test(id))
    throw new InvalidRequestError(
      `"${id}" is not an upload id: POST the RPMs to /api/1/uploads/ and use the "id" it answers`,
    );
  if (req.builds !== null && req.builds !== "")
    throw new InvalidRequestError('An "upload" compose takes no "builds"');
}
