import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { MALFORMED_JSON, MAX_BODY_BYTES } from "../../src/api/body.ts";
import { composes, events, jobs } from "../../src/db/schema.ts";
import { composeJson, countRows, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const CONFIG = {
  ODCS_ALLOWED_REPO_ROOTS: "/srv/repos",
  ODCS_ALLOWED_REPO_URLS: "https://mirror.example.org/repos",
};
const REPO = { type: "repo", source: "/srv/repos/a" };
const CHARS =
  "Only alphanumerical characters and [' ', '-', '/', '_', '.', ':', '#', '+', '?', '$', '~'] characters are allowed in ODCS input variables";
const noneType = (key: string) =>
  `Only dict, list, str, unicode, int, float and bool types are allowed in ODCS input variables, but '${key}' has '<class 'NoneType'>' type`;

type App = Awaited<ReturnType<typeof testApp>>;
const post = (t: App, body: BodyInit | null, headers: Record<string, string> = {}) =>
  t.request("/api/1/composes/", { method: "POST", body, headers });

describe("POST /api/1/composes/ creates", () => {
  it("a repo compose exactly as ODCS serialises it (§3.2), with its job and event", async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", { source: REPO });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(await res.json()).toEqual(composeJson(1));

    expect(await countRows(t.db)).toEqual({ composes: 1, jobs: 1, events: 1 });
    const [job] = await t.db.select().from(jobs);
    expect(job).toMatchObject({
      composeId: 1,
      kind: "generate",
      state: "queued",
      attempts: 0,
      runAt: t.clock.now().getTime(),
    });
    const [event] = await t.db.select().from(events);
    expect(event).toMatchObject({
      composeId: 1,
      fromState: null,
      toState: 0,
      stateReason: null,
      at: t.clock.now().getTime(),
    });
  });

  it("every optional field, stored the ODCS way", async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", {
      source: {
        ...REPO,
        source: "/srv/repos/a https://mirror.example.org/repos/b /srv/repos/a",
        packages: ["bash", "a=b", "@core"],
        builds: [],
        sigkeys: ["ABCD1234", ""],
        koji_event: 7,
        modular_koji_tags: ["t1"],
        module_defaults_url: "https://git.example.org/defaults.git",
        module_defaults_commit: "main",
        scratch_modules: [],
        scratch_build_tasks: ["123"],
        modules: ["m:s:1:c"],
        base_module_br_name: "platform",
        base_module_br_stream: "f40",
        base_module_br_stream_version_lte: 2,
        base_module_br_stream_version_gte: 1,
      },
      flags: ["check_deps", "no_flags", "no_deps", "no_deps"],
      results: ["repository"],
      arches: ["x86_64", "x86_64", "aarch64"],
      multilib_arches: ["i686"],
      multilib_method: ["runtime", "devel"],
      lookaside_repos: ["/srv/repos/base"],
      label: "",
      compose_type: "",
      target_dir: "default",
      parent_pungi_compose_ids: [],
      respin_of: 5,
      seconds_to_live: 3600,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(
      composeJson(1, {
        arches: "x86_64 x86_64 aarch64",
        base_module_br_name: "platform",
        base_module_br_stream: "f40",
        base_module_br_stream_version_gte: 1,
        base_module_br_stream_version_lte: 2,
        builds: "",
        compose_type: "",
        flags: ["no_deps", "check_deps"],
        koji_event: 7,
        label: "",
        lookaside_repos: "/srv/repos/base",
        modular_koji_tags: "t1",
        module_defaults_url: "https://git.example.org/defaults.git main",
        modules: "m:s:1:c",
        multilib_arches: "i686",
        multilib_method: 3,
        packages: "bash a=b @core",
        parent_pungi_compose_ids: "",
        respin_of: "5",
        scratch_build_tasks: "123",
        scratch_modules: "",
        sigkeys: "ABCD1234 ",
        source: "/srv/repos/a https://mirror.example.org/repos/b",
        time_to_expire: "2026-11-21T09:00:00Z",
      }),
    );
  });

  it("ids sequentially from 1; the owner is 'unknown' under noauth", async () => {
    const t = await testApp({ config: CONFIG });
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push((await (await t.postJson("/api/1/composes/", { source: REPO })).json()).id);
    expect(ids).toEqual([1, 2, 3]);
    const rows = await t.db.select({ owner: composes.owner }).from(composes);
    expect(rows.map((r) => r.owner)).toEqual(["unknown", "unknown", "unknown"]);
  });

  it.each([
    ["application/json", { "Content-Type": "application/json" }],
    ["text/plain", { "Content-Type": "text/plain" }],
    ["x-www-form-urlencoded", { "Content-Type": "application/x-www-form-urlencoded" }],
    ["no Content-Type", {}],
  ])("whatever the Content-Type (%s)", async (_name, headers) => {
    const t = await testApp({ config: CONFIG });
    const bytes = new TextEncoder().encode(JSON.stringify({ source: REPO }));
    const res = await post(t, bytes, headers);
    expect(res.status).toBe(200);
    expect((await res.json()).id).toBe(1);
  });

  it("also at /api/1/composes without the slash", async () => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes", { source: REPO });
    expect(res.status).toBe(200);
  });

  it("calls onJobQueued once per created compose", async () => {
    let calls = 0;
    const t = await testApp({ config: CONFIG, deps: { onJobQueued: () => calls++ } });
    await t.postJson("/api/1/composes/", { source: REPO });
    expect(calls).toBe(1);
    await t.postJson("/api/1/composes/", { source: { type: "repo" } });
    expect(calls).toBe(1);
  });
});

