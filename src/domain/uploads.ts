/**
 * Uploads (ours, not ODCS's): RPMs sent to POST /api/1/uploads/ and kept
 * until they expire, the input of `upload` composes. Pure: the types, the
 * storage port the API is given (implemented in src/uploads/), the JSON view.
 */
import type { UploadRow } from "../db/schema.ts";
import { odcsTime } from "./json-view.ts";

/** One validated RPM of an upload, as stored in `uploads.files` and shown in the JSON. */
export interface UploadFile {
  /** File name inside the upload's directory: `<name>-<version>-<release>.<arch>.rpm`. */
  filename: string;
  /** The name the client gave the part or tar member. */
  sent_as: string;
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
  /** `name-[epoch:]version-release.arch`. */
  nevra: string;
  size: number;
  sha256: string;
  /** Lower-case short id of the signing key from the signature header; `null`: unsigned. */
  sigkey: string | null;
}

export interface UploadLimits {
  /** Bytes the whole upload may have (the smaller of the per-upload limit and the quota left). */
  maxBytes: number;
  maxFiles: number;
  /** Said when `maxBytes` is what the quota leaves, so the 413 names the quota. */
  quotaLeft?: { bytes: number; quotaBytes: number };
}

/**
 * Streams an upload's body to storage, validating every file's RPM headers
 * as it goes (never holding a file in memory). Implemented with Node
 * streams in src/uploads/store.ts; injected so src/api stays Node-free.
 */
export interface UploadStore {
  /**
   * Read `body` (multipart/form-data with file parts, or
   * application/x-tar) into the upload `id`'s directory. Throws
   * `InvalidRequestError` (not an RPM, naming the file; a bad body),
   * `PayloadTooLargeError` (over `limits`) — with nothing left on disk.
   */
  receive(
    id: string,
    contentType: string,
    body: ReadableStream<Uint8Array>,
    limits: UploadLimits,
  ): Promise<UploadFile[]>;
  /** Delete the upload's files; idempotent. */
  remove(id: string): Promise<void>;
}

/** Upload ids are random UUIDs; anything else is no upload. */
export const UPLOAD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The stored `files` column, read back. */
export function uploadFiles(row: Pick<UploadRow, "files">): UploadFile[] {
  return JSON.parse(row.files) as UploadFile[];
}

export function toUploadJson(row: UploadRow) {
  return {
    id: row.id,
    owner: row.owner,
    state: row.state,
    size: row.bytes,
    files: uploadFiles(row),
    time_created: odcsTime(row.timeCreated) ?? "",
    time_to_expire: odcsTime(row.timeToExpire) ?? "",
    time_removed: odcsTime(row.timeRemoved),
    removed_by: row.removedBy,
  };
}
export type UploadJson = ReturnType<typeof toUploadJson>;
