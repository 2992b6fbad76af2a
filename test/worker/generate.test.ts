/**
 * The compose pipeline end to end in process: the real API creates the
 * compose, a real Worker generates it from the real libdnf fixture repo, and
 * the result is checked on disk, in compose_rpms, and with the real dnf as
 * the oracle (installing from the compose's own .repo file).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, symlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import type { ComposeRpmRow } from "../../src/db/schema.ts";
import { tempDir } from "../helpers/db.ts";
import { dnfRepoquery } from "../helpers/dnf.ts";
import { composeHarness, dnfInstallWithRepoFile, LIBDNF_REPO } from "../helpers/service.ts";

const run = promisify(execFile);
const nevra = (r: Pick<ComposeRpmRow, "name" | "epoch" | "version" | "release" | "arch">) =>
  `${r.name}-${r.epoch}:${r.version}-${r.release}.${r.arch}`;
const URL_BASE = "http://localhost/odcs";

async function files(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true, withFileTypes: true });
  return all
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** A yum repo of some fixture RPMs (copied) in a temp dir, indexed by createrepo_c. */
async function repoOf(rels: string[], dir = tempDir("odcs-repo-")): Promise<string> {
  await Promise.all(
    rels.map((r) => copyFile(join(LIBDNF_REPO, r), join(dir, r.split("/").pop() ?? r))),
  );
  await run("createrepo_c", ["-q", dir]);
  return dir;
}

let h: Awaited<ReturnType<typeof composeHarness>>;
beforeAll(async () => {
  h = await composeHarness({ ODCS_ALLOWED_ARCHES: "x86_64,i686" });
});

