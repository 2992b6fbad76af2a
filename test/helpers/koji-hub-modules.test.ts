/**
 * The test Koji hub's module builds (what MBS imports into a real hub):
 * build naming, `extra.typeinfo.module`, listTagged(type="module"), search,
 * listArchives and the archive files under `files/module/`. Checked on the
 * wire with a request writer of our own.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { tempDir } from "./db.ts";
import {
  type KojiHub,
  KojiModel,
  parseMethodResponse,
  startKojiHub,
  type XValue,
} from "./koji-hub.ts";
import { type AddedModule, addModules } from "./module-builds.ts";
import { readModulemd } from "./modulemd.ts";

type V = null | boolean | number | string | V[] | { [k: string]: V };
function val(v: V): string {
  if (v === null) return "<value><nil/></value>";
  if (typeof v === "boolean") return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === "number") return `<value><int>${v}</int></value>`;
  if (typeof v === "string") return `<value><string>${v}</string></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(val).join("")}</data></array></value>`;
  return `<value><struct>${Object.entries(v)
    .map(([k, x]) => `<member><name>${k}</name>${val(x)}</member>`)
    .join("")}</struct></value>`;
}
const kw = (o: Record<string, V>): V => ({ ...o, __starstar: true });

let model: KojiModel;
let hub: KojiHub;
let mods: AddedModule[];

async function call(method: string, ...params: V[]): Promise<XValue> {
  const body = `<?xml version='1.0'?><methodCall><methodName>${method}</methodName><params>${params
    .map((p) => `<param>${val(p)}</param>`)
    .join("")}</params></methodCall>`;
  const res = await fetch(hub.hubUrl, { method: "POST", body });
  const r = parseMethodResponse(await res.text());
  if ("fault" in r)
    throw new Error(`fault ${String(r.fault.faultCode)}: ${String(r.fault.faultString)}`);
  return r.result;
}

beforeAll(async () => {
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  model.createTag("el8-modular");
  mods = await addModules(
    model,
    null,
    [
      {
        name: "nodejs",
        stream: "18-lts",
        version: "8090020231219110341",
        context: "a75119d5",
        rpms: [
          {
            name: "kh-node",
            version: "18.1",
            release: "1",
            arch: "x86_64",
            files: ["/usr/bin/kh-node"],
          },
        ],
        arches: ["x86_64", "s390x"],
      },
      { name: "nodejs", stream: "20", version: "8090020240101000000", context: "b0b0b0b0" },
    ],
    { modularTag: "el8-modular" },
  );
  hub = await startKojiHub(model);
}, 120_000);
afterAll(() => hub?.close());

describe("module builds", () => {
  test("named N-S_-V.C, with extra.typeinfo.module (getBuild)", async () => {
    const b = (await call("getBuild", "nodejs-18_lts-8090020231219110341.a75119d5")) as Record<
      string,
      XValue
    >;
    expect([b.name, b.version, b.release, b.state, b.nvr]).toEqual([
      "nodejs",
      "18_lts",
      "8090020231219110341.a75119d5",
      1,
      "nodejs-18_lts-8090020231219110341.a75119d5",
    ]);
    expect(b.extra).toEqual({
      typeinfo: {
        module: {
          module_build_service_id: expect.any(Number),
          content_koji_tag: "module-nodejs-18-lts-8090020231219110341-a75119d5",
          modulemd_str: mods[0]?.modulemd,
          name: "nodejs",
          stream: "18-lts",
          version: "8090020231219110341",
          context: "a75119d5",
        },
      },
    });
    expect(typeof b.completion_ts).toBe("number");
  });

  test("listTagged: type=module lists only module builds, type=rpm none of them; extra on request", async () => {
    const event = model.lastEvent();
    const mods = (await call(
      "listTagged",
      "el8-modular",
      kw({ event, inherit: true, package: "nodejs", type: "module", extra: true }),
    )) as Record<string, XValue>[];
    expect(
      mods.map((m) => [
        m.nvr,
        m.tag_name,
        (m.extra as Record<string, XValue>).typeinfo !== undefined,
      ]),
    ).toEqual([
      ["nodejs-20-8090020240101000000.b0b0b0b0", "el8-modular", true],
      ["nodejs-18_lts-8090020231219110341.a75119d5", "el8-modular", true],
    ]);
    expect(await call("listTagged", "el8-modular", kw({ type: "rpm" }))).toEqual([]);
    const content = (await call(
      "listTagged",
      "module-nodejs-18-lts-8090020231219110341-a75119d5",
      kw({ type: "module" }),
    )) as unknown[];
    expect(content).toEqual([]);
    expect(
      (
        (await call(
          "listTagged",
          "module-nodejs-18-lts-8090020231219110341-a75119d5",
          kw({ type: "rpm" }),
        )) as Record<string, XValue>[]
      ).map((b) => b.nvr),
    ).toEqual(["kh-node-18.1-1"]);
  });

  test("search: glob (case-insensitive), exact, regexp; unknown type is a fault", async () => {
    const ids = (r: XValue) => (r as Record<string, XValue>[]).map((x) => x.name);
    expect(
      ids(await call("search", "NODEJS-18_lts-8090020231219110341.*", "build", "glob")),
    ).toEqual(["nodejs-18_lts-8090020231219110341.a75119d5"]);
    expect(ids(await call("search", "nodejs-*", "build", "glob"))).toEqual([
      "nodejs-18_lts-8090020231219110341.a75119d5",
      "nodejs-20-8090020240101000000.b0b0b0b0",
    ]);
    expect(
      ids(await call("search", "nodejs-20-8090020240101000000.b0b0b0b0", "build", "")),
    ).toEqual(["nodejs-20-8090020240101000000.b0b0b0b0"]);
    expect(ids(await call("search", "^kh-", "build", "regexp"))).toEqual(["kh-node-18.1-1"]);
    await expect(call("search", "x", "bogus", "glob")).rejects.toThrow(
      "fault 1000: No such search type: 'bogus'",
    );
  });

  test("listArchives(type=module): modulemd.txt and one per arch, served under files/module/", async () => {
    const id = mods[0]?.kojiBuildId ?? 0;
    const rows = (await call("listArchives", kw({ buildID: id, type: "module" }))) as Record<
      string,
      XValue
    >[];
    expect(rows.map((r) => [r.filename, r.btype, r.build_id])).toEqual([
      ["modulemd.txt", "module", id],
      ["modulemd.x86_64.txt", "module", id],
      ["modulemd.s390x.txt", "module", id],
    ]);
    const res = await fetch(
      `${hub.topurl}packages/nodejs/18_lts/8090020231219110341.a75119d5/files/module/modulemd.s390x.txt`,
    );
    const text = await res.text();
    expect(text).toBe(mods[0]?.archModulemd.s390x);
    const read = await readModulemd(text);
    expect(read.streams.map((s) => [s.nsvc, s.arch, s.rpms])).toEqual([
      ["nodejs:18-lts:8090020231219110341:a75119d5", "s390x", []],
    ]);
    expect(await call("listArchives", kw({ buildID: id, type: "maven" }))).toEqual([]);
  });

  test("the modulemd documents are real modulemd (libmodulemd, strict), refusing a broken one", async () => {
    const read = await readModulemd(mods[0]?.modulemd ?? "");
    expect(read.streams.map((s) => [s.nsvc, s.arch, s.rpms])).toEqual([
      ["nodejs:18-lts:8090020231219110341:a75119d5", null, ["kh-node-0:18.1-1.x86_64"]],
    ]);
    await expect(
      readModulemd(
        "---\ndocument: modulemd\nversion: 2\ndata:\n  name: x\n  stream: 1\n  version: notanumber\n...\n",
      ),
    ).rejects.toThrow(/libmodulemd refuses the document/);
  });
});
