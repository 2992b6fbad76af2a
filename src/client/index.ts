/**
 * The TypeScript client of ODCS-TS (`odcs-ts/client`): openapi-fetch over the
 * types generated from openapi.yaml (`openapi.gen.ts`, `npm run client`),
 * plus what a generator cannot give: bearer tokens, errors as `OdcsError`
 * carrying the ODCS error body, `waitForCompose` and a log reader.
 * Runs wherever `fetch` does (Node, Deno, Bun, browsers, Workers).
 *
 *   const odcs = createOdcsClient({ server: "http://localhost:5000", token });
 *   const { data } = await odcs.api.POST("/api/1/composes", { body: { source } });
 *   const done = await odcs.waitForCompose(data.id, { timeout: 600 });
 */
import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import { OdcsError } from "./errors.ts";
import { LogReader } from "./log-reader.ts";
import type { components, paths } from "./openapi.gen.ts";
import { type WaitOptions, waitForCompose } from "./wait.ts";

export { OdcsError, type OdcsErrorBody, OdcsTimeoutError } from "./errors.ts";
export { LogReader } from "./log-reader.ts";
export type { components, operations, paths } from "./openapi.gen.ts";
export {
  isFinal,
  nextDelay,
  systemWaitClock,
  type WaitClock,
  type WaitOptions,
} from "./wait.ts";

type Schemas = components["schemas"];
export type Compose = Schemas["Compose"];
export type ComposeDetail = Schemas["ComposeDetail"];
export type ComposeList = Schemas["ComposeList"];
export type ComposeStateName = Schemas["ComposeStateName"];
export type CreateComposeBody = Schemas["CreateComposeBody"];
export type ComposeSource = Schemas["ComposeSource"];
export type RenewComposeBody = Schemas["RenewComposeBody"];
export type About = Schemas["About"];

/** A bearer token, or where to get one for each request (refreshing tokens). */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export interface OdcsClientOptions {
  /** The server's root URL, e.g. `http://localhost:5000` (a path prefix is kept). */
  server: string;
  /** Sent as `Authorization: Bearer …` on API requests (not on log reads). */
  token?: TokenSource;
  fetch?: typeof fetch;
}

export interface OdcsClient {
  /** Typed requests: `api.GET("/api/1/composes/{id}", { params: { path: { id: "1" } } })`. */
  api: Client<paths>;
  /** See `waitForCompose` in wait.ts: long poll, else ODCS's polling schedule. */
  waitForCompose(id: number, opts?: WaitOptions): Promise<ComposeDetail>;
  /** A reader of the compose's `pungi-stderr.log` (Range requests). */
  logReader(compose: Pick<Compose, "toplevel_url">): LogReader;
}

function bearer(token: TokenSource): Middleware {
  return {
    async onRequest({ request }) {
      const t = typeof token === "string" ? token : await token();
      if (t) request.headers.set("Authorization", `Bearer ${t}`);
      return request;
    },
  };
}

/** Every answer other than 2xx becomes an `OdcsError`. */
const throwOnError: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) throw await OdcsError.fromResponse(response);
    return response;
  },
};

export function createOdcsClient(opts: OdcsClientOptions): OdcsClient {
  const fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  const api = createFetchClient<paths>({
    baseUrl: opts.server.replace(/\/+$/, ""),
    fetch: fetchFn,
  });
  if (opts.token !== undefined) api.use(bearer(opts.token));
  api.use(throwOnError);
  return {
    api,
    waitForCompose: (id, waitOpts) => waitForCompose(api, id, waitOpts),
    logReader: (compose) => new LogReader(`${compose.toplevel_url}/pungi-stderr.log`, fetchFn),
  };
}
