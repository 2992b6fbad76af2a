/**
 * The `odcs` command line against the running service (src/main.ts in its
 * own process), run as a user runs it: the real bin, real exit codes, stdout
 * compared with what ODCS's CLI prints (Python's json.dumps(indent=4,
 * sort_keys=True) is the oracle for the JSON), and a real pseudo-terminal
 * for the live status line.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCli, startCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/db.ts";
import { type BuiltRpm, buildRpms } from "../helpers/rpmbuild.ts";
import {
  type ComposeJson,
  freePort,
  LIBDNF_REPO,
  repoServer,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";
import type { UploadJson } from "../helpers/uploads.ts";
import { waitFor } from "../helpers/wait.ts";

let svc: ServiceProcess;
let srv: Awaited<ReturnType<typeof repoServer>>;

/** The oracle: what ODCS's CLI prints for a value. */
const pythonDumps = (value: unknown) =>
  execFileSync(
    "python3",
    ["-c", "import json,sys; print(json.dumps(json.load(sys.stdin), indent=4, sort_keys=True))"],
    { input: JSON.stringify(value) },
  ).toString();

const get = async (id: number) =>
  (await (await fetch(`${svc.url}/api/1/composes/${id}`)).json()) as ComposeJson;
const lastJson = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf("{"))) as ComposeJson;

beforeAll(async () => {
  srv = await repoServer(LIBDNF_REPO);
  svc = await startService({
    env: { ODCS_ALLOWED_REPO_URLS: srv.url, ODCS_WORKER_CONCURRENCY: "1" },
  });
});
afterAll(async () => {
  srv.release();
  expect(await svc.stop()).toBe(0);
  await srv.close();
});

const server = () => ["--server", svc.url];

