/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { stateName } from "../domain/states.ts";
import type { PageContext } from "./context.ts";
import { CSRF_FIELD } from "./csrf.ts";
import { absoluteTime, relativeTime, STATE_LABELS } from "./format.ts";

/** A compose state as a coloured badge; the live script rewrites it in place. */
export function StateBadge(props: { state: number }) {
  const name = stateName(props.state);
  return (
    <span class={`state state-${name}`} data-state={name}>
      {STATE_LABELS[name]}
    </span>
  );
}

/** A relative time with the absolute one on hover (and for machines in `datetime`). */
export function Time(props: { ms: number | null; now: number; field?: string }) {
  if (props.ms === null) return <span data-field={props.field}>—</span>;
  return (
    <time
      datetime={new Date(props.ms).toISOString()}
      title={absoluteTime(props.ms)}
      data-field={props.field}
    >
      {relativeTime(props.ms, props.now)}
    </time>
  );
}

/** A POST form with the CSRF token. */
export function PostForm(props: {
  ctx: PageContext;
  action: string;
  children: Child;
  class?: string;
  label?: string;
}) {
  return (
    <form
      method="post"
      action={props.ctx.href(props.action)}
      class={props.class}
      aria-label={props.label}
    >
      <input type="hidden" name={CSRF_FIELD} value={props.ctx.csrf} />
      {props.children}
    </form>
  );
}

/** Shown instead of an action when nobody is logged in. */
export function LoginHint(props: { what: string }) {
  return (
    <p class="login-hint" role="note">
      Log in to {props.what}.
    </p>
  );
}

/** A notice after an action (from the `notice` query parameter of a redirect). */
export function Notice(props: { text: string | undefined }) {
  if (!props.text) return null;
  return (
    <p class="notice" role="status">
      {props.text}
    </p>
  );
}

/**
 * A wide table's box: scrolls sideways inside itself rather than the page,
 * and can take keyboard focus so keyboard users can scroll it too.
 */
export function ScrollBox(props: { label: string; children: Child }) {
  return (
    <section class="table-wrap" aria-label={props.label} tabindex={0}>
      {props.children}
    </section>
  );
}
