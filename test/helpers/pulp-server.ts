/**
 * A protocol-level Pulp server for tests, on 127.0.0.1, answering only what
 * ODCS-TS asks of a real one, in the shapes of /work/shared/reference/pulp.md:
 *
 * - Pulp 2: `POST /pulp/api/v2/repositories/search/` (Mongo-style criteria:
 *   `filters` with equality or `$in` on `id` and `notes.<key>`, `fields`),
 *   `GET /pulp/api/v2/repositories/<id>/` (404 body `Missing resource(s)`).
 * - Pulp 3: `GET /pulp/api/v3/repositories/rpm/rpm/` (filters
 *   `pulp_label_select`, `name`, `name__in`) and
 *   `GET /pulp/api/v3/distributions/rpm/rpm/` (filters `repository`, `name`,
 *   `base_path`), paginated with `limit`/`offset` (default 100) and absolute
 *   `next`/`previous` links.
 * - HTTP Basic auth on every API path (401 without or with wrong credentials).
 * - Published content, without auth: a repository's directory at
 *   `/<relative_url>/` (what ODCS's Pulp 2 URLs point at) and at
 *   `/pulp/content/<base_path>/` (Pulp 3's `base_url`).
 *
 * One model feeds both APIs: a repository is its Pulp 2 notes; in Pulp 3 its
 * notes other than `relative_url` are its `pulp_labels`, and a distribution
 * serves it at `base_path` = `relative_url`. Nothing here imports from src/.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join, normalize } from "node:path";

export interface PulpRepoSpec {
  id: string;
  /** Pulp 2 notes, all strings: content_set, arch, relative_url, signatures, product_versions, include_in_download_service … */
  notes: Record<string, string>;
  /** A yum repository directory served at the repo's URLs. */
  dir?: string;
  /** Pulp 3: no distribution serves it. */
  undistributed?: boolean;
}

export interface PulpRequest {
  method: string;
  path: string;
  authorized: boolean;
}

export interface PulpServer {
  /** Server root, e.g. http://127.0.0.1:40123/ (what ODCS_PULP_URL names). */
  url: string;
  username: string;
  password: string;
  repos: PulpRepoSpec[];
  requests: PulpRequest[];
  close(): Promise<void>;
}

