import { OpenAPIHono } from "@hono/zod-openapi";
import { InvalidRequestError } from "../domain/errors.ts";

/** A router whose validation failures become ODCS 400s naming the field. */
export function newRouter() {
  return new OpenAPIHono({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.join(".") || "request";
        throw new InvalidRequestError(`${where}: ${issue?.message ?? "invalid value"}`);
      }
    },
  });
}
