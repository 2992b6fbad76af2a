import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { composes, events, jobs } from "../../src/db/schema.ts";
import { composeJson, countRows, DAY_MS, givenCompose, odcsError, T0 } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

type App = Awaited<ReturnType<typeof testApp>>;
const HOUR = 3_600_000;
/** The clock runs two days after the composes were made. */
const NOW = T0 + 2 * DAY_MS;
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

async function app() {
  const t = await testApp();
  t.clock.set(new Date(NOW));
  return t;
}
const patch = (t: App, id: number | string, body?: unknown) =>
  t.request(`/api/1/composes/${id}`, {
    method: "PATCH",
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
  });
const expiryOf = async (t: App, id: number) =>
  (await t.db.select().from(composes).where(eq(composes.id, id)))[0]?.timeToExpire;

const done = {
  state: 2,
  stateReason: "Compose is generated successfully",
  timeDone: T0 + HOUR,
  timeStarted: T0,
};

describe("PATCH /api/1/composes/<id> extends in place (§8.3)", () => {
  it("done, expiring in 60 s, no body at all (the Python client's renew) → now + default", async () => {
    const t = await app();
    await givenCompose(t.db, { ...done, timeToExpire: NOW + 60_000, pungiComposeId: "p-1" });
    const res = await patch(t, 1);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(await res.json()).toEqual(
      composeJson(1, {
        state: 2,
        state_name: "done",
        state_reason: "Compose is generated successfully",
        time_started: iso(T0),
        time_done: iso(T0 + HOUR),
        pungi_compose_id: "p-1",
        time_to_expire: iso(NOW + DAY_MS),
      }),
    );
    expect(await countRows(t.db)).toEqual({ composes: 1, jobs: 0, events: 0 });
  });

  it.each([["{}"], [""], ["  \n"]])(
    "an empty object or empty body %j works the same",
    async (body) => {
      const t = await app();
      await givenCompose(t.db, { ...done, timeToExpire: NOW + 60_000 });
      const res = await t.request("/api/1/composes/1", { method: "PATCH", body });
      expect(res.status).toBe(200);
      expect((await res.json()).time_to_expire).toBe(iso(NOW + DAY_MS));
    },
  );

  it("never shortens: done, expiring in ~55 h, seconds_to_live 60 → unchanged", async () => {
    const t = await app();
    await givenCompose(t.db, { ...done, timeToExpire: NOW + 55 * HOUR });
    const res = await patch(t, 1, { seconds_to_live: 60 });
    expect((await res.json()).time_to_expire).toBe(iso(NOW + 55 * HOUR));
  });

  it("the legacy key works, as renew_compose(id, n) sends it", async () => {
    const t = await app();
    await givenCompose(t.db, { ...done, timeToExpire: NOW });
    const res = await patch(t, 1, { "seconds-to-live": 7200 });
    expect((await res.json()).time_to_expire).toBe(iso(NOW + 2 * HOUR));
  });

  it("above the server's maximum → the maximum, as ODCS (min(value, max))", async () => {
    const t = await app();
    await givenCompose(t.db, { ...done, timeToExpire: NOW });
    const res = await patch(t, 1, { seconds_to_live: 10 ** 9 });
    expect(res.status).toBe(200);
    expect((await res.json()).time_to_expire).toBe(iso(NOW + 72 * HOUR));
  });

  it("cascades one level: the compose it reuses and those reusing it, not further", async () => {
    const t = await app();
    await givenCompose(t.db, { ...done, timeToExpire: NOW + 60_000 }); // 1: A
    await givenCompose(t.db, { ...done, timeToExpire: NOW + 60_000, reusedId: 1 }); // 2: B reuses A
    await givenCompose(t.db, { ...done, timeToExpire: NOW + 60_000, reusedId: 2 }); // 3: C reuses B
    await givenCompose(t.db, { ...done, timeToExpire: NOW + 60_000, reusedId: 3 }); // 4: D reuses C
    await givenCompose(t.db, { ...done, timeToExpire: NOW + 60_000 }); // 5: unrelated
    await givenCompose(t.db, { ...done, timeToExpire: NOW + 9 * HOUR, reusedId: 2 }); // 6: reuses B, later
    const res = await patch(t, 2, { seconds_to_live: 7200 });
    expect(await res.json()).toMatchObject({
      id: 2,
      time_to_expire: iso(NOW + 2 * HOUR),
      toplevel_url: "http://localhost/odcs/odcs-1",
    });
    const rows = await t.db
      .select({ id: composes.id, e: composes.timeToExpire })
      .from(composes)
      .orderBy(asc(composes.id));
    expect(rows).toEqual([
      { id: 1, e: NOW + 2 * HOUR },
      { id: 2, e: NOW + 2 * HOUR },
      { id: 3, e: NOW + 2 * HOUR },
      { id: 4, e: NOW + 60_000 },
      { id: 5, e: NOW + 60_000 },
      { id: 6, e: NOW + 9 * HOUR },
    ]);
  });

  it("same sigkeys in the same order → extended in place", async () => {
    const t = await app();
    await givenCompose(t.db, { ...done, sigkeys: "AAAA1111 BBBB2222", timeToExpire: NOW });
    const res = await patch(t, 1, { sigkeys: ["AAAA1111", "BBBB2222"] });
    expect(await res.json()).toMatchObject({
      id: 1,
      sigkeys: "AAAA1111 BBBB2222",
      time_to_expire: iso(NOW + DAY_MS),
    });
    expect(await countRows(t.db)).toEqual({ composes: 1, jobs: 0, events: 0 });
  });
});

