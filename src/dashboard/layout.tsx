/** @jsxImportSource hono/jsx */
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { PageContext } from "./context.ts";
import { LoginMenu } from "./login/user-menu.tsx";
import { PATHS } from "./paths.ts";

const NAV: [keyof typeof PATHS, string][] = [
  ["list", "Composes"],
  ["queue", "Queue"],
  ["charts", "Charts"],
  ["newCompose", "New compose"],
  ["about", "About"],
];

/** Who is acting, in the header. The login flow (src/dashboard/login/) puts its links here. */
export function UserMenu(props: { ctx: PageContext }) {
  const { actor, backend } = props.ctx;
  if (backend === "openidc") {
    const menu = LoginMenu({ ctx: props.ctx });
    if (menu !== undefined) return menu;
  }
  if (actor) {
    return (
      <span class="user" data-testid="user">
        {backend === "noauth" ? `${actor.name} (no authentication)` : actor.name}
      </span>
    );
  }
  return (
    <span class="user" data-testid="user">
      not logged in
    </span>
  );
}

/** The one header of every page: site name, navigation, user menu. */
export function Header(props: { ctx: PageContext; current: string; userMenu?: Child }) {
  const { ctx, current } = props;
  return (
    <header class="container site">
      <nav aria-label="Main">
        <ul>
          <li>
            <a href={ctx.href(PATHS.list)} class="brand">
              <strong>ODCS</strong>
            </a>
          </li>
        </ul>
        <ul class="links">
          {NAV.map(([key, label]) => {
            const path = PATHS[key] as string;
            return (
              <li>
                <a href={ctx.href(path)} aria-current={current === key ? "page" : undefined}>
                  {label}
                </a>
              </li>
            );
          })}
          <li>{props.userMenu ?? <UserMenu ctx={ctx} />}</li>
        </ul>
      </nav>
    </header>
  );
}

/** The HTML document around a page; `current` names the nav entry to mark. */
export function Layout(props: {
  ctx: PageContext;
  title: string;
  current: string;
  children: Child;
  /** Data attributes for the live script (what to follow on this page). */
  live?: Record<string, string>;
}) {
  const { ctx } = props;
  const liveAttrs = Object.fromEntries(
    Object.entries(props.live ?? {}).map(([k, v]) => [`data-${k}`, v]),
  );
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          <title>{`${props.title} · ODCS`}</title>
          <link rel="stylesheet" href={ctx.href(PATHS.asset("pico.min.css"))} />
          <link rel="stylesheet" href={ctx.href(PATHS.asset("dashboard.css"))} />
          <script defer src={ctx.href(PATHS.asset("live.js"))} />
        </head>
        <body data-base={ctx.base} {...liveAttrs}>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <Header ctx={ctx} current={props.current} />
          <main class="container" id="main">
            {props.children}
          </main>
          <footer class="container">
            <small>
              ODCS-TS {ctx.deps.version}, On Demand Compose Service · API:{" "}
              <a href={ctx.href("/api/1/composes/")}>/api/1/composes/</a> ·{" "}
              <a href={ctx.href("/api/1/docs")}>API reference</a>
            </small>
          </footer>
        </body>
      </html>
    </>
  );
}
