/**
 * Koji-only module resolution (reference/modules.md §3, ODCS's
 * `depsolve_modules`) against the test Koji hub: module builds tagged in
 * modular tags with inheritance, found at a pinned event.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ComposeError } from "../../../src/sources/errors.ts";
import { KojiClient } from "../../../src/sources/koji/client.ts";
import { resolveModules } from "../../../src/sources/module/resolve.ts";
import type { ModuleRequest } from "../../../src/sources/module/types.ts";
import { tempDir } from "../../helpers/db.ts";
import { type KojiHub, KojiModel, startKojiHub } from "../../helpers/koji-hub.ts";
import { type AddedModule, addModules } from "../../helpers/module-builds.ts";
import { readModulemd } from "../../helpers/modulemd.ts";

let model: KojiModel;
let hub: KojiHub;
let added: AddedModule[];
/** The event everything but the "late" builds exists at. */
let E: number;

const P = ["modular-parent"];
const A = ["modular-a"];
const B = ["modular-b"];

beforeAll(async () => {
  model = new KojiModel({ topdir: tempDir("koji-top-") });
  model.createTag("modular-parent");
  model.createTag("modular-a");
  model.createTag("modular-b");
  model.addInheritance("modular-a", "modular-parent", 10);
  added = await addModules(model, null, [
    { name: "foo", stream: "1", version: "8090020230101000000", context: "c1c1c1c1", tags: P },
    {
      name: "foo",
      stream: "1",
      version: "8090020240101000000",
      context: "c1c1c1c1",
      tags: P,
      rpms: [
        {
          name: "foo",
          version: "2.0",
          release: "1.module",
          arch: "x86_64",
          files: ["/usr/bin/foo"],
        },
        { name: "foo-data", version: "2.0", release: "1.module", files: ["/usr/share/foo"] },
      ],
      arches: ["x86_64", "ppc64le"],
    },
    { name: "foo", stream: "1", version: "8090020240101000000", context: "c2c2c2c2", tags: P },
    // A newer version in the parent is masked by the child's own build of the stream.
    { name: "bar", stream: "1", version: "5", context: "b5b5b5b5", tags: P },
    { name: "bar", stream: "1", version: "3", context: "b3b3b3b3", tags: A },
    // A stream in the first modular tag masks the same stream in a later one.
    { name: "baz", stream: "1", version: "1", context: "a1a1a1a1", tags: A },
    { name: "baz", stream: "1", version: "9", context: "a9a9a9a9", tags: B },
    { name: "baz", stream: "2", version: "4", context: "a4a4a4a4", tags: B },
    {
      name: "app",
      stream: "1",
      version: "7",
      context: "e7e7e7e7",
      tags: A,
      requires: { foo: ["1"] },
    },
    {
      name: "top",
      stream: "1",
      version: "1",
      context: "f1f1f1f1",
      tags: B,
      requires: { app: ["1"] },
    },
    { name: "dash", stream: "my-stream", version: "2", context: "d2d2d2d2", tags: A },
    {
      name: "needy",
      stream: "1",
      version: "1",
      context: "11111111",
      tags: A,
      requires: { ghost: ["1"] },
    },
    { name: "gone", stream: "1", version: "1", context: "99999999", tags: A, kojiState: "DELETED" },
  ]);
  E = model.lastEvent();
  await addModules(model, null, [
    { name: "late", stream: "1", version: "1", context: "12121212", tags: A },
    { name: "foo", stream: "1", version: "8090020250101000000", context: "c3c3c3c3", tags: P },
  ]);
  hub = await startKojiHub(model);
}, 120_000);
afterAll(() => hub?.close());

const request = (modules: string[], over: Partial<ModuleRequest> = {}): ModuleRequest => ({
  modules,
  noDeps: false,
  includeDone: false,
  baseModuleBrName: null,
  baseModuleBrStream: null,
  baseModuleBrStreamVersionLte: null,
  baseModuleBrStreamVersionGte: null,
  modularKojiTags: ["modular-a", "modular-b"],
  kojiEvent: E,
  ...over,
});

const resolve = (req: ModuleRequest) =>
  resolveModules(req, {
    koji: new KojiClient({ hubUrl: hub.hubUrl }),
    kojiTop: { kind: "url", url: hub.topurl },
  });
const nsvcs = async (req: ModuleRequest) => (await resolve(req)).map((m) => m.nsvc);

async function failure(p: Promise<unknown>): Promise<ComposeError> {
  const err = await p.then(
    () => new Error("resolved"),
    (e: unknown) => e,
  );
  if (!(err instanceof ComposeError)) throw err;
  return err;
}