describe("a repo compose with dependencies", () => {
  let id: number;
  beforeAll(async () => {
    const row = await h.run({
      source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] },
    });
    id = row.id;
    expect(row.stateReason).toBe("Compose is generated successfully");
  });

  test("ends done with the ODCS reason and fields rewritten during generation", async () => {
    const c = await h.get(id);
    expect(c).toMatchObject({
      state_name: "done",
      state_reason: "Compose is generated successfully",
      koji_event: 1550000000, // the revision in the fixture's repomd.xml (§10.3)
      pungi_compose_id: `odcs-${id}-1-20261121.t.0`,
    });
    expect((await h.jobOf(id)).state).toBe("done");
  });

  test("has the ODCS layout: Packages/<letter>/, repodata, logs, no staging left", async () => {
    const all = await files(h.dir(id));
    const os = "compose/Temporary/x86_64/os";
    expect(all.filter((f) => f.includes("/Packages/"))).toEqual([
      `${os}/Packages/a/abcde-2.9.2-1.fc29.noarch.rpm`,
      `${os}/Packages/f/flac-1.3.2-8.fc29.x86_64.rpm`, // Recommends, like libsolv
      `${os}/Packages/w/wget-1.19.5-5.fc29.x86_64.rpm`,
    ]);
    expect(all).toContain(`${os}/repodata/repomd.xml`);
    expect(all).toContain("pungi-stderr.log");
    expect(all).toContain("compose/metadata/rpms.json");
    expect(all).toContain("compose/metadata/composeinfo.json");
    expect(await readdir(join(h.target, ".staging"))).toEqual([]);
    const log = await readFile(join(h.dir(id), "pungi-stderr.log"), "utf8");
    expect(log).toMatch(/attempt 1 on worker runner/);
    expect(log).toMatch(/x86_64: selected 3 packages/);
  });

  test("writes the 9-line .repo file of §13.3", async () => {
    const text = await readFile(join(h.dir(id), `compose/Temporary/odcs-${id}.repo`), "utf8");
    expect(text).toBe(
      [
        `[odcs-${id}]`,
        `name=ODCS repository for compose odcs-${id}`,
        `baseurl=${URL_BASE}/odcs-${id}/compose/Temporary/$basearch/os`,
        "type=rpm-md",
        "skip_if_unavailable=False",
        "gpgcheck=0",
        "repo_gpgcheck=0",
        "enabled=1",
        "enabled_metadata=1",
        "",
      ].join("\n"),
    );
    const c = await h.get(id);
    expect(c.result_repofile).toBe(`${URL_BASE}/odcs-${id}/compose/Temporary/odcs-${id}.repo`);
  });

  test("compose_rpms rows are exactly the placed files", async () => {
    const rows = await h.rpms(id);
    const placed = (await files(join(h.dir(id), "compose/Temporary/x86_64/os"))).filter((f) =>
      f.startsWith("Packages/"),
    );
    expect(rows.map((r) => r.path).sort()).toEqual(placed);
    expect(rows.map(nevra).sort()).toEqual([
      "abcde-0:2.9.2-1.fc29.noarch",
      "flac-0:1.3.2-8.fc29.x86_64",
      "wget-0:1.19.5-5.fc29.x86_64",
    ]);
    for (const r of rows) {
      expect(r).toMatchObject({
        treeArch: "x86_64",
        sourceRepo: LIBDNF_REPO,
        checksumType: "sha256",
      });
      const { stdout } = await run("sha256sum", [join(LIBDNF_REPO, r.location)]);
      expect(stdout.split(" ")[0]).toBe(r.checksum);
    }
  });

  test("writes productmd rpms.json and composeinfo.json", async () => {
    const meta = join(h.dir(id), "compose/metadata");
    const rpms = JSON.parse(await readFile(join(meta, "rpms.json"), "utf8"));
    const pungiId = `odcs-${id}-1-20261121.t.0`;
    const compose = { date: "20261121", id: pungiId, respin: 0, type: "test" };
    const entry = (path: string) => ({ category: "binary", path, sigkey: null });
    expect(rpms).toEqual({
      header: { type: "productmd.rpms", version: "1.2" },
      payload: {
        compose,
        rpms: {
          Temporary: {
            x86_64: {
              "abcde-0:2.9.2-1.fc29.src": {
                "abcde-0:2.9.2-1.fc29.noarch": entry(
                  "Temporary/x86_64/os/Packages/a/abcde-2.9.2-1.fc29.noarch.rpm",
                ),
              },
              "flac-0:1.3.2-8.fc29.src": {
                "flac-0:1.3.2-8.fc29.x86_64": entry(
                  "Temporary/x86_64/os/Packages/f/flac-1.3.2-8.fc29.x86_64.rpm",
                ),
              },
              "wget-0:1.19.5-5.fc29.src": {
                "wget-0:1.19.5-5.fc29.x86_64": entry(
                  "Temporary/x86_64/os/Packages/w/wget-1.19.5-5.fc29.x86_64.rpm",
                ),
              },
            },
          },
        },
      },
    });
    const info = JSON.parse(await readFile(join(meta, "composeinfo.json"), "utf8"));
    expect(info.header).toEqual({ type: "productmd.composeinfo", version: "1.2" });
    expect(info.payload.compose).toEqual({ ...compose, final: false });
    expect(info.payload.release).toMatchObject({
      short: `odcs-${id}`,
      version: "1",
      is_layered: false,
    });
    expect(info.payload.variants.Temporary).toMatchObject({
      id: "Temporary",
      uid: "Temporary",
      type: "variant",
      arches: ["x86_64"],
      paths: {
        os_tree: { x86_64: "Temporary/x86_64/os" },
        repository: { x86_64: "Temporary/x86_64/os" },
        packages: { x86_64: "Temporary/x86_64/os/Packages" },
      },
    });
  });

  test("dnf, given only the .repo file, installs the package and its dependencies", async () => {
    const text = await readFile(join(h.dir(id), `compose/Temporary/odcs-${id}.repo`), "utf8");
    const installed = await dnfInstallWithRepoFile(text, ["abcde"], {
      rewrite: [URL_BASE, `file://${h.target}`],
    });
    expect(installed).toEqual((await h.rpms(id)).map(nevra).sort());
  });
});

