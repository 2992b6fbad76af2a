import type { components } from "./openapi.gen.ts";

/** The ODCS error body: `{"status": 404, "error": "Not Found", "message": "…"}`. */
export type OdcsErrorBody = components["schemas"]["Error"];

function isErrorBody(v: unknown): v is OdcsErrorBody {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.status === "number" && typeof o.message === "string";
}

/**
 * The server answered with an error status. `body` is the ODCS error body
 * when the answer was one; `text` is the answer as it came (what the ODCS
 * CLI prints before exiting 255).
 */
export class OdcsError extends Error {
  override readonly name = "OdcsError";
  constructor(
    readonly status: number,
    readonly text: string,
    readonly url: string,
    readonly body: OdcsErrorBody | undefined,
  ) {
    super(body ? `${status} ${body.error}: ${body.message}` : `${status} from ${url}`);
  }

  static async fromResponse(res: Response): Promise<OdcsError> {
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return new OdcsError(res.status, text, res.url, isErrorBody(parsed) ? parsed : undefined);
  }
}

/** `waitForCompose` ran out of time; `last` is the compose as last seen. */
export class OdcsTimeoutError extends Error {
  override readonly name = "OdcsTimeoutError";
  constructor(
    readonly composeId: number,
    readonly timeoutSeconds: number,
    readonly last: components["schemas"]["ComposeDetail"],
  ) {
    // ODCS's client's wording (§18).
    super(`Retrieving ODCS compose ${composeId} timed out after ${timeoutSeconds} seconds`);
  }
}
