/** @jsxImportSource hono/jsx */
import type { DepthBucket, DurationStats, FinishedBucket, RangeName } from "./chart-data.ts";
import { RANGES } from "./chart-data.ts";
import { ScrollBox } from "./components.tsx";
import type { PageContext } from "./context.ts";
import { absoluteTime, duration, sourceTypeLabel } from "./format.ts";
import { Layout } from "./layout.tsx";
import { PATHS } from "./paths.ts";

/**
 * Charts drawn on the server as inline SVG: no script, no chart library.
 * Colours come from CSS classes, so they follow the light/dark scheme; each
 * chart has a title, a description and the same numbers as a table.
 */

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

const W = 720;
const H = 220;
const PAD = { left: 44, right: 8, top: 10, bottom: 28 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;

/** A round axis maximum ≥ `v` (1, 2, 5 × 10^n). */
export function niceMax(v: number): number {
  if (v <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

const shortTime = (ms: number, range: RangeName) => {
  const iso = new Date(ms).toISOString();
  return range === "24h" ? iso.slice(11, 16) : iso.slice(5, 10);
};

function YAxis(props: { max: number; format?: (v: number) => string }) {
  const fmt = props.format ?? String;
  return (
    <g class="axis">
      <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + plotH} />
      <line x1={PAD.left} y1={PAD.top + plotH} x2={W - PAD.right} y2={PAD.top + plotH} />
      {[0, 0.5, 1].map((f) => (
        <text x={PAD.left - 4} y={PAD.top + plotH - f * plotH + 4} text-anchor="end">
          {fmt(props.max * f)}
        </text>
      ))}
    </g>
  );
}

function XLabels(props: { starts: number[]; range: RangeName }) {
  const n = props.starts.length;
  const every = Math.max(1, Math.round(n / 6));
  return (
    <g class="axis">
      {props.starts.map((s, i) =>
        i % every === 0 ? (
          <text x={PAD.left + ((i + 0.5) / n) * plotW} y={H - 8} text-anchor="middle">
            {shortTime(s, props.range)}
          </text>
        ) : null,
      )}
    </g>
  );
}

export function FinishedChart(props: { buckets: FinishedBucket[]; range: RangeName }) {
  const { buckets, range } = props;
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.done + b.failed)));
  const bw = plotW / Math.max(1, buckets.length);
  const y = (v: number) => (v / max) * plotH;
  const total = buckets.reduce((s, b) => s + b.done + b.failed, 0);
  return (
    <figure>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby="fin-title fin-desc"
        class="chart"
        data-testid="chart-finished"
      >
        <title id="fin-title">Composes finished per hour</title>
        <desc id="fin-desc">
          {`${plural(total, "compose")} finished in the ${RANGES[range].label}: ${buckets.reduce((s, b) => s + b.done, 0)} done, ${buckets.reduce((s, b) => s + b.failed, 0)} failed.`}
        </desc>
        <YAxis max={max} />
        {buckets.map((b, i) => {
          const x = PAD.left + i * bw + 1;
          const hd = y(b.done);
          const hf = y(b.failed);
          return (
            <g>
              <rect
                class="bar-done"
                x={x}
                width={Math.max(1, bw - 2)}
                y={PAD.top + plotH - hd}
                height={hd}
              >
                <title>{`${absoluteTime(b.start)}: ${b.done} done`}</title>
              </rect>
              <rect
                class="bar-failed"
                x={x}
                width={Math.max(1, bw - 2)}
                y={PAD.top + plotH - hd - hf}
                height={hf}
              >
                <title>{`${absoluteTime(b.start)}: ${b.failed} failed`}</title>
              </rect>
            </g>
          );
        })}
        <XLabels starts={buckets.map((b) => b.start)} range={range} />
      </svg>
      <figcaption>
        <span class="key key-done" aria-hidden="true" /> done{" "}
        <span class="key key-failed" aria-hidden="true" /> failed (UTC)
      </figcaption>
    </figure>
  );
}

