import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";

/**
 * CSRF protection of the dashboard's forms: a double-submit token. The
 * token lives in an HttpOnly, SameSite=Strict cookie and is repeated in a
 * hidden field of every form; a POST counts only when both are present and
 * equal. A cross-site page can make the browser send the cookie (not even
 * that, with SameSite=Strict) but cannot read it to fill the field.
 */

export const CSRF_COOKIE = "odcs_csrf";
export const CSRF_FIELD = "_csrf";
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The request's token, creating and setting the cookie when it has none (or a malformed one). */
export function csrfToken(c: Context, basePath: string): string {
  const have = getCookie(c, CSRF_COOKIE);
  if (have !== undefined && TOKEN_RE.test(have)) return have;
  const token = newToken();
  setCookie(c, CSRF_COOKIE, token, {
    httpOnly: true,
    sameSite: "Strict",
    path: basePath === "" ? "/" : basePath,
    secure: new URL(c.req.url).protocol === "https:",
  });
  return token;
}

/** Constant-time string comparison (both are short ASCII tokens). */
function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Whether a submitted form carries the token of its cookie. */
export function isCsrfValid(c: Context, form: Record<string, unknown>): boolean {
  const cookie = getCookie(c, CSRF_COOKIE);
  const field = form[CSRF_FIELD];
  return (
    typeof cookie === "string" &&
    TOKEN_RE.test(cookie) &&
    typeof field === "string" &&
    sameToken(cookie, field)
  );
}
