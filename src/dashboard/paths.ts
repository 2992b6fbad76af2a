/**
 * The dashboard's URLs, relative to the app root (a trusted proxy's
 * X-Script-Name is put in front by `PageContext.href`). Everything but the
 * list lives under /ui/, clear of the API (/api/1/…) and of the compose
 * trees (/composes/…, src/node/static.ts).
 */
export const UI = "/ui";
export const PATHS = {
  list: "/",
  compose: (id: number) => `${UI}/composes/${id}`,
  renew: (id: number) => `${UI}/composes/${id}/renew`,
  remove: (id: number) => `${UI}/composes/${id}/delete`,
  queue: `${UI}/queue`,
  charts: `${UI}/charts`,
  about: `${UI}/about`,
  newCompose: `${UI}/new`,
  asset: (name: string) => `${UI}/assets/${name}`,
} as const;