describe("selection options", () => {
  test("no_deps gives only the requested packages", async () => {
    const row = await h.run({
      source: { type: "repo", source: LIBDNF_REPO, packages: ["abcde"] },
      flags: ["no_deps"],
    });
    expect(row.state).toBe(2);
    expect((await h.rpms(row.id)).map(nevra)).toEqual(["abcde-0:2.9.2-1.fc29.noarch"]);
  });

  test("no packages: every x86_64 and noarch package, as dnf sees the source", async () => {
    const row = await h.run({ source: { type: "repo", source: LIBDNF_REPO } });
    expect(row.state).toBe(2);
    const oracle = await dnfRepoquery(
      { repos: LIBDNF_REPO },
      "%{name}-%{epoch}:%{version}-%{release}.%{arch}",
      ["--arch", "x86_64,noarch", "--latest-limit", "1"],
    );
    expect((await h.rpms(row.id)).map(nevra).sort()).toEqual([...new Set(oracle)].sort());
  });

  test("several arches: one tree per arch, noarch in each, one $basearch .repo", async () => {
    const row = await h.run({
      source: { type: "repo", source: LIBDNF_REPO, packages: ["lz4", "setup"] },
      arches: ["x86_64", "i686"],
      flags: ["no_deps"],
    });
    expect(row.state).toBe(2);
    const byTree = (await h.rpms(row.id)).map((r) => `${r.treeArch} ${nevra(r)}`).sort();
    expect(byTree).toEqual([
      "i686 lz4-0:1.7.5-2.fc26.i686",
      "i686 setup-0:2.12.1-1.fc29.noarch",
      "x86_64 lz4-0:1.7.5-2.fc26.x86_64",
      "x86_64 setup-0:2.12.1-1.fc29.noarch",
    ]);
    for (const arch of ["x86_64", "i686"]) {
      const os = join(h.dir(row.id), "compose/Temporary", arch, "os");
      expect(existsSync(join(os, "repodata/repomd.xml"))).toBe(true);
      const seen = await dnfRepoquery({ repos: os, arch }, "%{name}.%{arch}");
      expect(seen.sort()).toEqual([`lz4.${arch}`, "setup.noarch"]);
    }
  });

  test("lookaside repos satisfy dependencies but are not copied", async () => {
    const own = await repoOf(["noarch/abcde-2.9.2-1.fc29.noarch.rpm"]);
    const row = await h.run({
      source: { type: "repo", source: own, packages: ["abcde"] },
      lookaside_repos: [LIBDNF_REPO],
      flags: ["check_deps"],
    });
    expect(row.stateReason).toBe("Compose is generated successfully");
    expect((await h.rpms(row.id)).map(nevra)).toEqual(["abcde-0:2.9.2-1.fc29.noarch"]);
    expect(await files(join(h.dir(row.id), "compose/Temporary/x86_64/os/Packages"))).toEqual([
      "a/abcde-2.9.2-1.fc29.noarch.rpm",
    ]);
  });
});