describe("seconds_to_live (§11.1)", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["absent → default 86400", {}, "2026-11-22T08:00:00Z"],
    ["60", { seconds_to_live: 60 }, "2026-11-21T08:01:00Z"],
    ["the maximum, 259200", { seconds_to_live: 259200 }, "2026-11-24T08:00:00Z"],
    [
      "above the maximum → the maximum, as ODCS",
      { seconds_to_live: 259201 },
      "2026-11-24T08:00:00Z",
    ],
    ["10**9 → the maximum", { seconds_to_live: 10 ** 9 }, "2026-11-24T08:00:00Z"],
    ["legacy 1e20 → the maximum", { "seconds-to-live": 1e20 }, "2026-11-24T08:00:00Z"],
    ["0 → default", { seconds_to_live: 0 }, "2026-11-22T08:00:00Z"],
    ["false → default", { seconds_to_live: false }, "2026-11-22T08:00:00Z"],
    ["true → 1", { seconds_to_live: true }, "2026-11-21T08:00:01Z"],
    ["legacy key", { "seconds-to-live": 120 }, "2026-11-21T08:02:00Z"],
    ["legacy key as a string", { "seconds-to-live": "120" }, "2026-11-21T08:02:00Z"],
    ["legacy key, padded string", { "seconds-to-live": "  7 " }, "2026-11-21T08:00:07Z"],
    ["legacy key, float truncated", { "seconds-to-live": 12.9 }, "2026-11-21T08:00:12Z"],
    ["legacy key, empty string → default", { "seconds-to-live": "" }, "2026-11-22T08:00:00Z"],
    [
      "legacy key only when the other is absent",
      { seconds_to_live: 0, "seconds-to-live": 30 },
      "2026-11-22T08:00:00Z",
    ],
  ];
  it.each(cases)("%s", async (_name, extra, expires) => {
    const t = await testApp({ config: CONFIG });
    const res = await t.postJson("/api/1/composes/", { source: REPO, ...extra });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(composeJson(1, { time_to_expire: expires }));
  });

  it("the default is not clamped by the maximum", async () => {
    const t = await testApp({
      config: { ...CONFIG, ODCS_SECONDS_TO_LIVE: 5000, ODCS_MAX_SECONDS_TO_LIVE: 1000 },
    });
    const res = await t.postJson("/api/1/composes/", { source: REPO });
    expect((await res.json()).time_to_expire).toBe("2026-11-21T09:23:20Z");
  });
});