describe("odcs create-repo, off a terminal", () => {
  test("waits, prints ODCS's lines and the final compose as Python's json.dumps would, exit 0", async () => {
    const run = await runCli([
      ...server(),
      "create-repo",
      LIBDNF_REPO,
      "abcde",
      "--flag",
      "no_reuse",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const first = run.stdout.split("\n")[0] ?? "";
    const id = Number(/on compose (\d+) to finish\.$/.exec(first)?.[1]);
    expect(first).toBe(`Waiting for command create-repo on compose ${id} to finish.`);
    const final = await get(id);
    expect(final.state_name).toBe("done");
    expect(run.stdout).toBe(`${first}\n${pythonDumps(final)}`);
    // Plain progress lines on stderr, one per state, no terminal control characters.
    expect(run.stderr).toMatch(new RegExp(`^compose ${id}: (wait|generating|done) · \\d+s\\n`));
    expect(run.stderr).toContain(`compose ${id}: done`);
    expect(run.stderr).not.toContain("\r");
    expect(run.stderr).not.toContain("\x1b");
  });

  test("--no-wait prints the new compose at once; -q drops the waiting line", async () => {
    const run = await runCli([...server(), "--no-wait", "create-repo", LIBDNF_REPO, "wget"]);
    expect(run.code).toBe(0);
    const c = lastJson(run.stdout);
    expect(c).toMatchObject({ state_name: "wait", packages: "wget", source_type: 3 });
    expect(run.stdout.startsWith('{\n    "arches": ')).toBe(true);
    const quiet = await runCli([...server(), "-q", "wait", String(c.id)]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe(pythonDumps(await get(c.id)));
    expect(quiet.stderr).toBe("");
  });

  test("a compose that fails: its JSON, exit 1", async () => {
    const run = await runCli([...server(), "create-repo", join(tempDir("odcs-none-"), "no-repo")]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(lastJson(run.stdout).state_name).toBe("failed");
  });

  test("--watch prints the compose log (Range reads of pungi-stderr.log) before the compose", async () => {
    const run = await runCli([
      ...server(),
      "--watch",
      "create-repo",
      LIBDNF_REPO,
      "abcde",
      "--flag",
      "no_reuse",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const c = lastJson(run.stdout);
    const log = readFileSync(join(svc.targetDir, `odcs-${c.id}`, "pungi-stderr.log"), "utf8");
    expect(log.length).toBeGreaterThan(0);
    expect(run.stdout).toBe(
      `Waiting for command create-repo on compose ${c.id} to finish.\n${log}${pythonDumps(c)}`,
    );
  });
});

describe("the other commands", () => {
  let done: ComposeJson;
  beforeAll(async () => {
    const run = await runCli([...server(), "-q", "create-repo", LIBDNF_REPO, "abcde"]);
    done = lastJson(run.stdout);
    expect(done.state_name).toBe("done");
  });

  test("get of a done compose prints it (no waiting line), exit 0", async () => {
    const run = await runCli([...server(), "get", String(done.id)]);
    expect(run).toEqual({ code: 0, stdout: pythonDumps(await get(done.id)), stderr: "" });
  });

  test("renew sends a PATCH without a body: same compose, later expiry", async () => {
    const run = await runCli([...server(), "renew", String(done.id)]);
    expect(run.code, run.stderr).toBe(0);
    expect(lastJson(run.stdout)).toMatchObject({ id: done.id, state_name: "done" });
  });

  test("about prints the server information", async () => {
    const run = await runCli([...server(), "about"]);
    const about = await (await fetch(`${svc.url}/api/1/about/`)).json();
    expect(run).toEqual({ code: 0, stdout: pythonDumps(about), stderr: "" });
  });

  test("list: a table by default, the server's answer with --json, filters as query parameters", async () => {
    const table = await runCli([...server(), "list", "--state", "done", "--per-page", "50"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATE\s+TYPE\s+OWNER\s+SUBMITTED\s+EXPIRES\s+SOURCE$/);
    expect(lines.some((l) => new RegExp(`^${done.id}\\s+done\\s+repo\\s+unknown\\s`).test(l))).toBe(
      true,
    );
    expect(lines.slice(1, -1).every((l) => /^\d+\s+done\s/.test(l))).toBe(true);
    const json = await runCli([
      ...server(),
      "list",
      "--json",
      "--state",
      "done",
      "--per-page",
      "1",
    ]);
    const body = await (await fetch(`${svc.url}/api/1/composes/?state=done&per_page=1`)).json();
    expect(json).toEqual({ code: 0, stdout: pythonDumps(body), stderr: "" });
  });

  test("delete prints the 202 answer and never waits", async () => {
    const run = await runCli([...server(), "delete", String(done.id)]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      message: `The delete request for compose (id=${done.id}) has been accepted and will be processed by backend later.`,
      status: 202,
    });
  });
});

describe("errors", () => {
  test("an HTTP error prints the server's body and exits 255", async () => {
    const missing = await runCli([...server(), "get", "99999"]);
    expect(missing.code).toBe(255);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: "Not Found",
      message: "No such compose found.",
      status: 404,
    });
    const bogus = await runCli([
      ...server(),
      "--no-wait",
      "create-repo",
      LIBDNF_REPO,
      "--flag",
      "bogus",
    ]);
    expect(bogus.code).toBe(255);
    expect(JSON.parse(bogus.stdout)).toEqual({
      error: "Bad Request",
      message: "Unknown flag bogus",
      status: 400,
    });
  });

  test("bad arguments exit 2 with one line and a hint, never a stack trace", async () => {
    const cases = [
      ["create-tag", "f26", "--server", svc.url], // global options go before the command
      ["create-module"],
      ["get"],
      ["get", "abc"],
      ["create-tag", "f26", "--koji-event", "x"],
      ["frobnicate"],
      ["create", "nosuchtype", "x"],
    ];
    for (const args of cases) {
      const run = await runCli([...server(), ...args]);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/error/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).toBe("");
    }
  });

  test("--help works on every command", async () => {
    for (const cmd of [
      "create",
      "create-tag",
      "create-build",
      "create-module",
      "create-pulp",
      "create-raw-config",
      "create-repo",
      "get",
      "wait",
      "renew",
      "delete",
      "about",
      "list",
    ]) {
      const run = await runCli([cmd, "--help"]);
      expect({ cmd, code: run.code }).toEqual({ cmd, code: 0 });
      expect(run.stdout).toContain(`Usage: odcs ${cmd}`);
    }
  });

  test("an unreachable server: one line on stderr, exit 1", async () => {
    const port = await freePort();
    const run = await runCli(["--server", `http://127.0.0.1:${port}`, "get", "1"]);
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr: `odcs: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n`,
    });
  });
});

describe("what the CLI sends", () => {
  /** A server that records requests and answers a fixed compose. */
  async function recorder() {
    const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const http = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d.toString();
      });
      req.on("end", () => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: 7, state_name: "done", state: 2 }));
      });
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const addr = http.address();
    const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    return { url, seen, close: () => new Promise<void>((r) => http.close(() => r())) };
  }

  test("§19's observed create-tag: body fields, --sigkey none, token from a file or ODCS_TOKEN", async () => {
    const rec = await recorder();
    try {
      const tokenFile = join(tempDir("odcs-token-"), "token");
      writeFileSync(tokenFile, "file-token\n");
      const run = await runCli([
        "--server",
        rec.url,
        "--token",
        tokenFile,
        "--no-wait",
        "create-tag",
        "f26",
        "bash",
        "--sigkey",
        "none",
        "--sigkey",
        "ABCnone",
        "--arch",
        "x86_64",
        "--flag",
        "no_deps",
      ]);
      expect(run.code, run.stderr).toBe(0);
      await runCli(["renew", "7"], { env: { ODCS_SERVER: rec.url, ODCS_TOKEN: "env-token" } });
      const [create, renew] = rec.seen;
      expect(create).toMatchObject({ method: "POST", url: "/api/1/composes" });
      expect(create?.headers.authorization).toBe("Bearer file-token");
      expect(create?.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(create?.body ?? "")).toEqual({
        source: { source: "f26", type: "tag", packages: ["bash"], sigkeys: ["", "ABC"] },
        flags: ["no_deps"],
        arches: ["x86_64"],
      });
      expect(renew).toMatchObject({ method: "PATCH", url: "/api/1/composes/7", body: "" });
      expect(renew?.headers.authorization).toBe("Bearer env-token");
      expect(renew?.headers["content-type"]).toBeUndefined();
    } finally {
      await rec.close();
    }
  });

  test("create-build and create-pulp bodies as ODCS's source helpers build them", async () => {
    const rec = await recorder();
    try {
      await runCli([
        "--server",
        rec.url,
        "--no-wait",
        "create-build",
        "a-1-1",
        "b-2-2",
        "--sigkey",
        "deadbeef",
        "--target-dir",
        "default",
      ]);
      await runCli([
        "--server",
        rec.url,
        "--no-wait",
        "create-pulp",
        "cs1",
        "cs2",
        "--flag",
        "ignore_absent_pulp_repos",
      ]);
      await runCli([
        "--server",
        rec.url,
        "--no-wait",
        "create-raw-config",
        "cfg",
        "main",
        "--koji-event",
        "5",
        "--label",
        "RC-1",
      ]);
      expect(rec.seen.map((r) => JSON.parse(r.body))).toEqual([
        {
          source: { source: "", type: "build", builds: ["a-1-1", "b-2-2"], sigkeys: ["deadbeef"] },
          target_dir: "default",
        },
        { source: { source: "cs1 cs2", type: "pulp" }, flags: ["ignore_absent_pulp_repos"] },
        { source: { source: "cfg#main", type: "raw_config", koji_event: 5 }, label: "RC-1" },
      ]);
      expect(rec.seen.every((r) => r.headers.authorization === undefined)).toBe(true);
    } finally {
      await rec.close();
    }
  });
});

