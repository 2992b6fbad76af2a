/**
 * An anonymous Koji hub client over XML-RPC (reference/koji.md §1–§3).
 * Every call is read-only, so a call that did not get an answer (connection
 * refused or reset, timeout) is sent again, a bounded number of times. A
 * fault is final: the hub ran the call and it failed — except ServerOffline
 * (1014, maintenance or a database outage), which fails the attempt with a
 * retryable error so the job is tried again later.
 */

import { fetchWithin } from "../../timeout-signal.ts";
import { ComposeError } from "../errors.ts";
import { sleep } from "../sleep.ts";
import {
  asFault,
  callParams,
  decodeResponse,
  encodeCall,
  type Kwargs,
  type XmlRpcFault,
  XmlRpcParseError,
  type XmlRpcValue,
} from "./xmlrpc.ts";

/** Koji's fault codes that the sources act on (koji.md §2). */
export const KOJI_FAULTS = {
  GenericError: 1000,
  ActionNotAllowed: 1004,
  ServerOffline: 1014,
  ParameterError: 1019,
} as const;

/** Calls per `multiCall` request, as the Python client's `batch=`; the hub runs a batch in one transaction. */
export const DEFAULT_MULTICALL_BATCH = 500;
export const DEFAULT_KOJI_TIMEOUT_MS = 120_000;
export const DEFAULT_KOJI_RETRIES = 3;

/** A fault from the hub, naming the call. */
export class KojiFault extends ComposeError {
  override name = "KojiFault";
  readonly faultCode: number;
  readonly faultString: string;
  readonly method: string;
  constructor(method: string, fault: XmlRpcFault) {
    super(`Koji hub ${method} failed: ${fault.faultString} (fault ${fault.faultCode})`, {
      retryable: fault.faultCode === KOJI_FAULTS.ServerOffline,
    });
    this.faultCode = fault.faultCode;
    this.faultString = fault.faultString;
    this.method = method;
  }
}

export interface KojiClientOptions {
  hubUrl: string;
  /** Per HTTP request. */
  timeoutMs?: number;
  /** Extra attempts after a connection error or timeout. */
  retries?: number;
  /** Wait before attempt `n` (1-based retry count); default 250 ms × 2^(n-1). */
  retryDelayMs?: (retry: number) => number;
  /** Aborts every call (the job's signal). */
  signal?: AbortSignal;
}

/** Counters over the client's life (for logs and the benchmark). */
export interface KojiClientStats {
  /** XML-RPC methods called, each call inside a multiCall counted. */
  calls: number;
  /** HTTP requests made (retries included). */
  requests: number;
  /** Response bytes received. */
  bytes: number;
  retries: number;
}

export interface KojiCall {
  method: string;
  args?: XmlRpcValue[];
  kwargs?: Kwargs;
}

export class KojiClient {
  readonly hubUrl: string;
  readonly stats: KojiClientStats = { calls: 0, requests: 0, bytes: 0, retries: 0 };
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: (retry: number) => number;
  private readonly signal: AbortSignal | undefined;
  private version: string | null = null;

  constructor(opts: KojiClientOptions) {
    this.hubUrl = opts.hubUrl;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_KOJI_TIMEOUT_MS;
    this.retries = opts.retries ?? DEFAULT_KOJI_RETRIES;
    this.retryDelayMs = opts.retryDelayMs ?? ((n) => 250 * 2 ** (n - 1));
    this.signal = opts.signal;
  }

  /** The hub's `Koji-Version` header, once a call has been answered. */
  get hubVersion(): string | null {
    return this.version;
  }

  /** One call; a fault throws {@link KojiFault}. */
  async call(method: string, args: XmlRpcValue[] = [], kwargs?: Kwargs): Promise<XmlRpcValue> {
    this.stats.calls++;
    const r = decodeOrThrow(
      method,
      await this.post(method, encodeCall(method, callParams(args, kwargs))),
    );
    if (!r.ok) throw new KojiFault(method, r.fault);
    return r.value;
  }

