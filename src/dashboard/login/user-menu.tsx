/** @jsxImportSource hono/jsx */
import type { PageContext } from "../context.ts";
import { dashboardLoginOf } from "./login.ts";

/**
 * The header's user menu when the dashboard has a login: the user's name
 * and a "Log out" button (a CSRF-checked POST form), or a "Log in" link that
 * comes back to this page. `undefined` when there is no login to offer.
 */
export function LoginMenu(props: { ctx: PageContext }) {
  const { ctx } = props;
  if (!dashboardLoginOf(ctx.deps).enabled) return undefined;
  if (ctx.actor === null) {
    return (
      <a href={ctx.href(`/login?next=${encodeURIComponent(ctx.here)}`)} data-testid="login">
        Log in
      </a>
    );
  }
  return (
    <span class="user-menu" style="display:inline-flex;gap:.5rem;align-items:center">
      <span class="user" data-testid="user">
        {ctx.actor.name}
      </span>
      <form method="post" action={ctx.href("/logout")} style="display:inline;margin:0">
        <input type="hidden" name="_csrf" value={ctx.csrf} />
        <button
          type="submit"
          class="secondary outline"
          style="margin:0;padding:.25rem .75rem;width:auto"
        >
          Log out
        </button>
      </form>
    </span>
  );
}