describe("on a terminal", () => {
  test("a live status line: state, elapsed time and place in the queue, then the compose", async () => {
    // The only worker is kept busy by a compose whose repository answers
    // only when released, so the next compose waits in the queue.
    srv.hold(/repomd\.xml$/, 1);
    const busy = await fetch(`${svc.url}/api/1/composes/`, {
      method: "POST",
      body: JSON.stringify({
        source: { type: "repo", source: srv.url, packages: ["abcde"] },
        flags: ["no_reuse"],
      }),
    });
    expect(busy.status).toBe(200);
    await waitFor(() => srv.held > 0, {
      timeoutMs: 15_000,
      what: "the worker to fetch the held repo",
    });
    const cli = startCli([...server(), "create-repo", LIBDNF_REPO, "abcde", "--flag", "no_reuse"], {
      inTerminal: true,
    });
    const line = await waitFor(
      () => /compose (\d+): wait · \d+s · place 1 of 1 in the queue/.exec(cli.stdout())?.[0],
      { timeoutMs: 20_000, what: "the status line with the queue place" },
    );
    srv.release();
    const run = await cli.done;
    expect(run.code, run.stdout).toBe(0);
    expect(line).toMatch(/^compose \d+: wait/);
    // Redrawn in place: carriage return + erase line, and erased at the end.
    expect(run.stdout).toContain(`\r\x1b[2K${line}`);
    expect(run.stdout.replaceAll("\r\x1b[2K", "<erase>")).toMatch(
      /<erase>compose \d+: (generating|done) · \d+s/,
    );
    const id = Number(/compose (\d+):/.exec(line)?.[1]);
    const final = await get(id);
    expect(final.state_name).toBe("done");
    // The terminal shows stdout with \r\n line ends.
    expect(run.stdout.replaceAll("\r\n", "\n")).toContain(pythonDumps(final));
  });
});