describe("failures end failed with a reason a person can act on", () => {
  /** The compose failed at once (no retry), left its log and no compose/ tree. */
  async function expectFailedWithLog(id: number) {
    const c = await h.get(id);
    expect(c.state_name).toBe("failed");
    expect(await h.jobOf(id)).toMatchObject({ state: "failed", attempts: 1 });
    const log = await readFile(join(h.dir(id), "pungi-stderr.log"), "utf8");
    expect(log).toMatch(/ERROR: /);
    expect(existsSync(join(h.dir(id), "compose"))).toBe(false);
    return c.state_reason ?? "";
  }

  test("check_deps lists the unresolvable dependency", async () => {
    const own = await repoOf(["noarch/abcde-2.9.2-1.fc29.noarch.rpm"]);
    const row = await h.run({
      source: { type: "repo", source: own, packages: ["abcde"] },
      flags: ["check_deps"],
    });
    const reason = await expectFailedWithLog(row.id);
    expect(reason).toMatch(/^Error while generating compose: unresolvable dependencies for x86_64/);
    expect(reason).toContain("abcde-2.9.2-1.fc29.noarch requires wget");
  });

  test("without check_deps the same compose is done with what could be resolved", async () => {
    const own = await repoOf(["noarch/abcde-2.9.2-1.fc29.noarch.rpm"]);
    const row = await h.run({ source: { type: "repo", source: own, packages: ["abcde"] } });
    expect(row.state).toBe(2);
  });

  test("a requested package that does not exist: the ODCS reason text", async () => {
    const row = await h.run({
      source: { type: "repo", source: LIBDNF_REPO, packages: ["wget", "no-such-package"] },
    });
    expect(await expectFailedWithLog(row.id)).toBe(
      "Error while generating compose: The following requested packages are not present in the generated compose: no-such-package.",
    );
  });

  test("a directory that is not a yum repository", async () => {
    const dir = tempDir("odcs-notrepo-");
    const row = await h.run({ source: { type: "repo", source: dir } });
    expect(await expectFailedWithLog(row.id)).toBe(
      `Error while generating compose: ${dir} is not a yum repository: repodata/repomd.xml is missing`,
    );
  });

  test("a path that does not exist", async () => {
    const dir = join(tempDir("odcs-gone-"), "nothing-here");
    const row = await h.run({ source: { type: "repo", source: dir } });
    expect(await expectFailedWithLog(row.id)).toBe(
      `Error while generating compose: repository ${dir} does not exist or is not readable`,
    );
  });
});

describe("allowed roots hold after symlinks are resolved", () => {
  let g: Awaited<ReturnType<typeof composeHarness>>;
  let root: string;
  beforeAll(async () => {
    root = tempDir("odcs-root-");
    g = await composeHarness({ ODCS_ALLOWED_REPO_ROOTS: root });
  });

  test("a repo symlink inside the root pointing outside it is refused", async () => {
    await symlink(LIBDNF_REPO, join(root, "escape"));
    const row = await g.run({ source: { type: "repo", source: join(root, "escape") } });
    expect(row.state).toBe(4);
    expect(row.stateReason).toBe(
      `Error while generating compose: repository ${root}/escape resolves to ${LIBDNF_REPO}, which is outside the allowed roots`,
    );
    expect(existsSync(join(g.dir(row.id), "compose"))).toBe(false);
  });

  test("an RPM symlink inside a repo in the root pointing outside it is refused", async () => {
    const repo = join(root, "repo");
    await mkdir(repo);
    await symlink(
      join(LIBDNF_REPO, "x86_64/wget-1.19.5-5.fc29.x86_64.rpm"),
      join(repo, "wget.rpm"),
    );
    await run("createrepo_c", ["-q", repo]);
    const row = await g.run({ source: { type: "repo", source: repo, packages: ["wget"] } });
    expect(row.state).toBe(4);
    expect(row.stateReason).toContain(
      `package wget-1.19.5-5.fc29.x86_64 in ${repo}: location "wget.rpm" resolves to ${LIBDNF_REPO}/x86_64/wget-1.19.5-5.fc29.x86_64.rpm through symlinks, which is outside the allowed roots`,
    );
    expect(existsSync(join(g.dir(row.id), "compose"))).toBe(false);
  });

  test("a repo inside the root (and its files) is fine", async () => {
    await mkdir(join(root, "ok"));
    const repo = await repoOf(["x86_64/wget-1.19.5-5.fc29.x86_64.rpm"], join(root, "ok"));
    const row = await g.run({ source: { type: "repo", source: repo, packages: ["wget"] } });
    expect(row.stateReason).toBe("Compose is generated successfully");
  });
});
