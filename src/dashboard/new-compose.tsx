/** @jsxImportSource hono/jsx */
import type { Config } from "../config.ts";
import { SUPPORTED_SOURCE_TYPES } from "../domain/sources/index.ts";
import { LoginHint, PostForm } from "./components.tsx";
import type { PageContext } from "./context.ts";
import { Layout } from "./layout.tsx";
import { PATHS } from "./paths.ts";

/** Source types the form offers, in this order, when the server supports them. */
const FORM_TYPES = ["repo", "tag", "build"] as const;
type FormType = (typeof FORM_TYPES)[number];
/** Flags worth a checkbox on a form for people. */
export const FORM_FLAGS = ["no_deps", "check_deps", "no_inheritance", "no_reuse"] as const;

/** `tag` and `build` need a Koji hub; offer them only when one is configured. */
export function formSourceTypes(config: Config): FormType[] {
  return FORM_TYPES.filter(
    (t) =>
      (SUPPORTED_SOURCE_TYPES as readonly string[]).includes(t) &&
      (t === "repo" || config.ODCS_KOJI_HUB_URL !== undefined),
  );
}

const words = (v: unknown) =>
  typeof v === "string" ? v.split(/[\s,]+/).filter((w) => w !== "") : [];
const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");

/**
 * The POST /api/1/composes/ body a submitted form stands for. Lists are
 * typed space- or comma-separated; empty fields are left out so the
 * server's defaults apply. The API's own parser checks the result.
 */
export function composeBodyFromForm(form: Record<string, unknown>): Record<string, unknown> {
  const type = str(form.source_type);
  const source: Record<string, unknown> = {
    type,
    source: type === "build" ? "" : str(form.source),
  };
  const packages = words(form.packages);
  if (packages.length > 0) source.packages = packages;
  if (type === "build") source.builds = words(form.builds);
  const sigkeys = words(form.sigkeys);
  if (sigkeys.length > 0) source.sigkeys = sigkeys;
  const body: Record<string, unknown> = { source };
  const arches = words(form.arches);
  if (arches.length > 0) body.arches = arches;
  const flags = FORM_FLAGS.filter((f) => form[`flag_${f}`] === "on");
  if (flags.length > 0) body.flags = flags;
  const label = str(form.label);
  if (label !== "") body.label = label;
  const ttl = str(form.seconds_to_live);
  if (ttl !== "") body.seconds_to_live = /^-?\d+$/.test(ttl) ? Number(ttl) : ttl;
  return body;
}

export function NewComposePage(props: {
  ctx: PageContext;
  values?: Record<string, unknown>;
  error?: string;
}) {
  const { ctx } = props;
  const v = (k: string) => str(props.values?.[k]);
  const types = formSourceTypes(ctx.deps.config);
  const selected = v("source_type") || "repo";
  return (
    <Layout ctx={ctx} title="New compose" current="newCompose">
      <h1>New compose</h1>
      {props.error ? (
        <p class="error" role="alert" data-testid="form-error">
          {props.error}
        </p>
      ) : null}
      {!ctx.actor ? (
        <LoginHint what="request a compose" />
      ) : (
        <PostForm ctx={ctx} action={PATHS.newCompose} label="New compose">
          <label>
            Source type
            <select name="source_type" required>
              {types.map((t) => (
                <option value={t} selected={selected === t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label>
            Source
            <input
              type="text"
              name="source"
              value={v("source")}
              aria-describedby="source-help"
              autocomplete="off"
            />
            <small id="source-help">
              repo: absolute paths or http(s) URLs of yum repositories, space-separated; tag: a Koji
              tag; build: leave empty.
            </small>
          </label>
          <label>
            Packages
            <input
              type="text"
              name="packages"
              value={v("packages")}
              aria-describedby="packages-help"
              autocomplete="off"
            />
            <small id="packages-help">Space-separated; empty: every package of the source.</small>
          </label>
          {types.includes("build") ? (
            <label>
              Builds
              <input type="text" name="builds" value={v("builds")} aria-describedby="builds-help" />
              <small id="builds-help">
                Koji build NVRs, space-separated (build composes only).
              </small>
            </label>
          ) : null}
          <div class="grid">
            <label>
              Arches
              <input
                type="text"
                name="arches"
                value={v("arches")}
                placeholder={ctx.deps.config.ODCS_ARCHES.join(" ")}
              />
            </label>
            <label>
              Signing keys
              <input type="text" name="sigkeys" value={v("sigkeys")} placeholder="e.g. A15B79CC" />
            </label>
          </div>
          <div class="grid">
            <label>
              Label
              <input type="text" name="label" value={v("label")} />
            </label>
            <label>
              Keep for (seconds)
              <input
                type="number"
                name="seconds_to_live"
                min="1"
                value={v("seconds_to_live")}
                placeholder={String(ctx.deps.config.ODCS_SECONDS_TO_LIVE)}
              />
            </label>
          </div>
          <fieldset>
            <legend>Flags</legend>
            {FORM_FLAGS.map((f) => (
              <label>
                <input
                  type="checkbox"
                  name={`flag_${f}`}
                  checked={props.values?.[`flag_${f}`] === "on"}
                />
                {f}
              </label>
            ))}
          </fieldset>
          <button type="submit">Request compose</button>
        </PostForm>
      )}
    </Layout>
  );
}
