import { count, eq as sqlEq } from "drizzle-orm";
import client from "prom-client";
import type { Db } from "../db/client.ts";
import { eventConsumerBacklog } from "../db/events.ts";
import { composeCounts, composes, jobs } from "../db/schema.ts";
import { FAILURE_CLASSES } from "../domain/failure-class.ts";
import { SOURCE_TYPE_NAMES, SOURCE_TYPES, STATE_NAMES, stateName } from "../domain/states.ts";

/** Duration buckets (seconds) for queue and generation times: 50 ms to 2 h. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 7200];
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60];

/** raw_config sources with fewer composes are folded into `<key>#other_commits_or_branches` (§16.2). */
const RAW_CONFIG_FOLD_BELOW = 5;
/** ODCS prints sample values as floats (`40.0`); prom-client prints `40`. */
const ODCS_FAMILIES =
  /^(composes_total|raw_config_composes_count_total|raw_config_composes_total)[{ ]/;

/**
 * The server's Prometheus registry: ODCS's three families (§16.2) first,
 * computed from the database at each scrape, then ours. Counters and
 * histograms fed by events (`EventMetrics`) count from this process's start.
 */
export class ServerMetrics {
  readonly registry = new client.Registry();
  readonly queueSeconds: client.Histogram<"source_type">;
  readonly generationSeconds: client.Histogram<"source_type" | "state">;
  readonly failures: client.Counter<"reason_class">;
  readonly sweepRuns: client.Counter<"outcome">;
  readonly sweepRemovals: client.Counter;
  readonly eventsPruned: client.Counter;
  readonly stateChanges: client.Counter<"state">;
  readonly httpSeconds: client.Histogram<"method" | "route" | "status">;

  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {
    const registers = [this.registry];
    const self = this;
    new client.Gauge({
      name: "composes_total",
      help: "Total number of composes",
      labelNames: ["source_type", "state"],
      registers,
      async collect() {
        const counts = await self.composeCounts();
        this.reset();
        for (const state of STATE_NAMES)
          for (const type of SOURCE_TYPE_NAMES)
            this.set({ source_type: type, state }, counts.get(`${state}/${type}`) ?? 0);
      },
    });
    new client.Counter({
      name: "raw_config_composes_count_total",
      help: "Total number of raw_config composes per source",
      labelNames: ["source"],
      registers,
      async collect() {
        this.reset();
        const perSource = await self.rawConfigCounts();
        const folded = new Map<string, number>();
        for (const [source, byState] of perSource) {
          const n = [...byState.values()].reduce((a, b) => a + b, 0);
          const key =
            n < RAW_CONFIG_FOLD_BELOW
              ? `${source.split("#")[0]}#other_commits_or_branches`
              : source;
          folded.set(key, (folded.get(key) ?? 0) + n);
        }
        for (const [source, n] of folded) this.inc({ source }, n);
      },
    });
    new client.Counter({
      name: "raw_config_composes_total",
      help: "State with count",
      labelNames: ["source", "state"],
      registers,
      async collect() {
        this.reset();
        for (const [source, byState] of await self.rawConfigCounts())
          for (const state of STATE_NAMES) this.inc({ source, state }, byState.get(state) ?? 0);
      },
    });

    new client.Gauge({
      name: "odcs_queue_depth",
      help: "Jobs in the queue by state (queued: waiting for a worker; running: claimed)",
      labelNames: ["state"],
      registers,
      async collect() {
        const rows = await self.db
          .select({ state: jobs.state, n: count() })
          .from(jobs)
          .groupBy(jobs.state);
        this.reset();
        for (const state of ["queued", "running"] as const)
          this.set({ state }, rows.find((r) => r.state === state)?.n ?? 0);
      },
    });
    new client.Gauge({
      name: "odcs_jobs_running",
      help: "Jobs claimed by a worker right now (all workers on this database)",
      registers,
      async collect() {
        const [row] = await self.db
          .select({ n: count() })
          .from(jobs)
          .where(sqlEq(jobs.state, "running"));
        this.set(row?.n ?? 0);
      },
    });
    this.queueSeconds = new client.Histogram({
      name: "odcs_compose_queue_seconds",
      help: "Time from submission (or requeue) to the start of generation",
      labelNames: ["source_type"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.generationSeconds = new client.Histogram({
      name: "odcs_compose_generation_seconds",
      help: "Time from the start of generation to done or failed",
      labelNames: ["source_type", "state"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.failures = new client.Counter({
      name: "odcs_compose_failures_total",
      help: "Composes that failed, by class of state_reason",
      labelNames: ["reason_class"],
      registers,
    });
    for (const reason_class of FAILURE_CLASSES) this.failures.inc({ reason_class }, 0);
    this.stateChanges = new client.Counter({
      name: "odcs_compose_state_changes_total",
      help: "Compose state changes seen in the events table, by new state",
      labelNames: ["state"],
      registers,
    });
    this.sweepRuns = new client.Counter({
      name: "odcs_sweep_runs_total",
      help: "Runs of the sweep in this process, by outcome (ok, error)",
      labelNames: ["outcome"],
      registers,
    });
    this.sweepRemovals = new client.Counter({
      name: "odcs_sweep_removals_total",
      help: "Composes the sweep of this process removed (expired or deleted)",
      registers,
    });
    this.eventsPruned = new client.Counter({
      name: "odcs_events_pruned_total",
      help: "Event rows deleted by the sweep of this process after ODCS_EVENTS_RETENTION_DAYS",
      registers,
    });
    new client.Gauge({
      name: "odcs_event_delivery_lag_seconds",
      help: "Age of the oldest event a durable consumer (amqp, webhook:<url>) has not delivered yet; 0 when up to date",
      labelNames: ["consumer"],
      registers,
      async collect() {
        const now = self.now().getTime();
        this.reset();
        for (const c of await eventConsumerBacklog(self.db))
          this.set(
            { consumer: c.name },
            c.oldestPendingAt === null ? 0 : Math.max(0, now - c.oldestPendingAt) / 1000,
          );
      },
    });
    this.httpSeconds = new client.Histogram({
      name: "odcs_http_request_duration_seconds",
      help: "HTTP requests by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      buckets: HTTP_BUCKETS,
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    const text = await this.registry.metrics();
    // ODCS prints no blank line between families; prom-client does.
    const lines = text.split("\n").filter((line) => line !== "");
    const out = lines.map((l) => (ODCS_FAMILIES.test(l) && / -?\d+$/.test(l) ? `${l}.0` : l));
    return `${out.join("\n")}\n`;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpSeconds.observe({ method, route, status: String(status) }, seconds);
  }

  /**
   * Composes per `<state name>/<source type name>`, from the counts triggers
   * keep (migrations/0007): a scrape reads a few rows, not every compose.
   */
  private async composeCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ key: composeCounts.key, n: composeCounts.n })
      .from(composeCounts)
      .where(sqlEq(composeCounts.kind, "state_source_type"));
    const out = new Map<string, number>();
    for (const r of rows) {
      const [state, code] = r.key.split("/").map(Number);
      const type = SOURCE_TYPE_NAMES.find((t) => SOURCE_TYPES[t] === code);
      if (type && state !== undefined) out.set(`${stateName(state)}/${type}`, r.n);
    }
    return out;
  }

  /**
   * Per raw_config source, composes by state. As ODCS, the per-state count
   * matches on `source` alone (§16.2).
   */
  private async rawConfigCounts(): Promise<Map<string, Map<string, number>>> {
    const rows = await this.db
      .selectDistinct({ source: composes.source })
      .from(composes)
      .where(sqlEq(composes.sourceType, SOURCE_TYPES.raw_config));
    const out = new Map<string, Map<string, number>>();
    for (const { source } of rows) {
      const byState = await this.db
        .select({ state: composes.state, n: count() })
        .from(composes)
        .where(sqlEq(composes.source, source))
        .groupBy(composes.state);
      out.set(source, new Map(byState.map((r) => [stateName(r.state), r.n])));
    }
    return out;
  }
}
