/**
 * A read-only client of the Module Build Service's `module-builds` API
 * (reference/modules.md §2): `GET <ODCS_MBS_URL>/1/module-builds/` with the
 * query parameters ODCS sends, every page followed. Items are checked and
 * typed before use. Failures are `ComposeError`s: no answer, a 5xx or 429
 * is retryable (after a few quick retries of the GET, which is read-only);
 * a 4xx or an answer that is not the documented JSON is not.
 */

import { fetchWithin } from "../../timeout-signal.ts";
import { ComposeError } from "../errors.ts";
import { sleep } from "../sleep.ts";

export const DEFAULT_MBS_TIMEOUT_MS = 60_000;
export const DEFAULT_MBS_RETRIES = 3;
/** Items per page asked for: ODCS read only the first (10) page; we ask for many and follow `next`. */
export const MBS_PER_PAGE = 100;
/** Pages followed at most for one query (a runaway `next` chain stops here). */
export const MAX_MBS_PAGES = 100;

/** MBS module states (modules.md §2). */
export const MBS_STATES = {
  init: 0,
  wait: 1,
  build: 2,
  done: 3,
  failed: 4,
  ready: 5,
  garbage: 6,
} as const;

export interface MbsBaseModuleBr {
  name: string;
  stream: string;
  /** `null` when MBS gives none. */
  streamVersion: number | null;
  version: string;
  context: string;
}

/** One item of a verbose `module-builds` answer (the fields resolution uses). */
export interface MbsModuleBuild {
  id: number;
  name: string;
  stream: string;
  /** Digits, kept as a string (versions exceed 2^53). */
  version: string;
  context: string;
  state: number;
  kojiTag: string;
  modulemd: string;
  baseModuleBuildrequires: MbsBaseModuleBr[];
}

/** Query parameters of `/1/module-builds/`; arrays repeat the key (`state=3&state=5`). */
export type MbsQuery = Record<string, string | number | boolean | (string | number)[] | undefined>;

export interface MbsClientOptions {
  /** e.g. `https://mbs.example.com/module-build-service` (ODCS's `mbs_url`). */
  url: string;
  timeoutMs?: number;
  /** Extra attempts after no answer / 5xx / 429. */
  retries?: number;
  retryDelayMs?: (retry: number) => number;
  signal?: AbortSignal;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export class MbsClient {
  readonly url: string;
  /** HTTP requests made (retries included). */
  requests = 0;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: (retry: number) => number;
  private readonly signal: AbortSignal | undefined;

  constructor(opts: MbsClientOptions) {
    this.url = opts.url.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_MBS_TIMEOUT_MS;
    this.retries = opts.retries ?? DEFAULT_MBS_RETRIES;
    this.retryDelayMs = opts.retryDelayMs ?? ((n) => 250 * 2 ** (n - 1));
    this.signal = opts.signal;
  }

  /** The URL of one page of `query`. */
  pageUrl(query: MbsQuery, page: number): string {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) p.append(k, String(x));
    }
    p.set("page", String(page));
    if (!p.has("per_page")) p.set("per_page", String(MBS_PER_PAGE));
    return `${this.url}/1/module-builds/?${p.toString()}`;
  }

  /**
   * Every item of `query` (verbose answers), in MBS's order, following the
   * pages; `stop(items so far)` returning true ends the walk early (the
   * caller needs only the newest version's items).
   */
  async moduleBuilds(
    query: MbsQuery,
    stop: (items: MbsModuleBuild[]) => boolean = () => false,
  ): Promise<MbsModuleBuild[]> {
    const items: MbsModuleBuild[] = [];
    for (let page = 1; page <= MAX_MBS_PAGES; page++) {
      const url = this.pageUrl(query, page);
      const body = await this.getJson(url);
      if (!isObj(body) || !Array.isArray(body.items) || !isObj(body.meta))
        throw new ComposeError(`MBS answered ${url} with JSON that is not {items, meta}`);
      for (const it of body.items) items.push(parseItem(url, it));
      const meta = body.meta;
      const pages = typeof meta.pages === "number" ? meta.pages : page;
      if (body.items.length === 0 || stop(items) || (meta.next == null && page >= pages))
        return items;
    }
    throw new ComposeError(
      `MBS gave more than ${MAX_MBS_PAGES} pages of module builds for ${this.pageUrl(query, 1)}`,
    );
  }

  private async getJson(url: string): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      this.signal?.throwIfAborted();
      let failure: ComposeError;
      try {
        const res = await fetchWithin(
          url,
          {
            headers: { Accept: "application/json" },
            redirect: "follow",
          },
          this.signal,
          this.timeoutMs,
        );
        this.requests++;
        const text = await res.text();
        if (res.ok) {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            throw new ComposeError(
              `MBS answered ${url} with something that is not JSON: ${text.slice(0, 200).trim()}`,
            );
          }
        }
        const retryable = res.status >= 500 || res.status === 429;
        failure = new ComposeError(
          `MBS answered ${url} with HTTP ${res.status}: ${mbsMessage(text)}`,
          { retryable },
        );
        if (!retryable) throw failure;
      } catch (err) {
        if (this.signal?.aborted) throw err;
        if (err instanceof ComposeError && !err.retryable) throw err;
        failure =
          err instanceof ComposeError
            ? err
            : new ComposeError(
                `cannot reach MBS for ${url}: ${
                  (err as Error).name === "TimeoutError"
                    ? `no answer within ${this.timeoutMs} ms (ODCS_MBS_TIMEOUT_MS)`
                    : describe(err)
                }`,
                { retryable: true, cause: err },
              );
      }
      if (attempt >= this.retries)
        throw new ComposeError(`${failure.message} (${attempt + 1} attempts)`, {
          retryable: true,
          cause: failure,
        });
      await sleep(this.retryDelayMs(attempt + 1), this.signal);
    }
  }
}

