import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadRpmCorpus } from "../../bench/rpm-corpus.ts";
import { tempDir } from "./db.ts";
import { FIXTURES_DIR } from "./fixtures.ts";
import {
  dumpValue,
  type KojiHub,
  KojiModel,
  parseMethodResponse,
  startKojiHub,
  type XValue,
} from "./koji-hub.ts";
import { type BuiltRpm, buildRpms } from "./rpmbuild.ts";
import { createTestKey, signRpm, type TestKey } from "./rpmsign.ts";

// ---- a request writer of our own (the wire, not any client of ours) -------

type V = null | boolean | number | string | V[] | { [k: string]: V };
function val(v: V): string {
  if (v === null) return "<value><nil/></value>";
  if (typeof v === "boolean") return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === "number") {
    return Number.isInteger(v)
      ? `<value><int>${v}</int></value>`
      : `<value><double>${v}</double></value>`;
  }
  if (typeof v === "string")
    return `<value><string>${v.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</string></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(val).join("")}</data></array></value>`;
  return `<value><struct>${Object.entries(v)
    .map(([k, x]) => `<member><name>${k}</name>${val(x)}</member>`)
    .join("")}</struct></value>`;
}
const kw = (o: Record<string, V>): V => ({ ...o, __starstar: true });
const callXml = (method: string, params: V[]) =>
  `<?xml version='1.0'?>\n<methodCall>\n<methodName>${method}</methodName>\n<params>\n${params
    .map((p) => `<param>${val(p)}</param>\n`)
    .join("")}</params>\n</methodCall>\n`;

async function post(hub: KojiHub, body: string) {
  const res = await fetch(hub.hubUrl, {
    method: "POST",
    body,
    headers: { "Content-Type": "text/xml" },
  });
  return { res, text: await res.text() };
}
async function call(hub: KojiHub, method: string, ...params: V[]): Promise<XValue> {
  const { res, text } = await post(hub, callXml(method, params));
  expect(res.status).toBe(200);
  const r = parseMethodResponse(text);
  if ("fault" in r) throw new Error(`fault ${r.fault.faultCode}: ${r.fault.faultString}`);
  return r.result;
}
async function fault(hub: KojiHub, method: string, ...params: V[]) {
  const { text } = await post(hub, callXml(method, params));
  const r = parseMethodResponse(text);
  if (!("fault" in r)) throw new Error(`no fault: ${JSON.stringify(r.result)}`);
  return r.fault as { faultCode: number; faultString: string };
}
type Row = Record<string, XValue>;
const nvrs = (rows: XValue) => (rows as Row[]).map((b) => `${b.nvr}@${b.tag_name}`);

// ---- fixtures ---------------------------------------------------------------

const DESCS = [
  { name: "w", version: "5.21", release: "1" },
  { name: "w", version: "0.71", release: "1" },
  { name: "a", version: "1.1", release: "1" },
  { name: "a", version: "1.2", release: "1" },
  { name: "a", version: "1.1", release: "2" },
  { name: "sig", version: "1", release: "1", arch: "x86_64", buildSrpm: true },
  { name: "b", version: "1", release: "1" },
];
let built: BuiltRpm[] = [];
let keyA: TestKey;
let keyB: TestKey;
const COPR = `${FIXTURES_DIR}/repos/david35mm-fc34-copr-mirror`;

beforeAll(async () => {
  [built, keyA, keyB] = await Promise.all([
    buildRpms(
      DESCS.map((d) => ({ ...d, files: [`/usr/share/${d.name}/${d.version}-${d.release}`] })),
    ),
    createTestKey("rsa"),
    createTestKey("dsa"),
  ]);
}, 180_000);

const rpmOf = (name: string, version: string, release: string) => {
  const b = built.find(
    (x) =>
      x.description.name === name &&
      x.description.version === version &&
      x.description.release === release,
  );
  if (!b) throw new Error(`not built: ${name}`);
  return b;
};

/**
 * koji.md §5's observed example, at the same event ids: C inherits P1 (prio 10)
 * and P2 (prio 20); a-1.1-1 → P2 at 26 and P1 at 27, w-5.21-1 → P1 at 28,
 * a-1.2-1 → P1 at 29, w-0.71-1 → P1 at 30, a-1.1-2 → C at 34, a-1.2-1 untagged from P1 at 36, w blocked in C at 37.
 */
function section5Model(): KojiModel {
  const m = new KojiModel({ topdir: tempDir("koji-top-") });
  m.createTag("P1");
  m.createTag("P2");
  m.createTag("C", { arches: ["x86_64"] });
  m.addInheritance("C", "P1", 10);
  m.addInheritance("C", "P2", 20);
  m.addPackage("P1", "w");
  m.addPackage("P1", "a");
  m.importBuilds([
    { rpms: [rpmOf("w", "5.21", "1").path] },
    { rpms: [rpmOf("w", "0.71", "1").path] },
    { rpms: [rpmOf("a", "1.1", "1").path] },
    { rpms: [rpmOf("a", "1.2", "1").path] },
    { rpms: [rpmOf("a", "1.1", "2").path] },
  ]);
  while (m.lastEvent() < 25) m.createTag(`filler${m.lastEvent()}`);
  expect(m.tagBuild("P2", "a-1.1-1")).toBe(26);
  expect(m.tagBuild("P1", "a-1.1-1")).toBe(27);
  expect(m.tagBuild("P1", "w-5.21-1")).toBe(28);
  expect(m.tagBuild("P1", "a-1.2-1")).toBe(29);
  expect(m.tagBuild("P1", "w-0.71-1")).toBe(30);
  while (m.lastEvent() < 33) m.createTag(`filler${m.lastEvent()}`);
  expect(m.tagBuild("C", "a-1.1-2")).toBe(34);
  m.createTag("filler35");
  expect(m.untagBuild("P1", "a-1.2-1")).toBe(36);
  expect(m.blockPackage("C", "w")).toBe(37);
  return m;
}

