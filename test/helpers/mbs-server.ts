/**
 * A protocol-level Module Build Service for tests: `GET
 * /module-build-service/1/module-builds/` (and `/<id>`) on 127.0.0.1,
 * answering what MBS's `module-builds` API answers (reference/modules.md
 * §2; MBS README and `web/utils.py` `filter_module_builds`): equality
 * filters (`name`, `stream`, `version`, `context`, `koji_tag`, and `nsvc`
 * split on `:`), `state` repeated for OR (numbers or names), the base
 * module filters, `order_by` / `order_desc_by` (`version` compared as an
 * integer), `verbose`, pagination with `meta` links. Bad parameters get
 * MBS's 400 JSON. Every request is recorded.
 *
 *   const mbs = await startMbs();
 *   mbs.add({ name: "nodejs", stream: "18", version: "8090020231219110341", context: "a75119d5",
 *             modulemd: modulemdV2({...}), baseModuleBuildrequires: [platformBr("el8.9.0", 80900)] });
 *   mbs.url   // http://127.0.0.1:<port>/module-build-service  (ODCS_MBS_URL)
 *
 * Nothing here imports from src/.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const MBS_STATE_NAMES = ["init", "wait", "build", "done", "failed", "ready", "garbage"];

export interface MbsBaseBr {
  name: string;
  stream: string;
  stream_version: number | null;
  version: string;
  context: string;
}

export interface MbsModuleSpec {
  name: string;
  stream: string;
  version: string;
  context: string;
  /** Default 5 (ready). */
  state?: number;
  modulemd: string;
  /** Default `module-<n>-<s>-<v>-<c>`. */
  kojiTag?: string;
  baseModuleBuildrequires?: MbsBaseBr[];
  scratch?: boolean;
}

interface Row extends Required<Omit<MbsModuleSpec, "scratch">> {
  id: number;
  scratch: boolean;
}

/** A `platform` buildrequire as MBS lists it in `base_module_buildrequires`. */
export const platformBr = (stream: string, streamVersion: number | null): MbsBaseBr => ({
  name: "platform",
  stream,
  stream_version: streamVersion,
  version: "2",
  context: "00000000",
});

export interface MbsRequest {
  path: string;
  /** The query as parsed: every value of every key, in order. */
  query: [string, string][];
}

export interface MbsServer {
  url: string;
  requests: MbsRequest[];
  add(spec: MbsModuleSpec): number;
  /** The next `n` requests fail this way (before any parsing). */
  failNext(n: number, how: "reset" | "http500" | "http503" | "notjson"): void;
  close(): Promise<void>;
}

const TIME = "2023-12-19T11:03:41Z";

class BadParam extends Error {}

function itemJson(r: Row, verbose: boolean): Record<string, unknown> {
  const short = {
    id: r.id,
    context: r.context,
    koji_tag: r.kojiTag,
    name: r.name,
    owner: "mbs",
    rebuild_strategy: "only-changed",
    scmurl: `https://git.example.com/modules/${r.name}.git?#abc123`,
    scratch: r.scratch,
    siblings: [],
    state: r.state,
    state_name: MBS_STATE_NAMES[r.state],
    state_reason: null,
    stream: r.stream,
    time_completed: TIME,
    time_modified: TIME,
    time_submitted: TIME,
    version: r.version,
  };
  if (!verbose) return short;
  return {
    ...short,
    base_module_buildrequires: r.baseModuleBuildrequires,
    build_context: "0".repeat(40),
    component_builds: [],
    modulemd: r.modulemd,
    ref_build_context: "0".repeat(40),
    runtime_context: "0".repeat(40),
    state_trace: [],
    state_url: `/module-build-service/1/module-builds/${r.id}`,
    stream_version: null,
    tasks: { rpms: {} },
    time_completed: TIME,
  };
}

const intParam = (k: string, v: string) => {
  if (!/^-?\d+$/.test(v)) throw new BadParam(`An invalid value of "${k}" was provided`);
  return Number(v);
};

const truthy = (v: string | null) =>
  v !== null && ["true", "1", "yes", "on"].includes(v.toLowerCase());