const uuid = (n: number, kind: number) =>
  `0190${kind.toString(16)}a1b-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;

/** Splits a `pulp_label_select` on commas not escaped as `\,`. */
function labelTerms(select: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < select.length; i++) {
    const ch = select[i];
    if (ch === "\\" && select[i + 1] === ",") {
      cur += ",";
      i++;
    } else if (ch === ",") {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((t) => t !== "");
}

function matchesLabels(labels: Record<string, string>, select: string): boolean {
  return labelTerms(select).every((term) => {
    let m = /^([^!=~]+)!=(.*)$/.exec(term);
    if (m) return labels[m[1] ?? ""] !== m[2];
    m = /^([^!=~]+)=(.*)$/.exec(term);
    if (m) return labels[m[1] ?? ""] === m[2];
    m = /^([^!=~]+)~(.*)$/.exec(term);
    if (m)
      return (labels[m[1] ?? ""] ?? "\u0000").toLowerCase().includes((m[2] ?? "").toLowerCase());
    if (term.startsWith("!")) return !(term.slice(1) in labels);
    return term in labels;
  });
}

function matchesFilter(repo: PulpRepoSpec, key: string, cond: unknown): boolean {
  const value =
    key === "id" ? repo.id : key.startsWith("notes.") ? repo.notes[key.slice(6)] : undefined;
  if (cond !== null && typeof cond === "object" && "$in" in cond) {
    const list = (cond as { $in: unknown }).$in;
    return Array.isArray(list) && list.includes(value);
  }
  return value === cond;
}

function pulp2Repo(repo: PulpRepoSpec, n: number): Record<string, unknown> {
  return {
    _href: `/pulp/api/v2/repositories/${repo.id}/`,
    _id: { $oid: `5f${n.toString(16).padStart(22, "0")}` },
    _ns: "repos",
    content_unit_counts: { rpm: 0 },
    description: null,
    display_name: repo.id,
    id: repo.id,
    last_unit_added: null,
    last_unit_removed: null,
    locally_stored_units: 0,
    notes: repo.notes,
    scratchpad: {},
    total_repository_units: 0,
  };
}

/** Start the server (see the file comment); `repos` may be changed while it runs. */
export async function startPulpServer(
  opts: { repos?: PulpRepoSpec[]; username?: string; password?: string; pageSize?: number } = {},
): Promise<PulpServer> {
  const state = {
    repos: opts.repos ?? [],
    requests: [] as PulpRequest[],
    username: opts.username ?? "odcs",
    password: opts.password ?? "s3cret",
  };
  const pageSize = opts.pageSize ?? 100;
  let origin = "";

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  };

  const repoHref = (i: number) => `/pulp/api/v3/repositories/rpm/rpm/${uuid(i, 1)}/`;
  const pulp3Repos = () =>
    state.repos.map((r, i) => {
      const { relative_url: _, ...labels } = r.notes;
      return {
        pulp_href: repoHref(i),
        prn: `prn:rpm.rpmrepository:${uuid(i, 1)}`,
        pulp_created: "2024-06-21T16:45:21.953880Z",
        pulp_last_updated: "2024-06-21T16:45:21.953892Z",
        versions_href: `${repoHref(i)}versions/`,
        latest_version_href: `${repoHref(i)}versions/1/`,
        pulp_labels: labels,
        name: r.id,
        description: null,
        retain_repo_versions: null,
        remote: null,
        autopublish: true,
        retain_package_versions: 0,
        checksum_type: null,
        layout: null,
        gpgcheck: 0,
        repo_gpgcheck: 0,
        repo_config: {},
      };
    });
  const pulp3Distributions = () =>
    state.repos.flatMap((r, i) =>
      r.undistributed
        ? []
        : [
            {
              pulp_href: `/pulp/api/v3/distributions/rpm/rpm/${uuid(i, 2)}/`,
              prn: `prn:rpm.rpmdistribution:${uuid(i, 2)}`,
              pulp_created: "2024-06-21T16:46:00.000000Z",
              pulp_last_updated: "2024-06-21T16:46:00.000000Z",
              name: r.id,
              base_path: r.notes.relative_url ?? r.id,
              base_url: `${origin}/pulp/content/${r.notes.relative_url ?? r.id}/`,
              content_guard: null,
              hidden: false,
              pulp_labels: {},
              repository: repoHref(i),
              publication: null,
              generate_repo_config: true,
            },
          ],
    );

  const page = (res: ServerResponse, url: URL, items: unknown[]) => {
    const limit = Math.max(1, Number(url.searchParams.get("limit") ?? pageSize) || pageSize);
    const offset = Math.max(0, Number(url.searchParams.get("offset") ?? 0) || 0);
    const link = (o: number) => {
      const u = new URL(url.pathname + url.search, origin);
      u.searchParams.set("limit", String(limit));
      u.searchParams.set("offset", String(o));
      return u.href;
    };
    json(res, 200, {
      count: items.length,
      next: offset + limit < items.length ? link(offset + limit) : null,
      previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
      results: items.slice(offset, offset + limit),
    });
  };

  const authorized = (req: IncomingMessage) => {
    const h = req.headers.authorization ?? "";
    if (!h.startsWith("Basic ")) return false;
    const [user, ...rest] = Buffer.from(h.slice(6), "base64").toString("utf8").split(":");
    return user === state.username && rest.join(":") === state.password;
  };

  const serveContent = (res: ServerResponse, path: string): boolean => {
    const rel = path.startsWith("/pulp/content/")
      ? path.slice("/pulp/content/".length)
      : path.slice(1);
    for (const r of state.repos) {
      const base = r.notes.relative_url;
      if (!r.dir || !base || !rel.startsWith(`${base}/`)) continue;
      const file = normalize(join(r.dir, rel.slice(base.length + 1)));
      if (!file.startsWith(r.dir) || !existsSync(file) || !statSync(file).isFile()) break;
      const body = readFileSync(file);
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": String(body.length),
      });
      res.end(body);
      return true;
    }
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", origin);
    const path = decodeURIComponent(url.pathname);
    const ok = authorized(req);
    state.requests.push({
      method: req.method ?? "",
      path: url.pathname + url.search,
      authorized: ok,
    });
    let body = "";
    for await (const chunk of req) body += chunk;
    if (!path.startsWith("/pulp/api/")) {
      if (req.method === "GET" && serveContent(res, path)) return;
      res.writeHead(404).end();
      return;
    }
    const v2 = path.startsWith("/pulp/api/v2/");
    if (!ok) {
      if (v2)
        json(res, 401, {
          http_status: 401,
          error_message: "Invalid username or password",
          error_code: "AUTH0001",
          exception: null,
          traceback: null,
          resources: {},
        });
      else json(res, 401, { detail: "Invalid username/password." });
      return;
    }
    if (req.method === "POST" && path === "/pulp/api/v2/repositories/search/") {
      let criteria: { filters?: Record<string, unknown>; fields?: string[] } = {};
      try {
        criteria = (JSON.parse(body) as { criteria?: typeof criteria }).criteria ?? {};
      } catch {
        json(res, 400, { http_status: 400, error_message: "Invalid JSON" });
        return;
      }
      const found = state.repos
        .map((r, i) => ({ r, i }))
        .filter(({ r }) =>
          Object.entries(criteria.filters ?? {}).every(([k, c]) => matchesFilter(r, k, c)),
        )
        .map(({ r, i }) => {
          const full = pulp2Repo(r, i);
          if (!criteria.fields) return full;
          return Object.fromEntries(
            Object.entries(full).filter(
              ([k]) => (criteria.fields ?? []).includes(k) || k === "_id",
            ),
          );
        });
      json(res, 200, found);
      return;
    }
    const one = /^\/pulp\/api\/v2\/repositories\/([^/]+)\/$/.exec(path);
    if (req.method === "GET" && one) {
      const i = state.repos.findIndex((r) => r.id === one[1]);
      const repo = state.repos[i];
      if (!repo) {
        json(res, 404, {
          http_status: 404,
          error_message: `Missing resource(s): repository=${one[1]}`,
          error_code: "PLP0009",
          exception: null,
          traceback: null,
          resources: { repository: one[1] },
        });
        return;
      }
      json(res, 200, pulp2Repo(repo, i));
      return;
    }
    const q = url.searchParams;
    if (req.method === "GET" && path === "/pulp/api/v3/repositories/rpm/rpm/") {
      const select = q.get("pulp_label_select");
      const nameIn = q.get("name__in")?.split(",");
      page(
        res,
        url,
        pulp3Repos().filter(
          (r) =>
            (select === null || matchesLabels(r.pulp_labels, select)) &&
            (q.get("name") === null || r.name === q.get("name")) &&
            (nameIn === undefined || nameIn.includes(r.name)),
        ),
      );
      return;
    }
    if (req.method === "GET" && path === "/pulp/api/v3/distributions/rpm/rpm/") {
      page(
        res,
        url,
        pulp3Distributions().filter(
          (d) =>
            (q.get("repository") === null || d.repository === q.get("repository")) &&
            (q.get("name") === null || d.name === q.get("name")) &&
            (q.get("base_path") === null || d.base_path === q.get("base_path")),
        ),
      );
      return;
    }
    if (v2) json(res, 404, { http_status: 404, error_message: "Not Found" });
    else json(res, 404, { detail: "Not found." });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  origin = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  return {
    url: `${origin}/`,
    get username() {
      return state.username;
    },
    set username(v: string) {
      state.username = v;
    },
    get password() {
      return state.password;
    },
    set password(v: string) {
      state.password = v;
    },
    get repos() {
      return state.repos;
    },
    set repos(v: PulpRepoSpec[]) {
      state.repos = v;
    },
    requests: state.requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