export function DurationChart(props: { stats: DurationStats[] }) {
  const { stats } = props;
  const max = niceMax(Math.max(0, ...stats.map((s) => s.p99)));
  const groupH = 44;
  const height = Math.max(1, stats.length) * groupH + PAD.top + PAD.bottom;
  const x = (v: number) => (v / max) * (plotW - 40);
  const left = 110;
  return (
    <figure>
      <svg
        viewBox={`0 0 ${W} ${height}`}
        role="img"
        aria-labelledby="dur-title dur-desc"
        class="chart"
        data-testid="chart-durations"
      >
        <title id="dur-title">Generation time percentiles by source type</title>
        <desc id="dur-desc">
          {stats.length === 0
            ? "No compose finished in this period."
            : stats
                .map(
                  (s) =>
                    `${sourceTypeLabel(s.sourceType)}: p50 ${duration(s.p50)}, p90 ${duration(s.p90)}, p99 ${duration(s.p99)} (${plural(s.count, "compose")})`,
                )
                .join("; ")}
        </desc>
        {stats.map((s, i) => {
          const top = PAD.top + i * groupH;
          return (
            <g>
              <text class="axis-label" x={left - 8} y={top + 22} text-anchor="end">
                {sourceTypeLabel(s.sourceType)}
              </text>
              {(["p50", "p90", "p99"] as const).map((p, j) => (
                <rect
                  class={`bar-${p}`}
                  x={left}
                  y={top + j * 12}
                  height={10}
                  width={Math.max(1, x(s[p]))}
                >
                  <title>{`${sourceTypeLabel(s.sourceType)} ${p}: ${duration(s[p])}`}</title>
                </rect>
              ))}
              <text class="axis-label" x={left + x(s.p99) + 6} y={top + 32}>
                {duration(s.p99)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span class="key key-p50" aria-hidden="true" /> p50{" "}
        <span class="key key-p90" aria-hidden="true" /> p90{" "}
        <span class="key key-p99" aria-hidden="true" /> p99
      </figcaption>
    </figure>
  );
}

export function DepthChart(props: { buckets: DepthBucket[]; range: RangeName }) {
  const { buckets, range } = props;
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.max)));
  const bw = plotW / Math.max(1, buckets.length);
  const points = buckets
    .flatMap((b, i) => {
      const yv = PAD.top + plotH - (b.max / max) * plotH;
      return [`${PAD.left + i * bw},${yv}`, `${PAD.left + (i + 1) * bw},${yv}`];
    })
    .join(" ");
  return (
    <figure>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby="depth-title depth-desc"
        class="chart"
        data-testid="chart-depth"
      >
        <title id="depth-title">Queue depth over time</title>
        <desc id="depth-desc">
          {`Highest number of waiting and generating composes per period; at most ${Math.max(0, ...buckets.map((b) => b.max))} in the ${RANGES[range].label}.`}
        </desc>
        <YAxis max={max} />
        <polyline class="line-depth" points={points} fill="none" />
        <XLabels starts={buckets.map((b) => b.start)} range={range} />
      </svg>
    </figure>
  );
}

export function ChartsPage(props: {
  ctx: PageContext;
  range: RangeName;
  finished: FinishedBucket[];
  durations: DurationStats[];
  depth: DepthBucket[];
}) {
  const { ctx, range } = props;
  return (
    <Layout ctx={ctx} title="Charts" current="charts">
      <h1>Charts</h1>
      <nav aria-label="Period">
        <ul>
          {(Object.keys(RANGES) as RangeName[]).map((r) => (
            <li>
              <a
                href={ctx.href(`${PATHS.charts}?range=${r}`)}
                aria-current={r === range ? "page" : undefined}
              >
                {RANGES[r].label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <section aria-labelledby="h-fin">
        <h2 id="h-fin">Composes finished, by final state</h2>
        <FinishedChart buckets={props.finished} range={range} />
      </section>
      <section aria-labelledby="h-dur">
        <h2 id="h-dur">Generation time by source type</h2>
        <DurationChart stats={props.durations} />
        {props.durations.length > 0 ? (
          <ScrollBox label="Generation times">
            <table class="striped">
              <thead>
                <tr>
                  <th scope="col">Source type</th>
                  <th scope="col">Composes</th>
                  <th scope="col">p50</th>
                  <th scope="col">p90</th>
                  <th scope="col">p99</th>
                </tr>
              </thead>
              <tbody>
                {props.durations.map((s) => (
                  <tr>
                    <td>{sourceTypeLabel(s.sourceType)}</td>
                    <td>{s.count}</td>
                    <td>{duration(s.p50)}</td>
                    <td>{duration(s.p90)}</td>
                    <td>{duration(s.p99)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        ) : null}
      </section>
      <section aria-labelledby="h-depth">
        <h2 id="h-depth">Queue depth</h2>
        <DepthChart buckets={props.depth} range={range} />
      </section>
    </Layout>
  );
}