describe("koji hub: transport", () => {
  let hub: KojiHub;
  beforeAll(async () => {
    hub = await startKojiHub(section5Model(), { version: "1.35.3" });
  });
  afterAll(() => hub.close());

  test("405 with Allow: POST for GET; 400 text/plain for unparsable XML and an empty body", async () => {
    const get = await fetch(hub.hubUrl);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(get.headers.get("content-type")).toMatch(/^text\/plain/);
    for (const body of ["", "<methodCall><methodName>x</methodName>", "not xml"]) {
      const { res, text } = await post(hub, body);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(text).toMatch(/^Invalid request: /);
    }
  });

  test("getAPIVersion / getKojiVersion; Koji-Version header; Python's marshaller layout", async () => {
    const { res, text } = await post(hub, callXml("getAPIVersion", []));
    expect(res.headers.get("koji-version")).toBe("1.35.3");
    expect(res.headers.get("content-type")).toBe("text/xml");
    expect(text).toBe(
      "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n</params>\n</methodResponse>\n",
    );
    expect(await call(hub, "getKojiVersion")).toBe("1.35.3");
  });

  test("members as <member>\\n<name>…</name>\\n<value>…</value>\\n</member>, nil, double ts, i8 beyond 32 bits", async () => {
    const { text } = await post(hub, callXml("getEvent", [28]));
    expect(text).toContain(
      "<value><struct>\n<member>\n<name>id</name>\n<value><int>28</int></value>\n</member>\n",
    );
    expect(text).toMatch(
      /<member>\n<name>ts<\/name>\n<value><double>\d+\.\d+<\/double><\/value>\n<\/member>/,
    );
    const { text: tag } = await post(hub, callXml("getTag", ["P1"]));
    expect(tag).toContain("<name>perm</name>\n<value><nil/></value></member>");
    const out: string[] = [];
    dumpValue([2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 40], out);
    expect(out.join("")).toBe(
      "<value><array><data>\n<value><int>2147483647</int></value>\n<value><i8>2147483648</i8></value>\n<value><i8>-2147483649</i8></value>\n<value><i8>1099511627776</i8></value>\n</data></array></value>\n",
    );
  });

  test("<i8> and <nil/> accepted in requests; nil positional = default", async () => {
    const body = callXml("listTagged", ["P1", null, false, null, true]).replace(
      "<value><nil/></value>",
      "<value><i8>30</i8></value>",
    );
    const r = parseMethodResponse((await post(hub, body)).text) as { result: Row[] };
    expect(nvrs(r.result)).toEqual(["w-0.71-1@P1", "a-1.2-1@P1"]);
    expect(nvrs(await call(hub, "listTagged", "P1", null, false, null, true))).toEqual([
      "w-0.71-1@P1",
      "a-1.1-1@P1",
    ]);
    // bare text inside <value> is a string
    const bare = callXml("getTagID", ["P1"]).replace(
      "<value><string>P1</string></value>",
      "<value>P1</value>",
    );
    expect((parseMethodResponse((await post(hub, bare)).text) as { result: XValue }).result).toBe(
      1,
    );
  });

  test("failNext: reset, offline (1014 database outage), http500, then normal again", async () => {
    hub.failNext(1, "reset");
    await expect(
      fetch(hub.hubUrl, { method: "POST", body: callXml("getAPIVersion", []) }),
    ).rejects.toThrow();
    hub.failNext(1, "offline");
    expect(await fault(hub, "getAPIVersion")).toEqual({
      faultCode: 1014,
      faultString: "database outage",
    });
    hub.failNext(1, "http500");
    expect((await post(hub, callXml("getAPIVersion", []))).res.status).toBe(500);
    expect(await call(hub, "getAPIVersion")).toBe(1);
  });

  test("calls are recorded, multiCall expanded and marked", async () => {
    const before = hub.calls.length;
    await call(hub, "getTagID", "C");
    await call(hub, "multiCall", [
      { methodName: "getTagID", params: ["P1"] },
      { methodName: "getTagID", params: ["P2"] },
    ]);
    expect(hub.calls.slice(before).map((c) => [c.method, c.params, c.inMulticall])).toEqual([
      ["getTagID", ["C"], false],
      ["getTagID", ["P1"], true],
      ["getTagID", ["P2"], true],
    ]);
  });
});

