import { OpenAPIHono } from "@hono/zod-openapi";
import { InvalidRequestError, NotFoundError } from "../domain/errors.ts";
import { NOT_FOUND_URL } from "./errors.ts";

/**
 * A router whose validation failures become ODCS 400s naming the field. A
 * path parameter that does not fit (`/api/1/composes/abc`) is a 404, as for
 * upstream such a URL matches no route at all (§1.1).
 */
export function newRouter() {
  return new OpenAPIHono({
    strict: false,
    defaultHook: (result) => {
      if (result.success) return;
      if (result.target === "param") throw new NotFoundError(NOT_FOUND_URL);
      const issue = result.error.issues[0];
      const where = issue?.path.join(".") || "request";
      throw new InvalidRequestError(`${where}: ${issue?.message ?? "invalid value"}`);
    },
  });
}
