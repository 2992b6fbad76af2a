/**
 * GET /api/1/metrics/ in process: ODCS's families exactly as §16.2 and
 * compared with the database, ours fed from the events table. Parsed with
 * a Prometheus text-format parser.
 */

import { count } from "drizzle-orm";
import parsePrometheus from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { silentLogger } from "../../src/api/deps.ts";
import { ensureEventConsumer } from "../../src/db/events.ts";
import { composes } from "../../src/db/schema.ts";
import {
  SOURCE_TYPE_NAMES,
  SOURCE_TYPES,
  STATE_NAMES,
  stateName,
} from "../../src/domain/states.ts";
import { EventMetrics } from "../../src/metrics/event-metrics.ts";
import { ServerMetrics } from "../../src/metrics/registry.ts";
import { composeHarness, LIBDNF_REPO } from "../helpers/service.ts";

const REPO = { source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] } };

async function setup() {
  const h = await composeHarness();
  const metrics = new ServerMetrics(h.db, () => h.clock.now());
  const app = createApp({ ...h.deps, metrics });
  const scrape = async () => {
    const res = await app.request("/api/1/metrics/");
    expect(res.status).toBe(200);
    return { res, text: await res.text() };
  };
  return { h, metrics, app, scrape };
}

/** A raw_config compose row (the API refuses the type; §16.2's metrics still count them). */
async function rawConfigRow(
  h: Awaited<ReturnType<typeof setup>>["h"],
  source: string,
  state: number,
) {
  await h.db.insert(composes).values({
    owner: "me",
    sourceType: SOURCE_TYPES.raw_config,
    source,
    state,
    timeSubmitted: 0,
    timeToExpire: 1,
    arches: "x86_64",
  });
}

/** The label sets and values of the lines of one sample name. */
function samplesOf(text: string, name: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => l.slice(name.length));
}

