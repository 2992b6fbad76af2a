import { z } from "zod";
import { ComposeError } from "../errors.ts";
import { type PulpConnection, pulpJson, serverRoot } from "./client.ts";
import type { PulpRepoInfo } from "./reduce.ts";

/** How a Pulp API generation finds repositories (reference/pulp.md §1, §2). */
export interface PulpLookup {
  /** The repos of these content sets, grouped by content set, in the server's order. */
  byContentSets(
    contentSets: readonly string[],
    includeUnpublished: boolean,
  ): Promise<Map<string, PulpRepoInfo[]>>;
  /** The repo with this id; `undefined` if there is none, or it is unpublished and those are not wanted. */
  byId(id: string, includeUnpublished: boolean): Promise<PulpRepoInfo | undefined>;
}

const Notes = z.record(z.string(), z.unknown());

/** ODCS downgrades https to http (OSBS builds could not verify TLS). */
function httpUrl(url: string): string {
  return url.startsWith("https://") ? `http://${url.slice("https://".length)}` : url;
}

function note(notes: Record<string, unknown>, key: string): string | undefined {
  const v = notes[key];
  return typeof v === "string" ? v : v === undefined || v === null ? undefined : String(v);
}

function requiredNote(id: string, notes: Record<string, unknown>, key: string, what: string) {
  const v = note(notes, key);
  if (!v) throw new ComposeError(`Pulp repository ${id} has no "${key}" ${what}`);
  return v;
}

/** `_make_repo_info` over Pulp 2 notes or Pulp 3 labels. */
function repoInfo(
  id: string,
  notes: Record<string, unknown>,
  url: string,
  what: "note" | "label",
): PulpRepoInfo {
  return {
    id,
    contentSet: note(notes, "content_set") ?? "",
    url: httpUrl(url),
    arch: requiredNote(id, notes, "arch", what),
    sigkeys: (note(notes, "signatures") ?? "")
      .split(",")
      .filter((k) => k !== "")
      .sort(),
    productVersions: note(notes, "product_versions") ?? "",
  };
}

// ODCS tested the raw note for truthiness, so "False" counted as published.
const isPublished = (notes: Record<string, unknown>) =>
  notes.include_in_download_service === "True" || notes.include_in_download_service === true;

function group(repos: PulpRepoInfo[]): Map<string, PulpRepoInfo[]> {
  const out = new Map<string, PulpRepoInfo[]>();
  for (const r of repos) {
    const list = out.get(r.contentSet);
    if (list) list.push(r);
    else out.set(r.contentSet, [r]);
  }
  return out;
}

const Pulp2Repo = z.object({ id: z.string(), notes: Notes.default({}) });

/** Pulp 2: `POST repositories/search/` with Mongo criteria; `GET repositories/<id>/`. */
export function pulp2Lookup(conn: PulpConnection): PulpLookup {
  const api = `${serverRoot(conn)}/pulp/api/v2/`;
  const info = (r: z.infer<typeof Pulp2Repo>) =>
    repoInfo(
      r.id,
      r.notes,
      `${serverRoot(conn)}/${requiredNote(r.id, r.notes, "relative_url", "note")}`,
      "note",
    );
  return {
    async byContentSets(contentSets, includeUnpublished) {
      const filters: Record<string, unknown> = { "notes.content_set": { $in: contentSets } };
      if (!includeUnpublished) filters["notes.include_in_download_service"] = "True";
      const found = await pulpJson(conn, "POST", `${api}repositories/search/`, z.array(Pulp2Repo), {
        body: { criteria: { filters, fields: ["notes", "id"] } },
      });
      return group((found ?? []).map(info));
    },
    async byId(id, includeUnpublished) {
      const repo = await pulpJson(
        conn,
        "GET",
        `${api}repositories/${encodeURIComponent(id)}/`,
        Pulp2Repo,
        { allow404: true },
      );
      if (!repo || !(includeUnpublished || isPublished(repo.notes))) return undefined;
      return info(repo);
    },
  };
}

const Page = <T extends z.ZodType>(item: T) =>
  z.object({ count: z.number(), next: z.string().nullable(), results: z.array(item) });
const Pulp3Repo = z.object({
  pulp_href: z.string(),
  name: z.string(),
  pulp_labels: Notes.default({}),
});
const Pulp3Distribution = z.object({ base_url: z.string(), base_path: z.string() });

/** Bound on pages followed, so a server whose `next` never ends cannot hold a worker. */
const MAX_PAGES = 1000;

/**
 * Pulp 3: repositories by label (`pulp_label_select`, our label scheme of
 * the Pulp 2 notes), each served at its distribution's `base_url`.
 */
export function pulp3Lookup(conn: PulpConnection): PulpLookup {
  const root = serverRoot(conn);
  const api = `${root}/pulp/api/v3/`;
  const origin = new URL(root).origin;
  async function list<T>(url: string, item: z.ZodType<T>): Promise<T[]> {
    const out: T[] = [];
    let next: string | null = url;
    for (let pages = 0; next !== null; pages++) {
      if (pages >= MAX_PAGES)
        throw new ComposeError(`Pulp answered more than ${MAX_PAGES} pages for ${url}`);
      if (new URL(next).origin !== origin)
        throw new ComposeError(`Pulp's next page ${next} is not on ${origin} (ODCS_PULP_URL)`);
      const page: { next: string | null; results: T[] } | undefined = await pulpJson(
        conn,
        "GET",
        next,
        Page(item),
      );
      out.push(...(page?.results ?? []));
      next = page?.next ?? null;
    }
    return out;
  }
  async function info(repo: z.infer<typeof Pulp3Repo>): Promise<PulpRepoInfo | undefined> {
    const dists = await list(
      `${api}distributions/rpm/rpm/?repository=${encodeURIComponent(repo.pulp_href)}`,
      Pulp3Distribution,
    );
    const dist = dists[0];
    if (!dist) return undefined; // not served anywhere: as good as absent
    return repoInfo(repo.name, repo.pulp_labels, dist.base_url.replace(/\/+$/, ""), "label");
  }
  return {
    async byContentSets(contentSets, includeUnpublished) {
      const perSet = await Promise.all(
        contentSets.map((cs) => {
          const select = `content_set=${cs.replace(/,/g, "\\,")}${includeUnpublished ? "" : ",include_in_download_service=True"}`;
          return list(
            `${api}repositories/rpm/rpm/?pulp_label_select=${encodeURIComponent(select)}`,
            Pulp3Repo,
          );
        }),
      );
      const infos = await Promise.all(perSet.flat().map(info));
      return group(infos.filter((r): r is PulpRepoInfo => r !== undefined));
    },
    async byId(id, includeUnpublished) {
      const [repo] = await list(
        `${api}repositories/rpm/rpm/?name=${encodeURIComponent(id)}`,
        Pulp3Repo,
      );
      if (!repo || !(includeUnpublished || isPublished(repo.pulp_labels))) return undefined;
      return info(repo);
    },
  };
}