describe("koji hub: faults", () => {
  let hub: KojiHub;
  beforeAll(async () => {
    hub = await startKojiHub(section5Model());
  });
  afterAll(() => hub.close());

  test("§8 fault: unknown tag with strict listTaggedRPMS", async () => {
    const { text } = await post(hub, callXml("listTaggedRPMS", ["f99-build"]));
    expect(text).toBe(
      "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>1000</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>No such tagInfo: 'f99-build'</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n",
    );
  });

  test("the observed texts and codes", async () => {
    expect(await fault(hub, "getTag", "nope", true)).toEqual({
      faultCode: 1000,
      faultString: "No such tagInfo: 'nope'",
    });
    expect(await fault(hub, "listTagged", 999)).toEqual({
      faultCode: 1000,
      faultString: "No such tagInfo: 999",
    });
    expect(await fault(hub, "tagLastChangeEvent", "nope")).toMatchObject({
      faultString: "No such tagInfo: 'nope'",
    });
    for (const [m, args] of [
      ["getTagID", ["nope", kw({ strict: true })]],
      ["getInheritanceData", ["nope"]],
      ["getFullInheritance", ["nope"]],
    ] as const) {
      expect(await fault(hub, m, ...args)).toEqual({
        faultCode: 1000,
        faultString: "No such entry in table tag: nope",
      });
    }
    expect(await fault(hub, "bogusMethod")).toEqual({
      faultCode: 1000,
      faultString: "Invalid method: bogusMethod",
    });
    expect(await fault(hub, "listTagged", "C", kw({ bogus: 1 }))).toEqual({
      faultCode: 1019,
      faultString: "RootExports.listTagged() got an unexpected keyword argument 'bogus'",
    });
    expect(await fault(hub, "getTag", "C", false, null, false, 1, 2)).toEqual({
      faultCode: 1019,
      faultString: "get_tag() takes from 1 to 4 positional arguments but 6 were given",
    });
    expect(await fault(hub, "listTaggedRPMS", "C", kw({ prefix: "a" }))).toMatchObject({
      faultCode: 1019,
    });
    expect(await fault(hub, "listTagged", "C", kw({ type: "bogus" }))).toEqual({
      faultCode: 1000,
      faultString: "unsupported build type: bogus",
    });
    expect(await fault(hub, "tagBuild", "C", "a-1.1-1")).toEqual({
      faultCode: 1004,
      faultString: "tag permission required (user not logged in)",
    });
    expect((await fault(hub, "writeSignedRPM", 1, "abcd1234")).faultCode).toBe(1004);
  });

  test("unknown tags with strict=False: nil, and listTaggedRPMS's plain []", async () => {
    expect(await call(hub, "getTag", "nope")).toBeNull();
    expect(await call(hub, "getTagID", "nope")).toBeNull();
    expect(await call(hub, "listTagged", "nope", kw({ strict: false }))).toEqual([]);
    expect(await call(hub, "listTaggedRPMS", "nope", kw({ strict: false }))).toEqual([]);
  });

  test("a tag asked for at an event before it existed is unknown", async () => {
    const c = (await call(hub, "getTag", "C")) as Row;
    expect(c).toMatchObject({ id: 3, name: "C", arches: "x86_64", locked: false, extra: {} });
    expect(c).not.toHaveProperty("query_event");
    expect(await call(hub, "getTag", "C", kw({ event: 2 }))).toBeNull();
    expect(await call(hub, "getTag", "C", kw({ event: 3 }))).toMatchObject({
      name: "C",
      query_event: 3,
    });
    expect(await fault(hub, "listTaggedRPMS", "C", kw({ event: 2 }))).toEqual({
      faultCode: 1000,
      faultString: "No such tagInfo: 'C'",
    });
  });

  test("events: getLastEvent, getEvent, query returned no rows", async () => {
    expect(await call(hub, "getLastEvent")).toMatchObject({ id: 37 });
    expect(await fault(hub, "getEvent", 999)).toEqual({
      faultCode: 1000,
      faultString: "query returned no rows",
    });
    expect(await call(hub, "getEvent", 999, false)).toBeNull();
    const e5 = (await call(hub, "getEvent", 5)) as { ts: number };
    expect(await call(hub, "getLastEvent", kw({ before: e5.ts }))).toMatchObject({ id: 4 });
    expect(await fault(hub, "getLastEvent", kw({ before: 1 }))).toMatchObject({ faultCode: 1000 });
    const fresh = await startKojiHub(new KojiModel({ topdir: tempDir("koji-top-") }));
    try {
      expect(await fault(fresh, "getLastEvent")).toEqual({
        faultCode: 1000,
        faultString: "query returned no rows",
      });
    } finally {
      await fresh.close();
    }
  });

  test("tagChangedSinceEvent: ids only, no inheritance; names and [] → fault 1", async () => {
    const m = section5Model();
    const h = await startKojiHub(m);
    try {
      const e = m.lastEvent();
      m.tagBuild("P2", "w-5.21-1");
      expect(await call(h, "tagChangedSinceEvent", e, [3])).toBe(false);
      expect(await call(h, "tagChangedSinceEvent", e, [3, 1, 2])).toBe(true);
      expect(await call(h, "tagChangedSinceEvent", e, [9999])).toBe(false);
      expect((await fault(h, "tagChangedSinceEvent", e, ["C"])).faultCode).toBe(1);
      expect((await fault(h, "tagChangedSinceEvent", e, [])).faultCode).toBe(1);
      expect(await call(h, "tagLastChangeEvent", "C")).toBe(e + 1);
      expect(await call(h, "tagLastChangeEvent", "C", kw({ inherit: false }))).toBe(37);
      expect(await call(h, "tagLastChangeEvent", "C", kw({ before: 35 }))).toBe(34);
    } finally {
      await h.close();
    }
  });
});

