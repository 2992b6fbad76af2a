import type { z } from "zod";
import { fetchWithin } from "../../timeout-signal.ts";
import { ComposeError } from "../errors.ts";
import { sleep } from "../sleep.ts";

/** Connection settings of the Pulp server (from `ODCS_PULP_*`). */
export interface PulpConnection {
  /** Server root, e.g. `https://pulp.example.com/` (the API lives below it). */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
  signal: AbortSignal;
}

/** Extra attempts of a request that got no answer (ODCS retries connection errors too). */
const CONNECT_RETRIES = 2;
const RETRY_DELAY_MS = 300;

export function serverRoot(conn: PulpConnection): string {
  return conn.url.replace(/\/+$/, "");
}

function authHeader(conn: PulpConnection): Record<string, string> {
  if (conn.username === undefined && conn.password === undefined) return {};
  const token = btoa(
    String.fromCodePoint(
      ...new TextEncoder().encode(`${conn.username ?? ""}:${conn.password ?? ""}`),
    ),
  );
  return { authorization: `Basic ${token}` };
}

/**
 * One JSON request to the Pulp API. `undefined` for a 404 when `allow404`
 * (a repo id that does not exist). Connection failures are tried again,
 * then fail retryably ("Pulp connection has failed", as ODCS says); a 5xx
 * is retryable, a 401/403 names the credential settings, other answers are
 * final. The body is checked against `schema`.
 */
export async function pulpJson<T>(
  conn: PulpConnection,
  method: "GET" | "POST",
  url: string,
  schema: z.ZodType<T>,
  opts: { body?: unknown; allow404?: boolean } = {},
): Promise<T | undefined> {
  const what = `${method} ${url}`;
  let res: Response | undefined;
  let text = "";
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetchWithin(
        url,
        {
          method,
          headers: {
            accept: "application/json",
            ...(opts.body === undefined ? {} : { "content-type": "application/json" }),
            ...authHeader(conn),
          },
          ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
          redirect: "error",
        },
        conn.signal,
        conn.timeoutMs,
      );
      text = await res.text();
      break;
    } catch (err) {
      if (conn.signal.aborted) throw err;
      const cause = (err as Error & { cause?: { message?: string; code?: string } }).cause;
      const detail =
        (err as Error).name === "TimeoutError"
          ? `no complete answer within ${conn.timeoutMs} ms (ODCS_PULP_TIMEOUT_MS)`
          : (cause?.code ?? cause?.message ?? (err as Error).message);
      if (attempt >= CONNECT_RETRIES)
        throw new ComposeError(`Pulp connection has failed: ${what}: ${detail}`, {
          retryable: true,
          cause: err,
        });
      await sleep(RETRY_DELAY_MS * (attempt + 1), conn.signal);
    }
  }
  if (res.status === 404 && opts.allow404) return undefined;
  if (res.status === 401 || res.status === 403)
    throw new ComposeError(
      `Pulp answered HTTP ${res.status} to ${what}: check ODCS_PULP_USERNAME and ODCS_PULP_PASSWORD`,
    );
  if (!res.ok)
    throw new ComposeError(`Pulp answered HTTP ${res.status} to ${what}: ${text.slice(0, 300)}`, {
      retryable: res.status >= 500,
    });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ComposeError(`Pulp answered ${what} with something that is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ComposeError(
      `Pulp answered ${what} with an unexpected shape: ${issue?.path.join(".") || "(top)"}: ${issue?.message ?? ""}`,
    );
  }
  return parsed.data;
}
