/** @jsxImportSource hono/jsx */
import type { PageContext } from "./context.ts";
import { Layout } from "./layout.tsx";
import { PATHS } from "./paths.ts";

/** A page that only says what went wrong (refused CSRF check, not logged in, unknown compose). */
export function MessagePage(props: { ctx: PageContext; title: string; message: string }) {
  return (
    <Layout ctx={props.ctx} title={props.title} current="">
      <h1>{props.title}</h1>
      <p role="alert" data-testid="message">
        {props.message}
      </p>
      <p>
        <a href={props.ctx.href(PATHS.list)}>Back to the composes</a>
      </p>
    </Layout>
  );
}