describe("koji hub: multiCall", () => {
  let hub: KojiHub;
  beforeAll(async () => {
    hub = await startKojiHub(section5Model());
  });
  afterAll(() => hub.close());

  test("results as [result], faults as structs with traceback, in order; system.multicall alias", async () => {
    for (const name of ["multiCall", "system.multicall"]) {
      const r = (await call(hub, name, [
        { methodName: "getBuild", params: ["a-1.1-2"] },
        { methodName: "getTag", params: ["nope", kw({ strict: true })] },
        { methodName: "listBuildRPMs", params: ["a-1.1-2"] },
        { methodName: "noSuchCall", params: [] },
      ])) as XValue[];
      expect(r).toHaveLength(4);
      expect((r[0] as Row[])[0]).toMatchObject({ nvr: "a-1.1-2", state: 1 });
      expect(r[1]).toMatchObject({ faultCode: 1000, faultString: "No such tagInfo: 'nope'" });
      expect(Array.isArray((r[1] as Row).traceback)).toBe(true);
      expect(((r[2] as XValue[])[0] as Row[]).map((x) => x.nvr)).toEqual(["a-1.1-2"]);
      expect(r[3]).toMatchObject({ faultCode: 1000, faultString: "Invalid method: noSuchCall" });
    }
  });
});

describe("koji hub: selection semantics (koji.md §5 observed example)", () => {
  let hub: KojiHub;
  beforeAll(async () => {
    hub = await startKojiHub(section5Model());
  });
  afterAll(() => hub.close());
  const latest = async (tag: string, event: number, inherit = true) =>
    nvrs(await call(hub, "listTagged", tag, kw({ event, inherit, latest: true })));

  test("latest = most recently tagged, not the highest NVR", async () => {
    expect(await latest("P1", 28)).toEqual(["w-5.21-1@P1", "a-1.1-1@P1"]);
    expect(await latest("P1", 30)).toEqual(["w-0.71-1@P1", "a-1.2-1@P1"]);
    expect(await latest("C", 30)).toEqual(["w-0.71-1@P1", "a-1.2-1@P1"]);
  });

  test("a build in the child wins over the parents; the parent alone is unchanged", async () => {
    expect(await latest("C", 34)).toEqual(["a-1.1-2@C", "w-0.71-1@P1"]);
    expect(await latest("P1", 34)).toEqual(["w-0.71-1@P1", "a-1.2-1@P1"]);
    expect(await latest("C", 33)).toEqual(["w-0.71-1@P1", "a-1.2-1@P1"]);
  });

  test("untag at 36: the previously tagged build again; at the untag event it is already gone", async () => {
    expect(await latest("P1", 35)).toEqual(["w-0.71-1@P1", "a-1.2-1@P1"]);
    expect(await latest("P1", 36)).toEqual(["w-0.71-1@P1", "a-1.1-1@P1"]);
  });

  test("block w in C at 37 hides w from C (also without inherit) but not from P1", async () => {
    expect(await latest("C", 36)).toEqual(["a-1.1-2@C", "w-0.71-1@P1"]);
    expect(await latest("C", 37)).toEqual(["a-1.1-2@C"]);
    expect(await latest("C", 999)).toEqual(["a-1.1-2@C"]);
    expect(await latest("P1", 37)).toEqual(["w-0.71-1@P1", "a-1.1-1@P1"]);
    const rpms = (await call(
      hub,
      "listTaggedRPMS",
      "C",
      kw({ inherit: true, latest: true }),
    )) as Row[][];
    expect(rpms[0]?.map((r) => r.name)).toEqual(["a"]);
  });

  test("packages absent from the list are dropped: P2's a-1.1-1 never shows", async () => {
    expect(nvrs(await call(hub, "listTagged", "P2"))).toEqual([]);
    // C inherits P1's list, so P2's build is visible through C.
    expect(nvrs(await call(hub, "listTagged", "C", kw({ inherit: true, event: 30 })))).toEqual([
      "w-0.71-1@P1",
      "a-1.2-1@P1",
      "w-5.21-1@P1",
      "a-1.1-1@P1",
      "a-1.1-1@P2",
    ]);
  });

  test("latest=N and latest=false; a build twice in two tags appears twice", async () => {
    expect(nvrs(await call(hub, "listTagged", "P1", kw({ event: 31, latest: 2 })))).toEqual([
      "w-0.71-1@P1",
      "a-1.2-1@P1",
      "w-5.21-1@P1",
      "a-1.1-1@P1",
    ]);
    expect(
      nvrs(await call(hub, "listTagged", "C", kw({ event: 30, inherit: true, latest: 1 }))),
    ).toEqual(["w-0.71-1@P1", "a-1.2-1@P1"]);
    // latest=2 across tags: a-1.1-1 from P2 comes third for a and is dropped
    expect(
      nvrs(await call(hub, "listTagged", "C", kw({ event: 30, inherit: true, latest: 2 }))),
    ).toEqual(["w-0.71-1@P1", "a-1.2-1@P1", "w-5.21-1@P1", "a-1.1-1@P1"]);
    expect(nvrs(await call(hub, "listTagged", "P1", kw({ prefix: "A", event: 31 })))).toEqual([
      "a-1.2-1@P1",
      "a-1.1-1@P1",
    ]);
    expect(nvrs(await call(hub, "listTagged", "P1", kw({ package: "w", event: 31 })))).toEqual([
      "w-0.71-1@P1",
      "w-5.21-1@P1",
    ]);
  });

  test("listTaggedRPMS: [rpms, builds], each RPM once, grouped by tag, §8 field sets", async () => {
    const [rpms, builds] = (await call(
      hub,
      "listTaggedRPMS",
      "C",
      kw({ event: 30, inherit: true }),
    )) as Row[][];
    expect(builds?.map((b) => `${b.nvr}@${b.tag_name}`)).toEqual([
      "w-0.71-1@P1",
      "a-1.2-1@P1",
      "w-5.21-1@P1",
      "a-1.1-1@P1",
      "a-1.1-1@P2",
    ]);
    // a-1.1-1 once although listed twice
    expect(rpms?.map((r) => `${r.name}-${r.version}-${r.release}`).sort()).toEqual([
      "a-1.1-1",
      "a-1.2-1",
      "w-0.71-1",
      "w-5.21-1",
    ]);
    expect(Object.keys(rpms?.[0] ?? {}).sort()).toEqual(
      [
        "arch",
        "build_id",
        "buildroot_id",
        "buildtime",
        "draft",
        "epoch",
        "extra",
        "id",
        "metadata_only",
        "name",
        "payloadhash",
        "release",
        "size",
        "version",
      ].sort(),
    );
    expect(Object.keys(builds?.[0] ?? {}).sort()).toEqual(
      [
        "tag_id",
        "tag_name",
        "id",
        "build_id",
        "version",
        "release",
        "epoch",
        "state",
        "completion_time",
        "promotion_time",
        "start_time",
        "task_id",
        "draft",
        "owner_id",
        "owner_name",
        "promoter_id",
        "promoter_name",
        "creation_event_id",
        "creation_time",
        "volume_id",
        "volume_name",
        "package_id",
        "package_name",
        "name",
        "nvr",
        "create_event",
      ].sort(),
    );
    expect(builds?.[0]).toMatchObject({
      create_event: 30,
      tag_name: "P1",
      epoch: null,
      volume_name: "DEFAULT",
    });
    expect(String(builds?.[0]?.completion_time)).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$/,
    );
    const noarch = (await call(hub, "listTaggedRPMS", "P1", kw({ arch: ["x86_64"] }))) as Row[][];
    expect(noarch[0]).toEqual([]);
    expect((await fault(hub, "listTaggedRPMS", "P1", kw({ arch: 5 }))).faultCode).toBe(1000);
  });

  test("getInheritanceData and getFullInheritance (+ reverse)", async () => {
    expect(await call(hub, "getInheritanceData", "C")).toEqual([
      {
        child_id: 3,
        intransitive: false,
        maxdepth: null,
        name: "P1",
        noconfig: false,
        parent_id: 1,
        pkg_filter: "",
        priority: 10,
      },
      {
        child_id: 3,
        intransitive: false,
        maxdepth: null,
        name: "P2",
        noconfig: false,
        parent_id: 2,
        pkg_filter: "",
        priority: 20,
      },
    ]);
    const full = (await call(hub, "getFullInheritance", "C")) as Row[];
    expect(full.map((l) => [l.name, l.currdepth, l.nextdepth, l.filter])).toEqual([
      ["P1", 1, null, []],
      ["P2", 1, null, []],
    ]);
    const rev = (await call(
      hub,
      "getFullInheritance",
      "P1",
      kw({ reverse: true, stops: {}, jumps: {} }),
    )) as Row[];
    expect(rev).toEqual([expect.objectContaining({ name: "C", tag_id: 3, parent_id: 1 })]);
    expect(rev[0]).not.toHaveProperty("child_id");
  });
});