describe("PATCH /api/1/composes/<id> copies (§8.3)", () => {
  const old = {
    ...done,
    owner: "alice",
    source: "/srv/repos/a /srv/repos/b",
    packages: "bash",
    builds: "old-1-1",
    sigkeys: "AAAA1111 BBBB2222",
    kojiEvent: 42,
    flags: 1 | 8,
    arches: "x86_64 aarch64",
    multilibArches: "i686",
    multilibMethod: 1,
    lookasideRepos: "/srv/repos/base",
    modularKojiTags: "mt",
    moduleDefaultsUrl: "https://git.example.org/d.git main",
    label: "l",
    composeType: "nightly",
    pungiComposeId: "odcs-1-1-20261121.n.0",
    scratchModules: "sm:s:1:c",
    parentPungiComposeIds: "p1",
    scratchBuildTasks: "77",
    modules: "m:s:1:c",
    respinOf: "older",
    baseModuleBrName: "platform",
    baseModuleBrStream: "f40",
    baseModuleBrStreamVersionLte: 4,
    baseModuleBrStreamVersionGte: 3,
    pungiConfigDump: "dump",
    kojiTaskId: 9,
    removedBy: "root",
    timeToExpire: NOW + HOUR,
  };
  const copied = (id: number, overrides: Record<string, unknown> = {}) =>
    composeJson(id, {
      arches: "x86_64 aarch64",
      base_module_br_name: "platform",
      base_module_br_stream: "f40",
      base_module_br_stream_version_gte: 3,
      base_module_br_stream_version_lte: 4,
      builds: "old-1-1",
      compose_type: "nightly",
      flags: ["no_deps", "check_deps"],
      koji_event: 42,
      label: "l",
      lookaside_repos: "/srv/repos/base",
      modular_koji_tags: "mt",
      module_defaults_url: "https://git.example.org/d.git main",
      modules: "m:s:1:c",
      multilib_arches: "i686",
      multilib_method: 1,
      packages: "bash",
      parent_pungi_compose_ids: "p1",
      respin_of: "odcs-1-1-20261121.n.0",
      scratch_build_tasks: "77",
      scratch_modules: "sm:s:1:c",
      sigkeys: "AAAA1111 BBBB2222",
      source: "/srv/repos/a /srv/repos/b",
      time_submitted: iso(NOW),
      time_to_expire: iso(NOW + DAY_MS),
      ...overrides,
    });

  it("sigkeys reordered → a new compose pinned to the old inputs, with its job and event", async () => {
    const t = await app();
    await givenCompose(t.db, old);
    const res = await patch(t, 1, { sigkeys: ["BBBB2222", "AAAA1111"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(copied(2, { sigkeys: "BBBB2222 AAAA1111" }));
    expect(await countRows(t.db)).toEqual({ composes: 2, jobs: 1, events: 1 });
    const [job] = await t.db.select().from(jobs);
    expect(job).toMatchObject({ composeId: 2, kind: "generate", state: "queued" });
    const [event] = await t.db.select().from(events);
    expect(event).toMatchObject({ composeId: 2, fromState: null, toState: 0 });
    const [row] = await t.db.select().from(composes).where(eq(composes.id, 2));
    expect(row).toMatchObject({ regenerateOf: 1, pungiConfigDump: "dump", reusedId: null });
    expect(await expiryOf(t, 1)).toBe(NOW + HOUR);
  });

  it("source.modules [] → a new compose, modules unchanged", async () => {
    const t = await app();
    await givenCompose(t.db, old);
    expect(await (await patch(t, 1, { source: { modules: [] } })).json()).toEqual(copied(2));
  });

  it("source.modules given → replaced", async () => {
    const t = await app();
    await givenCompose(t.db, old);
    expect(await (await patch(t, 1, { source: { modules: ["n:s:2:c"] } })).json()).toEqual(
      copied(2, { modules: "n:s:2:c" }),
    );
  });

  it("source.builds and sigkeys [] → builds replaced, sigkeys empty", async () => {
    const t = await app();
    await givenCompose(t.db, old);
    expect(
      await (await patch(t, 1, { source: { builds: ["b-1-1"] }, sigkeys: [] })).json(),
    ).toEqual(copied(2, { builds: "b-1-1", sigkeys: "" }));
  });

  it("failed → a new compose, time_to_expire now + 3600, state_reason null", async () => {
    const t = await app();
    await givenCompose(t.db, {
      ...old,
      state: 4,
      stateReason: "Error while generating compose: x",
      timeDone: null,
    });
    expect(await (await patch(t, 1, { seconds_to_live: 3600 })).json()).toEqual(
      copied(2, { time_to_expire: iso(NOW + HOUR) }),
    );
  });

  it("removed, no body → a new compose, now + default", async () => {
    const t = await app();
    await givenCompose(t.db, { ...old, state: 3, timeRemoved: NOW - HOUR, pungiComposeId: null });
    expect(await (await patch(t, 1)).json()).toEqual(copied(2, { respin_of: null }));
  });

  it("calls onJobQueued for a copy only", async () => {
    let calls = 0;
    const t = await testApp({ deps: { onJobQueued: () => calls++ } });
    await givenCompose(t.db, { ...done, timeToExpire: T0 + DAY_MS });
    await patch(t, 1);
    expect(calls).toBe(0);
    await patch(t, 1, { sigkeys: ["ABCD1234"] });
    expect(calls).toBe(1);
  });
});

describe("PATCH /api/1/composes/<id> refuses", () => {
  const NOT_FOUND = (id: number) => odcsError(404, `No compose with id ${id} found`);
  const refused = async (t: App, res: Response, status: number, body: unknown, before: object) => {
    expect({ status: res.status, body: await res.json() }).toEqual({ status, body });
    expect(await countRows(t.db)).toEqual(before);
  };

  it.each([
    ["wait", 0],
    ["generating", 1],
  ])("%s composes → 404 with PATCH's wording", async (_name, state) => {
    const t = await app();
    await givenCompose(t.db, { state, timeToExpire: NOW });
    await refused(t, await patch(t, 1, { seconds_to_live: 60 }), 404, NOT_FOUND(1), {
      composes: 1,
      jobs: 0,
      events: 0,
    });
    expect(await expiryOf(t, 1)).toBe(NOW);
  });

  it("an unknown id → 404", async () => {
    const t = await app();
    await refused(t, await patch(t, 7), 404, NOT_FOUND(7), { composes: 0, jobs: 0, events: 0 });
  });

  it("a non-numeric id → 404 JSON", async () => {
    const t = await app();
    const res = await patch(t, "abc");
    expect(res.status).toBe(404);
    expect((await res.json()).error).toBe("Not Found");
  });

  const bad: [string, string, string][] = [
    [
      "malformed JSON",
      "{bad",
      "<p>The browser (or proxy) sent a request that this server could not understand.</p>",
    ],
    ["a list", "[1]", "The request body must be a JSON object"],
    ["null", "null", "The request body must be a JSON object"],
    ["a string", '""', "The request body must be a JSON object"],
    [
      "seconds_to_live a string",
      '{"seconds_to_live": "x"}',
      "seconds_to_live should be an integer",
    ],
    [
      "legacy key not an integer",
      '{"seconds-to-live": "x"}',
      "Invalid seconds_to_live specified in request: {'seconds-to-live': 'x'}",
    ],
    ["negative seconds_to_live", '{"seconds_to_live": -1}', "seconds_to_live must not be negative"],
    ["sigkeys not a list", '{"sigkeys": "K1"}', "sigkeys should be a list"],
    ["modules not a list", '{"source": {"modules": "m"}}', "modules should be a list"],
    ["builds not a list", '{"source": {"builds": "b"}}', "builds should be a list"],
    ["non-string sigkeys", '{"sigkeys": [1]}', "sigkeys should be a list of strings"],
    [
      "a sigkey that is no key id, checked as POST does",
      '{"sigkeys": ["nothex"]}',
      'Invalid sigkey "nothex": expected 8 or 16 hex digits',
    ],
    [
      "a sigkey with whitespace",
      '{"sigkeys": ["AAAA1111 "]}',
      'Invalid sigkey "AAAA1111 ": expected 8 or 16 hex digits',
    ],
    ["source not an object", '{"source": "modules"}', "source should be an object"],
    ["an unknown field", '{"seconds_to_live": 60, "label": "x"}', 'Unknown field "label"'],
    [
      "an unknown source field",
      '{"source": {"packages": ["x"]}}',
      'Unknown field "packages" in source',
    ],
    [
      "bad characters",
      '{"sigkeys": ["a=b"]}',
      "Only alphanumerical characters and [' ', '-', '/', '_', '.', ':', '#', '+', '?', '$', '~'] characters are allowed in ODCS input variables",
    ],
  ];
  it.each(bad)("%s → 400, even for an unknown id", async (_name, body, message) => {
    const t = await app();
    await givenCompose(t.db, { ...done, timeToExpire: NOW });
    await refused(t, await patch(t, 1, body), 400, odcsError(400, message), {
      composes: 1,
      jobs: 0,
      events: 0,
    });
    await refused(t, await patch(t, 99, body), 400, odcsError(400, message), {
      composes: 1,
      jobs: 0,
      events: 0,
    });
    expect(await expiryOf(t, 1)).toBe(NOW);
  });
});
