/**
 * Where to go after logging in: a path of this site and nothing else. A
 * `next` that could leave the site (`//evil`, `/\evil`, `https://…`, control
 * characters browsers strip) or that points back into the login becomes `/`.
 */
export function safeNextPath(raw: string | undefined): string {
  if (raw === undefined || raw === "") return "/";
  if (!raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return "/";
  const base = "http://dashboard.invalid";
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return "/";
  }
  if (url.origin !== base) return "/";
  if (url.pathname === "/login" || url.pathname.startsWith("/login/")) return "/";
  if (url.pathname === "/logout") return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}