describe("koji hub: inheritance walk (maxdepth, intransitive, pkg_filter, priorities)", () => {
  test("depth-first in priority order, limits honoured", async () => {
    const m = new KojiModel({ topdir: tempDir("koji-top-") });
    for (const t of ["top", "mid", "base", "side", "deep"]) m.createTag(t);
    m.addInheritance("top", "side", 20, { pkgFilter: "^b" });
    m.addInheritance("top", "mid", 10);
    m.addInheritance("mid", "base", 5, { intransitive: true });
    m.addInheritance("mid", "deep", 6, { maxdepth: 0 });
    m.addInheritance("deep", "base", 1);
    m.addInheritance("side", "deep", 1);
    const h = await startKojiHub(m);
    try {
      const full = (await call(h, "getFullInheritance", "top")) as Row[];
      // base is intransitive from mid (not honoured below the first level); deep has maxdepth 0 from mid;
      // deep is reached again through side with more depth, so it is listed again with its parent.
      expect(full.map((l) => [l.name, l.currdepth, l.nextdepth, l.filter])).toEqual([
        ["mid", 1, null, []],
        ["deep", 2, 0, []],
        ["side", 1, null, ["^b"]],
        ["deep", 2, null, ["^b"]],
        ["base", 3, null, ["^b"]],
      ]);
      const direct = (await call(h, "getFullInheritance", "mid")) as Row[];
      expect(direct.map((l) => l.name)).toEqual(["base", "deep"]);
    } finally {
      await h.close();
    }
  });

  test("pkg_filter limits what flows through a link", async () => {
    const m = new KojiModel({ topdir: tempDir("koji-top-") });
    m.createTag("parent");
    m.createTag("child");
    m.addInheritance("child", "parent", 1, { pkgFilter: "^a$" });
    m.addPackage("parent", "a");
    m.addPackage("parent", "b");
    m.importBuilds([
      { rpms: [rpmOf("a", "1.1", "1").path] },
      { rpms: [rpmOf("b", "1", "1").path] },
    ]);
    m.tagBuild("parent", "a-1.1-1");
    m.tagBuild("parent", "b-1-1");
    const h = await startKojiHub(m);
    try {
      expect(nvrs(await call(h, "listTagged", "child", kw({ inherit: true })))).toEqual([
        "a-1.1-1@parent",
      ]);
      expect(nvrs(await call(h, "listTagged", "parent"))).toEqual([
        "b-1-1@parent",
        "a-1.1-1@parent",
      ]);
      // unblock re-lists only what the tag itself blocked
      m.blockPackage("child", "a");
      expect(nvrs(await call(h, "listTagged", "child", kw({ inherit: true })))).toEqual([]);
      m.unblockPackage("child", "a");
      expect(nvrs(await call(h, "listTagged", "child", kw({ inherit: true })))).toEqual([
        "a-1.1-1@parent",
      ]);
    } finally {
      await h.close();
    }
  });
});