describe("POST /api/1/composes/ refuses, writing nothing", () => {
  let t: App;
  beforeAll(async () => {
    t = await testApp({ config: CONFIG });
  });
  const expectRefused = async (res: Response, status: number, message: string) => {
    expect({ status: res.status, body: await res.json() }).toEqual({
      status,
      body: odcsError(status, message),
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
  };
  const src = (extra: Record<string, unknown>) => ({ source: { ...REPO, ...extra } });

  describe("malformed JSON with ODCS's body verbatim (§1.2)", () => {
    it.each([
      ["an empty body", new Uint8Array(0)],
      ["{bad", "{bad"],
      ["non-UTF-8 bytes", new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
      ["trailing garbage", '{"source": {}} x'],
    ])("%s", async (_name, body) => {
      const res = await post(t, body, { "Content-Type": "application/json" });
      expect(res.status).toBe(400);
      expect(await res.text()).toBe(
        '{"error":"Bad Request","message":"<p>The browser (or proxy) sent a request that this server could not understand.</p>","status":400}',
      );
      expect(MALFORMED_JSON).toContain("could not understand");
      expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
    });
  });

  it.each([["{}"], ["null"], ["[]"], ['""'], ["0"], ["false"]])(
    "%s → No JSON POST data submitted",
    async (body) => {
      await expectRefused(
        await t.postJson("/api/1/composes/", body),
        400,
        "No JSON POST data submitted",
      );
    },
  );

  // Upstream answers these with a 500 (§7.1 step 4); 400 is the recommendation.
  it.each([["[1]"], ['"abc"'], ["5"], ["true"]])("non-object %s → 400", async (body) => {
    await expectRefused(
      await t.postJson("/api/1/composes/", body),
      400,
      "The request body must be a JSON object",
    );
  });

  describe("§7.3 generic validation, upstream's messages", () => {
    const cases: [string, unknown, string][] = [
      ["packages not a list", src({ packages: "bash" }), "packages should be a list"],
      ["builds not a list", src({ builds: "b-1-1" }), "builds should be a list"],
      [
        "multilib_method not a list",
        { source: REPO, multilib_method: "all" },
        "multilib_method should be a list",
      ],
      [
        "scratch_build_tasks not a list",
        src({ scratch_build_tasks: 1 }),
        "scratch_build_tasks should be a list",
      ],
      [
        "scratch_modules not a list",
        src({ scratch_modules: "m" }),
        "scratch_modules should be a list",
      ],
      ["sigkeys not a list", src({ sigkeys: "ABCD1234" }), "sigkeys should be a list"],
      ["modules null", src({ modules: null }), "modules should be a list"],
      [
        "base_module_br_name",
        src({ base_module_br_name: 1 }),
        "base_module_br_name should be a string",
      ],
      [
        "base_module_br_stream",
        src({ base_module_br_stream: [] }),
        "base_module_br_stream should be a string",
      ],
      [
        "compose_type null",
        { source: REPO, compose_type: null },
        "compose_type should be a string",
      ],
      ["label number", { source: REPO, label: 5 }, "label should be a string"],
      ["target_dir", { source: REPO, target_dir: true }, "target_dir should be a string"],
      ["type", { source: { type: 3, source: "/srv/repos/a" } }, "type should be a string"],
      [
        "seconds_to_live string",
        { source: REPO, seconds_to_live: "10" },
        "seconds_to_live should be an integer",
      ],
      [
        "seconds_to_live float",
        { source: REPO, seconds_to_live: 1.5 },
        "seconds_to_live should be an integer",
      ],
      [
        "seconds_to_live null",
        { source: REPO, seconds_to_live: null },
        "seconds_to_live should be an integer",
      ],
      ["koji_event string", src({ koji_event: "1" }), "koji_event should be an integer"],
      [
        "version_lte float",
        src({ base_module_br_stream_version_lte: 1.5 }),
        "base_module_br_stream_version_lte should be an integer",
      ],
      [
        "version_gte string",
        src({ base_module_br_stream_version_gte: "x" }),
        "base_module_br_stream_version_gte should be an integer",
      ],
      [
        "dict outside source",
        { source: REPO, foo: {} },
        "Only 'source' key is allowed to contain dict.",
      ],
      [
        "dict inside source",
        src({ extra: { a: 1 } }),
        "Only 'source' key is allowed to contain dict.",
      ],
      [
        "dict in a list",
        { source: REPO, arches: [{}] },
        "Only 'source' key is allowed to contain dict.",
      ],
      ["'=' in a string", { source: REPO, label: "a=b" }, CHARS],
      ["'&'", { source: REPO, label: "a&b" }, CHARS],
      ["'%'", { source: REPO, label: "100%" }, CHARS],
      ["'@'", { source: REPO, label: "me@host" }, CHARS],
      ["','", { source: REPO, label: "a,b" }, CHARS],
      ["a tab", { source: REPO, label: "a\tb" }, CHARS],
      ["a newline", { source: REPO, label: "a\nb" }, CHARS],
      ["a quote", { source: REPO, label: "a'b" }, CHARS],
      ["in source.source", src({ source: "/srv/repos/a;rm" }), CHARS],
      ["in a list item", { source: REPO, arches: ["x86_64", "a=b"] }, CHARS],
      ["packages nested lists are not exempt", src({ packages: [["a=b"]] }), CHARS],
      ["null value", { source: REPO, foo: null }, noneType("foo")],
      ["null list item", { source: REPO, arches: [null] }, noneType("0")],
      [
        "null legacy seconds-to-live",
        { source: REPO, "seconds-to-live": null },
        noneType("seconds-to-live"),
      ],
      [
        "the first bad value in document order",
        { label: "a=b", compose_type: 1, source: REPO },
        CHARS,
      ],
      [
        "type checks before characters",
        { compose_type: 1, label: "a=b", source: REPO },
        "compose_type should be a string",
      ],
    ];
    it.each(cases)("%s", async (_name, body, message) => {
      await expectRefused(await t.postJson("/api/1/composes/", body), 400, message);
    });
  });

  describe("§7.1 messages", () => {
    const cases: [string, unknown, string][] = [
      [
        "source a string",
        { source: "x" },
        "Invalid source configuration provided: {'source': 'x'}",
      ],
      ["source missing", { foo: 1 }, "Invalid source configuration provided: {'foo': 1}"],
      [
        "source a list",
        { source: ["a"], label: "l" },
        "Invalid source configuration provided: {'source': ['a'], 'label': 'l'}",
      ],
      ["type missing", { source: {} }, "Missing type in source configuration, received: {}"],
      [
        "type missing, source shown",
        { source: { source: "x" } },
        "Missing type in source configuration, received: {'source': 'x'}",
      ],
      ["unknown type", { source: { type: "bogus", source: "x" } }, 'Unknown source type "bogus"'],
      [
        "prototype names are not types",
        { source: { type: "constructor", source: "x" } },
        'Unknown source type "constructor"',
      ],
      [
        "__proto__ is not a type",
        { source: { type: "__proto__", source: "x" } },
        'Unknown source type "__proto__"',
      ],
      ["repo without source", { source: { type: "repo" } }, "No source provided for 3"],
      [
        "repo with empty source",
        { source: { type: "repo", source: "" } },
        "No source provided for 3",
      ],
      ["tag without source", { source: { type: "tag" } }, "No source provided for 1"],
      ["unknown flag", { source: REPO, flags: ["bogus"] }, "Unknown flag bogus"],
      ["prototype name as flag", { source: REPO, flags: ["toString"] }, "Unknown flag toString"],
      ["flags as a string", { source: REPO, flags: "no_deps" }, "flags should be a list"],
      ["unknown result", { source: REPO, results: ["bogus"] }, "Unknown result bogus"],
      [
        "unknown multilib method",
        { source: REPO, multilib_method: ["bogus"] },
        'Unknown multilib method "bogus"',
      ],
      [
        "defaults url without commit",
        src({ module_defaults_url: "https://x/y.git" }),
        'The "module_defaults_url" and "module_defaults_commit" must be used together.',
      ],
      [
        "defaults commit without url",
        src({ module_defaults_commit: "main" }),
        'The "module_defaults_url" and "module_defaults_commit" must be used together.',
      ],
      [
        "unknown target_dir",
        { source: REPO, target_dir: "releases" },
        'Unknown "target_dir" "releases"',
      ],
    ];
    it.each(cases)("%s", async (_name, body, message) => {
      await expectRefused(await t.postJson("/api/1/composes/", body), 400, message);
    });
  });

  describe("our deliberate refusals", () => {
    const unsupported = (type: string) =>
      `Source type "${type}" is not supported by this server yet; supported: tag, build, repo, module, pulp, pungi_compose, upload`;
    const noHub = (type: string) =>
      `Source type "${type}" is not supported by this server: no Koji hub is configured (ODCS_KOJI_HUB_URL)`;
    const cases: [string, unknown, string][] = [
      ["tag", { source: { type: "tag", source: "f40" } }, noHub("tag")],
      ["module", { source: { type: "module", source: "m:s" } }, noHub("module")],
      [
        "pulp",
        { source: { type: "pulp", source: "cs" } },
        'Source type "pulp" is not supported by this server: no Pulp server is configured (ODCS_PULP_URL)',
      ],
      ["raw_config", { source: { type: "raw_config", source: "a#b" } }, unsupported("raw_config")],
      ["build", { source: { type: "build", builds: ["b-1-1"] } }, noHub("build")],
      [
        "pungi_compose",
        { source: { type: "pungi_compose", source: "https://x/y" } },
        noHub("pungi_compose"),
      ],
      [
        "unknown top-level field",
        { source: REPO, seconds_to_life: 5 },
        'Unknown field "seconds_to_life"',
      ],
      ["unknown source field", src({ pkgs: ["bash"] }), 'Unknown field "pkgs" in source'],
      [
        "negative seconds_to_live",
        { source: REPO, seconds_to_live: -100 },
        "seconds_to_live must not be negative",
      ],
      [
        "negative legacy",
        { source: REPO, "seconds-to-live": "-5" },
        "seconds-to-live must not be negative",
      ],
      [
        "boot.iso (needs lorax)",
        { source: REPO, results: ["iso", "boot.iso"] },
        'The "boot.iso" result is not supported by this server: an installable boot.iso needs lorax, which this platform lacks; "iso" gives a non-installable ISO of the compose\'s packages',
      ],
      [
        "ostree",
        { source: REPO, results: ["ostree"] },
        'The "ostree" result is not supported by this server',
      ],
      [
        "non-string list items",
        { source: REPO, arches: [1] },
        "arches should be a list of strings",
      ],
      ["bad arch", { source: REPO, arches: ["x86 64"] }, 'Invalid arch "x86 64"'],
      [
        "a multilib arch with whitespace",
        { source: REPO, multilib_arches: ["i686 "] },
        'Invalid arch "i686 "',
      ],
      [
        "a package name with a space",
        src({ packages: ["bash "] }),
        'Invalid package name "bash ": whitespace and control characters are not allowed',
      ],
      [
        "a package name with a tab",
        src({ packages: ["a\tb"] }),
        'Invalid package name "a\\tb": whitespace and control characters are not allowed',
      ],
      [
        "a package name with a control character",
        src({ packages: ["a\u0001b"] }),
        'Invalid package name "a\\u0001b": whitespace and control characters are not allowed',
      ],
      ["a control character in any other string", { source: REPO, label: "a\u007fb" }, CHARS],
      [
        "a sigkey with whitespace",
        src({ sigkeys: [" ABCD1234"] }),
        'Invalid sigkey " ABCD1234": expected 8 or 16 hex digits',
      ],
      [
        "bad sigkey",
        src({ sigkeys: ["nothex"] }),
        'Invalid sigkey "nothex": expected 8 or 16 hex digits',
      ],
      [
        "nested too deep",
        src({ packages: JSON.parse(`${"[".repeat(40)}${"]".repeat(40)}`) }),
        "Request body is nested deeper than 32 levels",
      ],
    ];
    it.each(cases)("%s", async (_name, body, message) => {
      await expectRefused(await t.postJson("/api/1/composes/", body), 400, message);
    });

    it("legacy seconds-to-live that is no integer, with upstream's message", async () => {
      const body = { source: { type: "repo", source: "/srv/repos/a" }, "seconds-to-live": "abc" };
      await expectRefused(
        await t.postJson("/api/1/composes/", body),
        400,
        "Invalid seconds_to_live specified in request: {'source': {'type': 'repo', 'source': '/srv/repos/a'}, 'seconds-to-live': 'abc'}",
      );
      await expectRefused(
        await t.postJson("/api/1/composes/", { source: REPO, "seconds-to-live": [1] }),
        400,
        "Invalid seconds_to_live specified in request: {'source': {'type': 'repo', 'source': '/srv/repos/a'}, 'seconds-to-live': [1]}",
      );
    });

    it("a hostile nesting depth without a stack overflow", async () => {
      const deep = `{"source": {"type": "repo", "source": "/srv/repos/a", "packages": ${"[".repeat(100_000)}${"]".repeat(100_000)}}}`;
      const res = await t.postJson("/api/1/composes/", deep);
      expect(res.status).toBe(400);
      expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
    });
  });

  describe("huge bodies → 413", () => {
    const big = JSON.stringify({ source: REPO, label: "x".repeat(MAX_BODY_BYTES) });
    it("announced by Content-Length", async () => {
      await expectRefused(
        await t.postJson("/api/1/composes/", big),
        413,
        `Request body larger than ${MAX_BODY_BYTES} bytes`,
      );
    });
    it("streamed without a length", async () => {
      const bytes = new TextEncoder().encode(big);
      const stream = new ReadableStream<Uint8Array>({
        start(ctl) {
          for (let i = 0; i < bytes.length; i += 65536) ctl.enqueue(bytes.slice(i, i + 65536));
          ctl.close();
        },
      });
      const res = await t.request("/api/1/composes/", {
        method: "POST",
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(res.headers.get("content-length")).not.toBe(String(bytes.length));
      await expectRefused(res, 413, `Request body larger than ${MAX_BODY_BYTES} bytes`);
    });
    it("a lying Content-Length", async () => {
      const res = await post(t, "{}", { "Content-Length": String(MAX_BODY_BYTES + 1) });
      await expectRefused(res, 413, `Request body larger than ${MAX_BODY_BYTES} bytes`);
    });
  });

  describe("hostile repository locations", () => {
    const notUnder = (p: string) =>
      `Repository path "${p}" is not under an allowed root (/srv/repos)`;
    const urlNotUnder = (u: string) =>
      `Repository URL "${u}" is not under an allowed URL prefix (https://mirror.example.org/repos)`;
    const cases: [string, string, string][] = [
      ["relative", "srv/repos/a", 'Repository path "srv/repos/a" must be absolute'],
      ["home-relative", "~/repos", 'Repository path "~/repos" must be absolute'],
      [
        "..",
        "/srv/repos/../../etc",
        'Repository path "/srv/repos/../../etc" must not contain "." or ".." segments',
      ],
      [
        "trailing ..",
        "/srv/repos/a/..",
        'Repository path "/srv/repos/a/.." must not contain "." or ".." segments',
      ],
      [
        "/./",
        "/srv/repos/./a",
        'Repository path "/srv/repos/./a" must not contain "." or ".." segments',
      ],
      [
        "//",
        "/srv/repos//a",
        'Repository path "/srv/repos//a" must not contain empty segments ("//")',
      ],
      [
        "leading //",
        "//srv/repos/a",
        'Repository path "//srv/repos/a" must not contain empty segments ("//")',
      ],
      ["outside the roots", "/etc/pki", notUnder("/etc/pki")],
      ["a root's sibling", "/srv/reposevil/a", notUnder("/srv/reposevil/a")],
      ["a root's parent", "/srv", notUnder("/srv")],
      [
        "an empty item (double space)",
        "/srv/repos/a  /srv/repos/b",
        "Empty repository path: source items are separated by single spaces, with none before or after",
      ],
      [
        "only a space",
        " ",
        "Empty repository path: source items are separated by single spaces, with none before or after",
      ],
      [
        "file://",
        "file:///srv/repos/a",
        'Repository URL "file:///srv/repos/a" must be http or https',
      ],
      [
        "ftp://",
        "ftp://mirror.example.org/repos/a",
        'Repository URL "ftp://mirror.example.org/repos/a" must be http or https',
      ],
      [
        "a foreign host",
        "https://evil.example.org/repos/a",
        urlNotUnder("https://evil.example.org/repos/a"),
      ],
      [
        "a look-alike host",
        "https://mirror.example.org.evil.example/repos/a",
        urlNotUnder("https://mirror.example.org.evil.example/repos/a"),
      ],
      [
        "another port",
        "https://mirror.example.org:8443/repos/a",
        urlNotUnder("https://mirror.example.org:8443/repos/a"),
      ],
      [
        "plain http",
        "http://mirror.example.org/repos/a",
        urlNotUnder("http://mirror.example.org/repos/a"),
      ],
      [
        "a prefix sibling",
        "https://mirror.example.org/reposX",
        urlNotUnder("https://mirror.example.org/reposX"),
      ],
      [
        "a query",
        "https://mirror.example.org/repos/a?x",
        'Repository URL "https://mirror.example.org/repos/a?x" must not contain credentials, a query or a fragment',
      ],
      [
        "a fragment",
        "https://mirror.example.org/repos/a#x",
        'Repository URL "https://mirror.example.org/repos/a#x" must not contain credentials, a query or a fragment',
      ],
      [
        "a password",
        "https://user:pw$mirror.example.org/repos/a",
        'Repository URL "https://user:pw$mirror.example.org/repos/a" is not a valid URL',
      ],
      ["credentials need '@', which §7.3 refuses", "https://u:p@mirror.example.org/repos/a", CHARS],
      [
        "..",
        "https://mirror.example.org/repos/../secret",
        'Repository URL "https://mirror.example.org/repos/../secret" must not contain "." or ".." segments, percent-escapes or backslashes',
      ],
    ];
    it.each(cases)("source %s", async (_name, source, message) => {
      await expectRefused(
        await t.postJson("/api/1/composes/", { source: { type: "repo", source } }),
        400,
        message,
      );
    });
    it.each([
      ["outside the roots", ["/etc"], notUnder("/etc")],
      ["file://", ["file:///etc"], 'Repository URL "file:///etc" must be http or https'],
      [
        "an empty item",
        [""],
        "Empty repository path: source items are separated by single spaces, with none before or after",
      ],
      ["hidden behind a space", ["/srv/repos/b /etc"], notUnder("/etc")],
    ])("lookaside_repos %s", async (_name, lookaside, message) => {
      await expectRefused(
        await t.postJson("/api/1/composes/", { source: REPO, lookaside_repos: lookaside }),
        400,
        message,
      );
    });

    it("no local roots configured → every path refused", async () => {
      const bare = await testApp({ config: { ODCS_ALLOWED_REPO_ROOTS: [] } });
      const res = await bare.postJson("/api/1/composes/", { source: REPO });
      expect(await res.json()).toEqual(
        odcsError(
          400,
          'Repository path "/srv/repos/a" is not allowed: this server allows no local repository roots (ODCS_ALLOWED_REPO_ROOTS)',
        ),
      );
      expect(await countRows(bare.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
    });
  });

  it("accepts the roots themselves and URLs under the prefix", async () => {
    const ok = await testApp({ config: CONFIG });
    for (const source of [
      "/srv/repos",
      "/srv/repos/a/",
      "https://mirror.example.org/repos/x/$basearch",
    ]) {
      const res = await ok.postJson("/api/1/composes/", { source: { type: "repo", source } });
      expect(res.status, source).toBe(200);
    }
    const rows = await ok.db
      .select({ source: composes.source })
      .from(composes)
      .where(eq(composes.state, 0));
    expect(rows.map((r) => r.source)).toEqual([
      "/srv/repos",
      "/srv/repos/a/",
      "https://mirror.example.org/repos/x/$basearch",
    ]);
  });
});
