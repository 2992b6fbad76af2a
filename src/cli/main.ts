/**
 * `odcs`: the ODCS command line (§19) against this server. Global options
 * come before the command, as with ODCS's argparse; exit codes are ODCS's:
 * 0, 1 when the compose ends `failed`, 255 after printing the server's body
 * on an HTTP error, 2 on bad arguments. Other failures (server unreachable,
 * wait timed out) are one line on stderr and exit 1.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import {
  type ComposeDetail,
  createOdcsClient,
  type OdcsClient,
  OdcsError,
  OdcsTimeoutError,
} from "../client/index.ts";
import { type Action, addCommands, TableOutput } from "./commands.ts";
import { pythonJson } from "./output.ts";
import { liveStatusLine, type ProgressView, plainLines, type Terminal } from "./progress.ts";

export const DEFAULT_SERVER = "http://localhost:5000";
/** ODCS's CLI waits at most an hour. */
export const WAIT_TIMEOUT_SECONDS = 3600;

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (live status line) or not (plain lines). */
  isTTY: boolean;
  fetch?: typeof fetch;
  /** Registers a Ctrl-C handler for the wait; returns its removal. */
  onInterrupt(fn: () => void): () => void;
}

export function processIo(): CliIo {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    isTTY: process.stderr.isTTY === true,
    onInterrupt(fn) {
      process.on("SIGINT", fn);
      return () => process.off("SIGINT", fn);
    },
  };
}

export interface GlobalOptions {
  server?: string;
  token?: string;
  wait: boolean;
  quiet?: boolean;
  watch?: boolean;
  redhat?: boolean;
  staging?: boolean;
}

/** `--token` is a token or a file holding one (ODCS's TOKEN_OR_FILE); ODCS_TOKEN likewise. */
export function resolveToken(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (existsSync(value) && statSync(value).isFile()) return readFileSync(value, "utf8").trim();
  return value;
}

class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Run the CLI; resolves to the exit code. Never throws. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = new Command("odcs")
    .description("Command line client of the On Demand Compose Service (ODCS-compatible).")
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(run with --help for usage)")
    .option("--server <url>", `ODCS server URL (default: $ODCS_SERVER or ${DEFAULT_SERVER})`)
    .option("--token <token_or_file>", "OIDC token, or a file holding it (default: $ODCS_TOKEN)")
    .option("--no-wait", "do not wait for the compose to finish")
    .option("-q, --quiet", "no progress messages")
    .option("--watch", "print the compose log while waiting")
    .addOption(new Option("--redhat", "accepted for compatibility; does nothing").hideHelp())
    .addOption(new Option("--staging", "accepted for compatibility; does nothing").hideHelp());

  let action: Action | undefined;
  addCommands(program, (a) => {
    action = a;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      return 2;
    }
    io.stderr(`odcs: ${(err as Error).message}\n`);
    return 2;
  }
  if (!action) {
    program.outputHelp();
    return 0;
  }
  const g = program.opts<GlobalOptions>();
  const server = g.server ?? io.env.ODCS_SERVER ?? DEFAULT_SERVER;
  const token = resolveToken(g.token ?? io.env.ODCS_TOKEN);
  const client = createOdcsClient({
    server,
    ...(token ? { token } : {}),
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
  try {
    return await run(action, client, g, io);
  } catch (err) {
    if (err instanceof OdcsError) {
      // As ODCS's client: the server's body on stdout, then exit -1 (255).
      io.stdout(err.text.endsWith("\n") ? err.text : `${err.text}\n`);
      return 255;
    }
    if (err instanceof ExitError) {
      io.stderr(`odcs: ${err.message}\n`);
      return err.code;
    }
    io.stderr(`odcs: ${describe(err, server)}\n`);
    return 1;
  }
}

function describe(err: unknown, server: string): string {
  if (err instanceof OdcsTimeoutError) return err.message;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e instanceof TypeError && e.message === "fetch failed") {
    return `cannot reach ${server}: ${e.cause?.code ?? e.cause?.message ?? "connection failed"}`;
  }
  return e.message ?? String(err);
}

async function run(action: Action, client: OdcsClient, g: GlobalOptions, io: CliIo) {
  const result = await action.request(client);
  if (result instanceof TableOutput) {
    io.stdout(`${result.toString()}\n`);
    return 0;
  }
  if (!action.waits || !g.wait) {
    io.stdout(`${pythonJson(result)}\n`);
    return 0;
  }
  let compose = result as ComposeDetail;
  if (compose.state_name === "wait" || compose.state_name === "generating") {
    if (!g.quiet)
      io.stdout(`Waiting for command ${action.name} on compose ${compose.id} to finish.\n`);
    compose = await waitWithProgress(
      client,
      compose,
      g.watch === true || action.watch === true,
      g,
      io,
    );
  }
  io.stdout(`${pythonJson(compose)}\n`);
  return compose.state_name === "failed" ? 1 : 0;
}

function terminal(io: CliIo): Terminal {
  return {
    write: io.stderr,
    writeOut: io.stdout,
    now: () => performance.now(),
    setInterval(fn, ms) {
      const t = setInterval(fn, ms);
      return { stop: () => clearInterval(t) };
    },
  };
}

/** Where a waiting compose stands in the queue: its place among `wait` composes by id. */
async function queuePlace(client: OdcsClient, id: number) {
  const { data } = await client.api.GET("/api/1/composes", {
    // Numeric state: upstream ODCS only filters on codes (§5.1).
    params: { query: { state: "0", order_by: "id", per_page: "100" } },
  });
  if (!data) return undefined;
  const i = data.items.findIndex((c) => c.id === id);
  return { place: i < 0 ? undefined : i + 1, waiting: data.meta.total };
}

async function waitWithProgress(
  client: OdcsClient,
  first: ComposeDetail,
  watch: boolean,
  g: GlobalOptions,
  io: CliIo,
): Promise<ComposeDetail> {
  const term = terminal(io);
  const view: ProgressView | undefined = g.quiet
    ? undefined
    : io.isTTY
      ? liveStatusLine(first.id, term)
      : plainLines(first.id, term);
  const log = watch ? client.logReader(first) : undefined;
  const abort = new AbortController();
  let last = first;
  const off = io.onInterrupt(() => abort.abort(new Error("interrupted")));
  try {
    return await client.waitForCompose(first.id, {
      timeout: WAIT_TIMEOUT_SECONDS,
      signal: abort.signal,
      // Short long polls while someone watches, so the log and the queue place stay fresh.
      longPollSeconds: watch ? 2 : io.isTTY ? 5 : 30,
      firstDelay: watch ? 10 : 1,
      fixedDelay: watch,
      onUpdate: async (c) => {
        last = c;
        const q =
          view && io.isTTY && c.state_name === "wait" ? await queuePlace(client, c.id) : undefined;
        view?.update(c.state_name, q);
        if (log) {
          const text = await log.read(abort.signal);
          if (text) (view ?? { print: io.stdout }).print(text);
        }
      },
    });
  } catch (err) {
    // Ctrl-C: as ODCS's CLI, print the compose as last seen.
    if (abort.signal.aborted) return last;
    throw err;
  } finally {
    off();
    view?.stop();
  }
}