describe("koji hub: deleted tags, maxdepth chains, Python truthiness", () => {
  test("deleteTag: unknown now, known at earlier events, found with event='auto'; last change = deletion", async () => {
    const m = new KojiModel({ topdir: tempDir("koji-top-") });
    for (const t of ["a1", "a2", "a3", "a4"]) m.createTag(t);
    m.addInheritance("a1", "a2", 1, { maxdepth: 1 });
    m.addInheritance("a2", "a3", 1);
    m.addInheritance("a3", "a4", 1);
    const gone = m.createTag("gone").event;
    const deleted = m.deleteTag("gone");
    const h = await startKojiHub(m);
    try {
      expect(await call(h, "getTag", "gone")).toBeNull();
      expect(await call(h, "getTag", "gone", kw({ event: gone }))).toMatchObject({ name: "gone" });
      expect(await call(h, "getTag", "gone", kw({ event: "auto" }))).toMatchObject({
        name: "gone",
        revoke_event: deleted,
      });
      expect(await call(h, "getTagID", "gone")).toBe(5);
      expect(await call(h, "tagLastChangeEvent", "gone")).toBe(deleted);
      // maxdepth 1 on a1→a2: a2 and its parent a3, not a4
      const full = (await call(h, "getFullInheritance", "a1")) as Row[];
      expect(full.map((l) => [l.name, l.currdepth, l.nextdepth])).toEqual([
        ["a2", 1, 1],
        ["a3", 2, 0],
      ]);
      const rev = (await call(h, "getFullInheritance", "a4", kw({ reverse: true }))) as Row[];
      // reverse: a1's link to a2 has maxdepth 1 < depth-1 = 2 when reached from a4
      expect(rev.map((l) => [l.name, l.currdepth])).toEqual([
        ["a3", 1],
        ["a2", 2],
      ]);
    } finally {
      await h.close();
    }
  });

  test("retag at a later event: the retagged build is the latest again, with the new create_event", async () => {
    const m = section5Model();
    const retag = m.tagBuild("P1", "a-1.2-1");
    expect(retag).toBe(38);
    const h = await startKojiHub(m);
    try {
      const at = async (event: number) =>
        (
          (await call(h, "listTagged", "P1", kw({ event, latest: true, package: "a" }))) as Row[]
        ).map((b) => [b.nvr, b.create_event]);
      expect(await at(37)).toEqual([["a-1.1-1", 27]]);
      expect(await at(38)).toEqual([["a-1.2-1", 38]]);
      expect(await at(29)).toEqual([["a-1.2-1", 29]]);
    } finally {
      await h.close();
    }
  });

  test("arch '' or [] does not filter; latest=0 is all, a negative latest keeps nothing", async () => {
    const h = await startKojiHub(section5Model());
    try {
      for (const arch of ["", []] as V[]) {
        const [rpms] = (await call(h, "listTaggedRPMS", "P1", kw({ arch }))) as Row[][];
        expect(rpms).toHaveLength(3);
      }
      expect(nvrs(await call(h, "listTagged", "P1", kw({ latest: 0 })))).toHaveLength(3);
      expect(await call(h, "listTagged", "P1", kw({ latest: -1 }))).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe("koji hub: builds, RPMs, signatures and files", () => {
  let m: KojiModel;
  let hub: KojiHub;
  let signedA = "";
  let signedB = "";
  const sig = () => rpmOf("sig", "1", "1");
  beforeAll(async () => {
    m = new KojiModel({ topdir: tempDir("koji-top-") });
    m.createTag("t");
    m.addPackage("t", "sig");
    m.addPackage("t", "ProtonUpdater");
    const s = sig();
    if (!s.srpmPath) throw new Error("no srpm");
    m.importBuild([s.path, s.srpmPath]);
    m.importBuild(
      [
        `${COPR}/noarch/ProtonUpdater-0.2.1-1.fc34.noarch.rpm`,
        `${COPR}/SRPMS/ProtonUpdater-0.2.1-1.fc34.src.rpm`,
      ],
      { volume: "archive", owner: "someone" },
    );
    m.importBuild([rpmOf("b", "1", "1").path], { state: "FAILED" });
    m.tagBuild("t", "sig-1-1");
    m.tagBuild("t", "ProtonUpdater-0.2.1-1.fc34");
    m.tagBuild("t", "b-1-1");
    signedA = await signRpm(s.path, keyA);
    signedB = await signRpm(s.path, keyB);
    expect(m.signRpm("sig-1-1.x86_64", signedA)).toEqual({
      sigkey: keyA.sigkey,
      event: m.lastEvent(),
    });
    m.signRpm("sig-1-1.x86_64", signedB, { writeCopy: false });
    hub = await startKojiHub(m);
  }, 120_000);
  afterAll(() => hub.close());

  test("rpmsigs rows: '' for the unsigned import plus each key; an RPM imported signed has its key only", async () => {
    const [rpms, builds] = (await call(
      hub,
      "listTaggedRPMS",
      "t",
      kw({ rpmsigs: true }),
    )) as Row[][];
    expect(rpms?.map((r) => `${r.name}.${r.arch}:${r.sigkey}`).sort()).toEqual(
      [
        "ProtonUpdater.noarch:7a6e318b",
        "ProtonUpdater.src:7a6e318b",
        "sig.src:",
        "sig.x86_64:",
        `sig.x86_64:${keyA.sigkey}`,
        `sig.x86_64:${keyB.sigkey}`,
      ].sort(),
    );
    // the FAILED build is not listed
    expect(builds?.map((b) => b.nvr)).toEqual(["ProtonUpdater-0.2.1-1.fc34", "sig-1-1"]);
  });

  test("queryRPMSigs: sighash = MD5 of the .sig file; '' row; unknown → []; sigkey lower-cased", async () => {
    const rpm = (await call(hub, "getRPM", "sig-1-1.x86_64")) as Row;
    const sigs = (await call(hub, "queryRPMSigs", kw({ rpm_id: rpm.id as number }))) as Row[];
    expect(sigs.map((s) => s.sigkey)).toEqual(["", keyA.sigkey, keyB.sigkey]);
    const dir = join(m.topdir, "packages/sig/1/1/data");
    for (const s of sigs) {
      const file = s.sigkey
        ? join(dir, "sigcache", String(s.sigkey), "x86_64/sig-1-1.x86_64.rpm.sig")
        : join(dir, "sigcache/x86_64/sig-1-1.x86_64.rpm.sig");
      expect(createHash("md5").update(readFileSync(file)).digest("hex")).toBe(s.sighash);
    }
    expect(await call(hub, "queryRPMSigs", kw({ rpm_id: 99999 }))).toEqual([]);
    expect(
      await call(
        hub,
        "queryRPMSigs",
        kw({ rpm_id: "sig-1-1.x86_64", sigkey: keyA.sigkey.toUpperCase() }),
      ),
    ).toEqual([{ rpm_id: rpm.id, sigkey: keyA.sigkey, sighash: sigs[1]?.sighash }]);
  });

  test("payloadhash = SIGMD5 (same for signed and unsigned), size = file size; the file layout of §7", async () => {
    const rpm = (await call(hub, "getRPM", "sig-1-1.x86_64")) as Row;
    const md5 = execFileSync("rpm", ["-qp", "--nosignature", "--qf", "%{SIGMD5}", signedA], {
      encoding: "utf8",
    });
    expect(rpm.payloadhash).toBe(md5);
    expect(rpm.size).toBe(statSync(sig().path).size);
    const top = m.topdir;
    expect(readFileSync(join(top, "packages/sig/1/1/x86_64/sig-1-1.x86_64.rpm"))).toEqual(
      readFileSync(sig().path),
    );
    expect(
      readFileSync(
        join(top, `packages/sig/1/1/data/signed/${keyA.sigkey}/x86_64/sig-1-1.x86_64.rpm`),
      ),
    ).toEqual(readFileSync(signedA));
    // recorded without a copy
    expect(
      existsSync(
        join(top, `packages/sig/1/1/data/signed/${keyB.sigkey}/x86_64/sig-1-1.x86_64.rpm`),
      ),
    ).toBe(false);
    expect(existsSync(join(top, "packages/sig/1/1/src/sig-1-1.src.rpm"))).toBe(true);
    // another volume
    expect(
      existsSync(
        join(
          top,
          "vol/archive/packages/ProtonUpdater/0.2.1/1.fc34/noarch/ProtonUpdater-0.2.1-1.fc34.noarch.rpm",
        ),
      ),
    ).toBe(true);
  });

  test("getBuild: by id, NVR and struct; nil, No such build, invalid format", async () => {
    const byNvr = (await call(hub, "getBuild", "ProtonUpdater-0.2.1-1.fc34")) as Row;
    expect(Object.keys(byNvr).sort()).toEqual(
      [
        "id",
        "build_id",
        "package_id",
        "package_name",
        "name",
        "version",
        "release",
        "epoch",
        "nvr",
        "draft",
        "state",
        "task_id",
        "owner_id",
        "owner_name",
        "promoter_id",
        "promoter_name",
        "volume_id",
        "volume_name",
        "creation_event_id",
        "creation_time",
        "creation_ts",
        "start_time",
        "start_ts",
        "completion_time",
        "completion_ts",
        "promotion_time",
        "promotion_ts",
        "source",
        "cg_id",
        "cg_name",
        "extra",
      ].sort(),
    );
    expect(byNvr).toMatchObject({
      name: "ProtonUpdater",
      owner_name: "someone",
      volume_name: "archive",
      state: 1,
      task_id: null,
      source: null,
    });
    expect(typeof byNvr.creation_ts).toBe("number");
    expect(await call(hub, "getBuild", byNvr.id as number)).toEqual(byNvr);
    expect(
      await call(hub, "getBuild", { name: "ProtonUpdater", version: "0.2.1", release: "1.fc34" }),
    ).toEqual(byNvr);
    expect(await call(hub, "getBuild", "b-1-1")).toMatchObject({ state: 3 });
    expect(await call(hub, "getBuild", "nope-1-1")).toBeNull();
    expect(await fault(hub, "getBuild", "nope-1-1", true)).toEqual({
      faultCode: 1000,
      faultString: "No such build: 'nope-1-1'",
    });
    expect(await fault(hub, "getBuild", "bash")).toEqual({
      faultCode: 1000,
      faultString: "invalid format: bash",
    });
    expect(await fault(hub, "listBuildRPMs", "nope-1-1")).toEqual({
      faultCode: 1000,
      faultString: "No such build: 'nope-1-1'",
    });
  });

  test("listBuildRPMs / listRPMs / getRPM shapes", async () => {
    const rpms = (await call(hub, "listBuildRPMs", "sig-1-1")) as Row[];
    expect(rpms.map((r) => r.arch).sort()).toEqual(["src", "x86_64"]);
    expect(rpms[0]).toMatchObject({
      external_repo_id: 0,
      external_repo_name: "INTERNAL",
      nvr: "sig-1-1",
    });
    const b = (await call(hub, "getBuild", "sig-1-1")) as Row;
    expect(await call(hub, "listRPMs", kw({ buildID: b.id as number }))).toEqual(rpms);
    expect(await call(hub, "listRPMs", kw({ buildID: b.id as number, arches: "src" }))).toEqual(
      rpms.filter((r) => r.arch === "src"),
    );
    expect(
      await call(hub, "listRPMs", kw({ buildID: b.id as number, queryOpts: { countOnly: true } })),
    ).toBe(2);
    const one = (await call(hub, "getRPM", rpms[0]?.id as number)) as Row;
    expect(one).not.toHaveProperty("nvr");
    expect(await call(hub, "getRPM", String(rpms[0]?.id))).toEqual(one);
    expect(await call(hub, "getRPM", "nope-1-1.x86_64")).toBeNull();
    expect(await fault(hub, "getRPM", "nope-1-1.x86_64", true)).toEqual({
      faultCode: 1000,
      faultString:
        "No such rpm: {'release': '1', 'version': '1', 'name': 'nope', 'epoch': '', 'arch': 'x86_64', 'src': False}",
    });
    expect(await call(hub, "getRPM", "sig-1-1.src.rpm")).toMatchObject({
      arch: "src",
      name: "sig",
    });
    expect(await call(hub, "getRPM", "sig-1-1.src@elsewhere")).toBeNull();
  });

  test("file server: GET, HEAD, Range 206/416, 404; requests and bytes counted", async () => {
    const path = "packages/sig/1/1/x86_64/sig-1-1.x86_64.rpm";
    const bytes = readFileSync(join(m.topdir, path));
    const n = hub.fileRequests.length;
    const full = await fetch(`${hub.topurl}${path}`);
    expect(full.status).toBe(200);
    expect(Buffer.from(await full.arrayBuffer())).toEqual(bytes);
    const part = await fetch(`${hub.topurl}${path}`, { headers: { Range: "bytes=96-111" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 96-111/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(96, 112));
    const past = await fetch(`${hub.topurl}${path}`, {
      headers: { Range: `bytes=${bytes.length}-${bytes.length + 9}` },
    });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${bytes.length}`);
    await past.arrayBuffer();
    const head = await fetch(`${hub.topurl}${path}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    const missing = await fetch(`${hub.topurl}packages/nope.rpm`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    const outside = await fetch(`${hub.topurl}%2e%2e/%2e%2e/etc/passwd`);
    expect([403, 404]).toContain(outside.status);
    await outside.arrayBuffer();
    expect(hub.fileRequests.slice(n, n + 5)).toEqual([
      { method: "GET", path: `/${path}`, range: null, status: 200, bytes: bytes.length },
      { method: "GET", path: `/${path}`, range: "bytes=96-111", status: 206, bytes: 16 },
      expect.objectContaining({ status: 416 }),
      { method: "HEAD", path: `/${path}`, range: null, status: 200, bytes: 0 },
      expect.objectContaining({ status: 404 }),
    ]);
  });
});

describe("koji hub: many builds from the bench corpus", () => {
  test("importBuilds reads all files in one batch; listTaggedRPMS answers every RPM", async () => {
    const corpus = loadRpmCorpus({ packages: 300, seed: 5 });
    const files = readdirSync(join(corpus.dir, "Packages")).flatMap((d) =>
      readdirSync(join(corpus.dir, "Packages", d)).map((f) => join(corpus.dir, "Packages", d, f)),
    );
    expect(files).toHaveLength(300);
    const m = new KojiModel({ topdir: tempDir("koji-top-") });
    m.createTag("big");
    const imported = m.importBuilds(files.map((f) => ({ rpms: [f] })));
    for (const b of imported) m.addPackage("big", b.nvr.replace(/-[^-]+-[^-]+$/, ""));
    for (const b of imported) m.tagBuild("big", b.nvr);
    expect(m.lastEvent()).toBe(1 + 3 * 300);
    const hub = await startKojiHub(m);
    try {
      const [rpms, builds] = (await call(
        hub,
        "listTaggedRPMS",
        "big",
        kw({ latest: true, rpmsigs: true }),
      )) as Row[][];
      expect(builds).toHaveLength(300);
      expect(rpms).toHaveLength(300);
      expect(new Set(rpms?.map((r) => r.sigkey))).toEqual(new Set([""]));
      const first = rpms?.[0] as Row;
      const path = `packages/${first.name}/${first.version}/${first.release}/${first.arch}/${first.name}-${first.version}-${first.release}.${first.arch}.rpm`;
      expect(statSync(join(m.topdir, path)).size).toBe(first.size);
    } finally {
      await hub.close();
    }
  }, 120_000);
});
