import type { ComposeRequest } from "../compose-request.ts";
import type { RepoSourcePolicy } from "./repo.ts";

/** What a per-type check sees of the request (the parsed, not yet stored, body). */
export type SourceRequest = Pick<
  ComposeRequest,
  "sourceTypeName" | "sourceItems" | "packages" | "builds" | "kojiEvent" | "lookasideRepoList"
>;

/** Server settings the per-type checks may use. */
export type SourceRequestSettings = RepoSourcePolicy;