/** MBS errors are `{"status":…, "error":…, "message":…}`; else the start of the body. */
function mbsMessage(text: string): string {
  try {
    const j = JSON.parse(text) as unknown;
    if (isObj(j) && typeof j.message === "string") return j.message;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 200).trim();
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message;
}

function parseItem(url: string, v: unknown): MbsModuleBuild {
  const bad = (what: string): never => {
    throw new ComposeError(`MBS answered ${url} with an item whose ${what}`);
  };
  if (!isObj(v)) return bad("shape is not an object");
  const str = (k: string): string => {
    const x = v[k];
    return typeof x === "string" ? x : bad(`${k} is not a string`);
  };
  const int = (k: string): number => {
    const x = v[k];
    return typeof x === "number" && Number.isSafeInteger(x) ? x : bad(`${k} is not an integer`);
  };
  // MBS serialises version as a string; accept an integer too.
  const rawVersion = v.version;
  const version =
    typeof rawVersion === "number" && Number.isSafeInteger(rawVersion)
      ? String(rawVersion)
      : typeof rawVersion === "string" && /^\d+$/.test(rawVersion)
        ? rawVersion
        : bad("version is not a number");
  if (typeof v.modulemd !== "string")
    bad("modulemd is missing (the query must ask for verbose=true)");
  const brs = v.base_module_buildrequires ?? [];
  if (!Array.isArray(brs)) bad("base_module_buildrequires is not a list");
  return {
    id: int("id"),
    name: str("name"),
    stream: str("stream"),
    version,
    context: typeof v.context === "string" ? v.context : "00000000",
    state: int("state"),
    kojiTag: typeof v.koji_tag === "string" ? v.koji_tag : "",
    modulemd: str("modulemd"),
    baseModuleBuildrequires: (brs as unknown[]).map((b) => {
      if (!isObj(b) || typeof b.name !== "string" || typeof b.stream !== "string")
        return bad("base_module_buildrequires has an entry without name and stream");
      const sv = b.stream_version;
      return {
        name: b.name,
        stream: b.stream,
        streamVersion: typeof sv === "number" && Number.isFinite(sv) ? sv : null,
        version: b.version == null ? "" : String(b.version),
        context: typeof b.context === "string" ? b.context : "",
      };
    }),
  };
}