  /**
   * Many calls in `multiCall` requests of at most `batch` calls each (sent
   * one after another, so a large list does not hold one huge transaction on
   * the hub). Each slot is the call's result or its {@link KojiFault}; a
   * fault of one call does not stop the others.
   */
  async multiCall(
    calls: readonly KojiCall[],
    opts: { batch?: number } = {},
  ): Promise<(XmlRpcValue | KojiFault)[]> {
    const batch = Math.max(1, opts.batch ?? DEFAULT_MULTICALL_BATCH);
    const out: (XmlRpcValue | KojiFault)[] = [];
    for (let i = 0; i < calls.length; i += batch) {
      const part = calls.slice(i, i + batch);
      this.stats.calls += part.length;
      const body = encodeCall("multiCall", [
        part.map((c) => ({ methodName: c.method, params: callParams(c.args ?? [], c.kwargs) })),
      ]);
      const what = `multiCall of ${part.length} ${[...new Set(part.map((c) => c.method))].join("/")}`;
      const r = decodeOrThrow(what, await this.post(what, body));
      if (!r.ok) throw new KojiFault(what, r.fault);
      if (!Array.isArray(r.value) || r.value.length !== part.length)
        throw new ComposeError(
          `Koji hub ${this.hubUrl} answered a ${what} with something other than ${part.length} results`,
        );
      r.value.forEach((slot, k) => {
        const method = part[k]?.method ?? "?";
        if (Array.isArray(slot) && slot.length === 1) out.push(slot[0] as XmlRpcValue);
        else {
          const fault = asFault(slot);
          if (!fault)
            throw new ComposeError(
              `Koji hub ${this.hubUrl} answered call ${k} of a ${what} with neither [result] nor a fault`,
            );
          out.push(new KojiFault(method, fault));
        }
      });
    }
    return out;
  }

  /** POST `body`, retrying when no answer came; returns the response text. */
  private async post(what: string, body: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      this.signal?.throwIfAborted();
      let res: Response;
      try {
        res = await fetchWithin(
          this.hubUrl,
          {
            method: "POST",
            headers: { "Content-Type": "text/xml", "User-Agent": "koji/1 (odcs-ts)" },
            body,
            redirect: "error",
          },
          this.signal,
          this.timeoutMs,
        );
        this.stats.requests++;
        const text = await res.text();
        this.stats.bytes += text.length;
        const version = res.headers.get("koji-version");
        if (version) this.version = version;
        if (res.status !== 200)
          throw new ComposeError(
            `Koji hub ${this.hubUrl} answered ${what} with HTTP ${res.status}: ${text.slice(0, 200).trim()}`,
            { retryable: res.status >= 500 || res.status === 429 },
          );
        return text;
      } catch (err) {
        if (this.signal?.aborted) throw err;
        if (err instanceof ComposeError) throw err;
        // No answer (refused, reset, timed out): the call may not have run; it is read-only.
        const reason =
          (err as Error).name === "TimeoutError"
            ? `no answer within ${this.timeoutMs} ms (ODCS_KOJI_TIMEOUT_MS)`
            : describe(err);
        if (attempt >= this.retries)
          throw new ComposeError(
            `cannot reach the Koji hub ${this.hubUrl} for ${what} (${attempt + 1} attempts): ${reason}`,
            { retryable: true, cause: err },
          );
        this.stats.retries++;
        await sleep(this.retryDelayMs(attempt + 1), this.signal);
      }
    }
  }
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message;
}

function decodeOrThrow(what: string, text: string) {
  try {
    return decodeResponse(text);
  } catch (err) {
    if (!(err instanceof XmlRpcParseError)) throw err;
    throw new ComposeError(`the Koji hub's answer to ${what} is not XML-RPC: ${err.message}`, {
      cause: err,
    });
  }
}