describe("Ctrl-C while waiting", () => {
  test("stops waiting and prints the compose as last seen, as ODCS's CLI does", async () => {
    srv.hold(/repomd\.xml$/, 1);
    const res = await fetch(`${svc.url}/api/1/composes/`, {
      method: "POST",
      body: JSON.stringify({
        source: { type: "repo", source: srv.url, packages: ["abcde"] },
        flags: ["no_reuse"],
      }),
    });
    const busy = (await res.json()) as ComposeJson;
    await waitFor(() => srv.held > 0, {
      timeoutMs: 15_000,
      what: "the worker to fetch the held repo",
    });
    const cli = startCli([...server(), "wait", String(busy.id)]);
    await waitFor(() => cli.stderr().includes(`compose ${busy.id}: generating`), {
      timeoutMs: 15_000,
      what: "the CLI to report the compose generating",
    });
    cli.child.kill("SIGINT");
    const run = await cli.done;
    const seen = await get(busy.id);
    srv.release();
    expect(seen.state_name).toBe("generating");
    expect(run).toEqual({
      code: 0,
      stdout: `Waiting for command wait on compose ${busy.id} to finish.\n${pythonDumps(seen)}`,
      stderr: `compose ${busy.id}: generating · ${/· (\d+s)/.exec(run.stderr)?.[1]}\n`,
    });
  });
});

describe("odcs upload and create-upload (not in ODCS's CLI)", () => {
  test("uploads RPM files, then composes the upload: done, with the uploaded packages", async () => {
    const [app, lib] = (await buildRpms([
      { name: "cli-up-app", requires: ["cli-up-lib"], files: ["/usr/bin/cli-up-app"] },
      { name: "cli-up-lib", files: ["/usr/share/cli-up-lib/data"] },
    ])) as [BuiltRpm, BuiltRpm];
    const up = await runCli([
      ...server(),
      "upload",
      "--seconds-to-live",
      "600",
      app.path,
      lib.path,
    ]);
    expect(up.code, up.stderr).toBe(0);
    const upload = JSON.parse(up.stdout) as UploadJson;
    expect(upload.files.map((f) => f.filename).sort()).toEqual([app.fileName, lib.fileName].sort());
    const lives = Date.parse(upload.time_to_expire) - Date.now();
    expect(lives).toBeGreaterThan(500_000);
    expect(lives).toBeLessThanOrEqual(600_000);

    const run = await runCli([...server(), "-q", "create-upload", upload.id, "cli-up-app"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const c = lastJson(run.stdout);
    expect(c).toMatchObject({ state_name: "done", source_type: 8, source: upload.id });
    // The package asked for and what it needs, served in the compose's tree.
    const served = readdirSync(join(svc.targetDir, `odcs-${c.id}`), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".rpm"))
      .map((f) => basename(f))
      .sort();
    expect(served).toEqual([app.fileName, lib.fileName].sort());
  }, 120_000);

  test("a file it cannot read: exit 2 naming it, before any request", async () => {
    const missing = join(tempDir("odcs-cli-up-"), "gone.rpm");
    const run = await runCli([...server(), "upload", missing]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot read ${missing}: ENOENT`);
    expect(run.stdout).toBe("");
  });
});