describe("N:S from the modular tags", () => {
  test("the highest version, all its contexts, found through the tag's inheritance", async () => {
    expect(await nsvcs(request(["foo:1"]))).toEqual([
      "foo:1:8090020240101000000:c1c1c1c1",
      "foo:1:8090020240101000000:c2c2c2c2",
    ]);
  });

  test("the calls: listTagged(type=module, inherit, package, event) and the inheritance at the event", async () => {
    const before = hub.calls.length;
    await resolve(request(["bar:1"], { modularKojiTags: ["modular-a"] }));
    const calls = hub.calls.slice(before).map((c) => [c.method, c.params]);
    expect(calls).toContainEqual([
      "listTagged",
      ["modular-a", { event: E, inherit: true, package: "bar", type: "module", __starstar: true }],
    ]);
    expect(calls).toContainEqual([
      "getFullInheritance",
      ["modular-a", { event: E, __starstar: true }],
    ]);
  });

  test("a stream in the tag itself masks the same stream inherited, even a higher version", async () => {
    expect(await nsvcs(request(["bar:1"]))).toEqual(["bar:1:3:b3b3b3b3"]);
    expect(await nsvcs(request(["bar:1"], { modularKojiTags: ["modular-parent"] }))).toEqual([
      "bar:1:5:b5b5b5b5",
    ]);
  });

  test("a stream in an earlier modular tag masks it in later ones; other streams still come from them", async () => {
    expect(await nsvcs(request(["baz:1", "baz:2"]))).toEqual([
      "baz:1:1:a1a1a1a1",
      "baz:2:4:a4a4a4a4",
    ]);
    expect(
      await nsvcs(request(["baz:1"], { modularKojiTags: ["modular-b", "modular-a"] })),
    ).toEqual(["baz:1:9:a9a9a9a9"]);
  });

  test("a stream with a dash (Koji version with _)", async () => {
    expect(await nsvcs(request(["dash:my-stream"]))).toEqual(["dash:my-stream:2:d2d2d2d2"]);
    expect(await nsvcs(request(["dash:my-stream:2"]))).toEqual(["dash:my-stream:2:d2d2d2d2"]);
  });

  test("at the pinned event: builds tagged later are not seen", async () => {
    expect((await failure(nsvcs(request(["late:1"])))).message).toBe(
      `Failed to find module late:1 in the modular Koji tags modular-a modular-b at event ${E}.`,
    );
    const now = model.lastEvent();
    expect(await nsvcs(request(["late:1", "foo:1"], { kojiEvent: now }))).toEqual([
      "foo:1:8090020250101000000:c3c3c3c3",
      "late:1:1:12121212",
    ]);
  });
});

describe("N:S:V[:C] by search", () => {
  test("N:S:V gives its contexts; N:S:V:C exactly that build", async () => {
    const before = hub.calls.length;
    expect(await nsvcs(request(["foo:1:8090020230101000000"]))).toEqual([
      "foo:1:8090020230101000000:c1c1c1c1",
    ]);
    expect(hub.calls.slice(before).map((c) => [c.method, c.params])).toContainEqual([
      "search",
      ["foo-1-8090020230101000000.*", "build", "glob"],
    ]);
    expect(await nsvcs(request(["foo:1:8090020240101000000:c2c2c2c2"]))).toEqual([
      "foo:1:8090020240101000000:c2c2c2c2",
    ]);
  });

  test("builds completed after the event and deleted builds are not taken", async () => {
    expect((await failure(nsvcs(request(["foo:1:8090020250101000000"])))).message).toBe(
      `Failed to find module foo:1:8090020250101000000 in the modular Koji tags modular-a modular-b at event ${E}.`,
    );
    expect((await failure(nsvcs(request(["gone:1:1"])))).message).toBe(
      `Failed to find module gone:1:1 in the modular Koji tags modular-a modular-b at event ${E}.`,
    );
  });

  test("two versions of one N:S conflict", async () => {
    expect(
      (
        await failure(
          nsvcs(request(["foo:1:8090020230101000000", "foo:1:8090020240101000000:c1c1c1c1"])),
        )
      ).message,
    ).toBe("foo:1:8090020240101000000:c1c1c1c1 conflicts with foo:1:8090020230101000000:c1c1c1c1");
  });
});

describe("dependencies", () => {
  test("runtime requirements from the build's modulemd, recursively; platform skipped", async () => {
    expect(await nsvcs(request(["top:1"]))).toEqual([
      "app:1:7:e7e7e7e7",
      "foo:1:8090020240101000000:c1c1c1c1",
      "foo:1:8090020240101000000:c2c2c2c2",
      "top:1:1:f1f1f1f1",
    ]);
  });

  test("no_deps: only what was asked for", async () => {
    expect(await nsvcs(request(["top:1"], { noDeps: true }))).toEqual(["top:1:1:f1f1f1f1"]);
  });

  test("an explicitly requested version is what a requirement on its stream gets", async () => {
    expect(await nsvcs(request(["app:1", "foo:1:8090020230101000000"]))).toEqual([
      "app:1:7:e7e7e7e7",
      "foo:1:8090020230101000000:c1c1c1c1",
    ]);
  });

  test("a requirement the tags do not have fails the compose, naming it", async () => {
    expect((await failure(nsvcs(request(["needy:1"])))).message).toBe(
      `Failed to find module ghost:1 (required by needy:1:1:11111111) in the modular Koji tags modular-a modular-b at event ${E}.`,
    );
  });
});

test("each module: content tag, modulemd and per-arch modulemd of its build, RPMs of every arch", async () => {
  const [m] = await resolve(request(["foo:1:8090020240101000000:c1c1c1c1"]));
  const foo = added[1] as AddedModule;
  expect(m).toEqual({
    name: "foo",
    stream: "1",
    version: "8090020240101000000",
    context: "c1c1c1c1",
    nsvc: "foo:1:8090020240101000000:c1c1c1c1",
    kojiTag: "module-foo-1-8090020240101000000-c1c1c1c1",
    modulemd: foo.modulemd,
    archModulemd: foo.archModulemd,
    rpms: ["foo-0:2.0-1.module.x86_64", "foo-data-0:2.0-1.module.noarch"],
    kojiBuildId: foo.kojiBuildId,
    develOf: null,
  });
  const ppc = await readModulemd(m?.archModulemd.ppc64le ?? "");
  expect(ppc.streams.map((s) => [s.nsvc, s.arch, s.rpms])).toEqual([
    ["foo:1:8090020240101000000:c1c1c1c1", "ppc64le", ["foo-data-0:2.0-1.module.noarch"]],
  ]);
});