describe("metrics", () => {
  it("composes_total: 40 samples (ODCS's 35 and our upload type), states outer, source types inner, floats, equal to the database", async () => {
    const { h, scrape } = await setup();
    await h.run(REPO);
    await h.run(REPO);
    const waiting = await h.create(REPO);
    expect((await h.request(`/api/1/composes/${waiting.id}`, { method: "DELETE" })).status).toBe(
      202,
    );
    await h.create(REPO);
    const { res, text } = await scrape();
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const lines = text.split("\n");
    expect(lines.slice(0, 2)).toEqual([
      "# HELP composes_total Total number of composes",
      "# TYPE composes_total gauge",
    ]);
    const samples = lines.slice(2, 2 + STATE_NAMES.length * SOURCE_TYPE_NAMES.length);
    expect(samples).toHaveLength(40);
    const order = STATE_NAMES.flatMap((state) =>
      SOURCE_TYPE_NAMES.map((t) => `composes_total{source_type="${t}",state="${state}"}`),
    );
    expect(samples.map((l) => l.split(" ")[0])).toEqual(order);
    for (const l of samples) expect(l).toMatch(/ \d+\.0$/);

    const db = await h.db
      .select({ state: composes.state, type: composes.sourceType, n: count() })
      .from(composes)
      .groupBy(composes.state, composes.sourceType);
    const fam = parsePrometheus(text).find((f) => f.name === "composes_total");
    for (const s of fam?.metrics ?? []) {
      const want =
        db.find(
          (r) =>
            stateName(r.state) === s.labels?.state &&
            r.type === SOURCE_TYPES[s.labels?.source_type as keyof typeof SOURCE_TYPES],
        )?.n ?? 0;
      expect(Number(s.value), JSON.stringify(s.labels)).toBe(want);
    }
    expect(samples).toContain('composes_total{source_type="repo",state="done"} 2.0');
    expect(samples).toContain('composes_total{source_type="repo",state="failed"} 1.0');
    expect(samples).toContain('composes_total{source_type="repo",state="wait"} 1.0');
  });

  it("raw_config families as ODCS prints them, folding sources with fewer than 5 composes", async () => {
    const { h, scrape } = await setup();
    const { text: empty } = await scrape();
    // No raw_config composes: only the HELP/TYPE pairs.
    expect(empty).toContain(
      "# HELP raw_config_composes_count_total Total number of raw_config composes per source\n# TYPE raw_config_composes_count_total counter\n# HELP raw_config_composes_total State with count\n# TYPE raw_config_composes_total counter\n",
    );
    for (let i = 0; i < 6; i++) await rawConfigRow(h, "cfg#master", i === 0 ? 2 : 0);
    for (let i = 0; i < 2; i++) await rawConfigRow(h, "cfg#abc", 0);
    await rawConfigRow(h, "other#x", 0);
    const { text } = await scrape();
    const lines = text.split("\n");
    const counts = lines.filter((l) => l.startsWith("raw_config_composes_count_total{"));
    expect(counts.sort()).toEqual(
      [
        'raw_config_composes_count_total{source="cfg#other_commits_or_branches"} 2.0',
        'raw_config_composes_count_total{source="cfg#master"} 6.0',
        'raw_config_composes_count_total{source="other#other_commits_or_branches"} 1.0',
      ].sort(),
    );
    const byState = lines.filter((l) => l.startsWith("raw_config_composes_total{"));
    expect(byState).toHaveLength(15);
    expect(byState).toContain('raw_config_composes_total{source="cfg#abc",state="wait"} 2.0');
    expect(byState).toContain('raw_config_composes_total{source="cfg#abc",state="generating"} 0.0');
    expect(byState).toContain('raw_config_composes_total{source="cfg#master",state="done"} 1.0');
    expect(byState).toContain('raw_config_composes_total{source="other#x",state="failed"} 0.0');
    // ODCS's families come first, in §16.2's order.
    const families = parsePrometheus(text).map((f) => f.name);
    expect(families.slice(0, 3)).toEqual([
      "composes_total",
      "raw_config_composes_count_total",
      "raw_config_composes_total",
    ]);
  });

  it("queue, generation and failure metrics from the events; delivery lag per consumer; HTTP durations by route", async () => {
    const { h, metrics, scrape, app } = await setup();
    await ensureEventConsumer(h.db, "webhook:http://x/", h.clock.now().getTime());
    const fed = new EventMetrics(h.db, metrics, { pollMs: 1000, log: silentLogger });
    await fed.start();
    await h.run(REPO);
    // Through the app that times requests.
    const post = () =>
      app.request("/api/1/composes/", {
        method: "POST",
        body: JSON.stringify(REPO),
        headers: { "Content-Type": "application/json" },
      });
    const waiting = (await (await post()).json()) as { id: number };
    await app.request(`/api/1/composes/${waiting.id}`, { method: "DELETE" });
    await post();
    expect(await fed.catchUp()).toBe(6);
    await fed.stop();
    h.clock.advance(5000);
    const { text } = await scrape();
    const fams = new Map(parsePrometheus(text).map((f) => [f.name, f]));
    // (The parser drops the labels of histogram samples: their _count lines are read directly.)
    expect(samplesOf(text, "odcs_compose_generation_seconds_count")).toEqual([
      '{source_type="repo",state="done"} 1',
    ]);
    expect(samplesOf(text, "odcs_compose_queue_seconds_count")).toEqual(['{source_type="repo"} 1']);
    const failures = fams.get("odcs_compose_failures_total")?.metrics ?? [];
    expect(failures.find((m) => m.labels?.reason_class === "canceled")?.value).toBe("1");
    expect(failures.find((m) => m.labels?.reason_class === "other")?.value).toBe("0");
    expect(fams.get("odcs_queue_depth")?.metrics).toEqual([
      { value: "1", labels: { state: "queued" } },
      { value: "0", labels: { state: "running" } },
    ]);
    expect(fams.get("odcs_jobs_running")?.metrics[0]?.value).toBe("0");
    // The consumer was registered before any event and delivered none: 5 s behind.
    expect(fams.get("odcs_event_delivery_lag_seconds")?.metrics).toEqual([
      { value: "5", labels: { consumer: "webhook:http://x/" } },
    ]);
    const http = samplesOf(text, "odcs_http_request_duration_seconds_count");
    expect(http).toContain('{method="POST",route="/api/1/composes",status="200"} 2');
    expect(http).toContain('{method="DELETE",route="/api/1/composes/:id",status="202"} 1');
  });
});