export async function startMbs(): Promise<MbsServer> {
  const rows: Row[] = [];
  const requests: MbsRequest[] = [];
  const failures: ("reset" | "http500" | "http503" | "notjson")[] = [];
  let port = 0;

  const json = (res: import("node:http").ServerResponse, status: number, body: unknown) => {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, {
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  };
  const error = (res: import("node:http").ServerResponse, status: number, message: string) =>
    json(res, status, {
      status,
      error: status === 404 ? "Not Found" : status === 400 ? "Bad Request" : "Error",
      message,
    });

  const list = (q: URLSearchParams): { items: Row[]; page: number; perPage: number } => {
    let items = rows.slice();
    const eq = (field: keyof Row, value: string | null) => {
      if (value !== null) items = items.filter((r) => String(r[field]) === value);
    };
    const nsvc = q.get("nsvc");
    if (nsvc !== null) {
      const parts = nsvc.split(":");
      const fields: (keyof Row)[] = ["name", "stream", "version", "context"];
      parts.forEach((p, i) => {
        const f = fields[i];
        if (f) eq(f, p);
      });
    }
    for (const f of ["name", "stream", "version", "context"] as const) eq(f, q.get(f));
    eq("kojiTag", q.get("koji_tag"));
    const states = q.getAll("state");
    if (states.length > 0) {
      const wanted = states.map((s) => {
        const n = /^\d+$/.test(s) ? Number(s) : MBS_STATE_NAMES.indexOf(s);
        if (n < 0 || n >= MBS_STATE_NAMES.length)
          throw new BadParam(`An invalid state was supplied: ${s}`);
        return n;
      });
      items = items.filter((r) => wanted.includes(r.state));
    }
    if (!truthy(q.get("scratch") ?? "false")) items = items.filter((r) => !r.scratch);
    const brName = q.get("base_module_br_name");
    const brStream = q.get("base_module_br_stream");
    const lte = q.get("base_module_br_stream_version_lte");
    const gte = q.get("base_module_br_stream_version_gte");
    const br = q.get("base_module_br");
    const lteN = lte === null ? null : intParam("base_module_br_stream_version_lte", lte);
    const gteN = gte === null ? null : intParam("base_module_br_stream_version_gte", gte);
    if (brName !== null || brStream !== null || lteN !== null || gteN !== null || br !== null) {
      items = items.filter((r) =>
        r.baseModuleBuildrequires.some(
          (b) =>
            (brName === null || b.name === brName) &&
            (brStream === null || b.stream === brStream) &&
            (br === null || `${b.name}:${b.stream}:${b.version}:${b.context}` === br) &&
            (lteN === null || (b.stream_version !== null && b.stream_version <= lteN)) &&
            (gteN === null || (b.stream_version !== null && b.stream_version >= gteN)),
        ),
      );
    }
    const desc = q.get("order_desc_by");
    const asc = q.get("order_by");
    const key = desc ?? asc ?? "id";
    const allowed = ["id", "name", "stream", "version", "context", "state", "koji_tag"];
    if (!allowed.includes(key))
      throw new BadParam(`An invalid ordering key of "${key}" was supplied`);
    const val = (r: Row): bigint | string => {
      if (key === "version") return BigInt(r.version);
      if (key === "id" || key === "state") return BigInt(r[key]);
      return String(r[key === "koji_tag" ? "kojiTag" : (key as keyof Row)]);
    };
    items.sort((a, b) => {
      const x = val(a);
      const y = val(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return desc !== null ? -c || b.id - a.id : c || a.id - b.id;
    });
    const page = Math.max(1, intParam("page", q.get("page") ?? "1"));
    const perPage = intParam("per_page", q.get("per_page") ?? "10");
    if (perPage < 1) throw new BadParam('An invalid value of "per_page" was provided');
    return { items, page, perPage };
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ path: url.pathname, query: [...url.searchParams.entries()] });
    const failure = failures.shift();
    if (failure === "reset") {
      req.socket.destroy();
      return;
    }
    if (failure === "http500") return error(res, 500, "Internal Server Error");
    if (failure === "http503") return error(res, 503, "Service Unavailable");
    if (failure === "notjson") {
      res.writeHead(200, { "Content-Type": "text/html" }).end("<html>maintenance</html>");
      return;
    }
    if (req.method !== "GET")
      return error(res, 405, "The method is not allowed for the requested URL.");
    const m = /^\/module-build-service\/1\/module-builds\/?(\d+)?$/.exec(url.pathname);
    if (!m) return error(res, 404, "The requested URL was not found on the server.");
    const verbose = truthy(url.searchParams.get("verbose"));
    if (m[1] !== undefined) {
      const row = rows.find((r) => r.id === Number(m[1]));
      return row
        ? json(res, 200, itemJson(row, verbose))
        : error(res, 404, "No such module found.");
    }
    let listed: ReturnType<typeof list>;
    try {
      listed = list(url.searchParams);
    } catch (err) {
      if (err instanceof BadParam) return error(res, 400, err.message);
      throw err;
    }
    const { items, page, perPage } = listed;
    const total = items.length;
    const pages = Math.ceil(total / perPage);
    const link = (p: number) => {
      const q = new URLSearchParams(url.searchParams);
      q.set("page", String(p));
      q.set("per_page", String(perPage));
      return `http://127.0.0.1:${port}${url.pathname}?${q.toString()}`;
    };
    json(res, 200, {
      items: items.slice((page - 1) * perPage, page * perPage).map((r) => itemJson(r, verbose)),
      meta: {
        first: link(1),
        last: link(Math.max(pages, 1)),
        next: page < pages ? link(page + 1) : null,
        prev: page > 1 ? link(page - 1) : null,
        page,
        pages,
        per_page: perPage,
        total,
      },
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/module-build-service`,
    requests,
    add(spec) {
      const id = rows.length + 1;
      rows.push({
        id,
        name: spec.name,
        stream: spec.stream,
        version: spec.version,
        context: spec.context,
        state: spec.state ?? 5,
        modulemd: spec.modulemd,
        kojiTag:
          spec.kojiTag ?? `module-${spec.name}-${spec.stream}-${spec.version}-${spec.context}`,
        baseModuleBuildrequires: spec.baseModuleBuildrequires ?? [],
        scratch: spec.scratch ?? false,
      });
      return id;
    },
    failNext(n, how) {
      for (let i = 0; i < n; i++) failures.push(how);
    },
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
