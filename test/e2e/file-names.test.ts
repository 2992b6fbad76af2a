/**
 * dnf (librepo) percent-encodes characters of package file names in URLs
 * (`+` as %2B, `^` as %5E): every file of a compose must still download.
 * Real RPMs whose names and versions carry `+`, `~`, `^` and `_`, a compose
 * of them on the real service, and the real dnf installing them over HTTP.
 */
import { request } from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { tempDir } from "../helpers/db.ts";
import { buildRpms, createRepo } from "../helpers/rpmbuild.ts";
import {
  type ComposeJson,
  dnfInstallWithRepoFile,
  type ServiceProcess,
  startService,
} from "../helpers/service.ts";

let svc: ServiceProcess;
let compose: ComposeJson;

beforeAll(async () => {
  const rpms = await buildRpms([
    {
      name: "libstdc++-odcs",
      version: "4.5",
      release: "4",
      arch: "x86_64",
      files: ["/usr/lib64/libstdc++-odcs.so.6"],
      provides: ["libstdc++-odcs.so.6()(64bit)"],
    },
    {
      name: "gcc-c++-odcs",
      version: "13.2~rc1",
      release: "1",
      arch: "x86_64",
      requires: ["libstdc++-odcs.so.6()(64bit)", "dvd+rw-tools"],
      files: ["/usr/bin/g++-odcs"],
    },
    { name: "dvd+rw-tools", version: "7.1^20240101git3c4f5b", files: ["/usr/bin/growisofs"] },
    {
      name: "perl-Text-Tabs+Wrap",
      version: "2013.0523",
      release: "1_2",
      requires: ["under_score_pkg"],
      files: ["/usr/share/perl5/Text/Wrap.pm"],
    },
    { name: "under_score_pkg", version: "1_0", release: "3", files: ["/usr/share/under_score"] },
  ]);
  const repo = await createRepo(
    tempDir("odcs-names-repo-"),
    rpms.map((r) => r.path),
  );
  svc = await startService();
  const res = await fetch(`${svc.url}/api/1/composes/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      source: { type: "repo", source: repo, packages: ["gcc-c++-odcs", "perl-Text-Tabs+Wrap"] },
    }),
  });
  const created = (await res.json()) as ComposeJson;
  expect(res.status, JSON.stringify(created)).toBe(200);
  const waited = await fetch(`${svc.url}/api/1/composes/${created.id}/wait?state=done&timeout=30`);
  compose = (await waited.json()) as ComposeJson;
  expect(compose.state_name, compose.state_reason ?? "").toBe("done");
});
afterAll(async () => {
  expect(await svc.stop()).toBe(0);
});

test("dnf installs packages with +, ~, ^ and _ in their file names from the compose over HTTP", async () => {
  const repoText = await (await fetch(compose.result_repofile)).text();
  expect(await dnfInstallWithRepoFile(repoText, ["gcc-c++-odcs", "perl-Text-Tabs+Wrap"])).toEqual([
    "dvd+rw-tools-0:7.1^20240101git3c4f5b-1.noarch",
    "gcc-c++-odcs-0:13.2~rc1-1.x86_64",
    "libstdc++-odcs-0:4.5-4.x86_64",
    "perl-Text-Tabs+Wrap-0:2013.0523-1_2.noarch",
    "under_score_pkg-0:1_0-3.noarch",
  ]);
});

test.each([
  ["%2B for +", "l/libstdc%2B%2B-odcs-4.5-4.x86_64.rpm"],
  ["a literal +, not a space", "l/libstdc++-odcs-4.5-4.x86_64.rpm"],
  ["%5E for ^ and %2B", "d/dvd%2Brw-tools-7.1%5E20240101git3c4f5b-1.noarch.rpm"],
  ["%7E for ~", "g/gcc-c%2B%2B-odcs-13.2%7Erc1-1.x86_64.rpm"],
  ["%5F for _", "u/under%5Fscore%5Fpkg-1%5F0-3.noarch.rpm"],
])("GET of a package file with %s answers 200 with the RPM", async (_, file) => {
  const res = await fetch(`${compose.result_repo}/x86_64/os/Packages/${file}`);
  expect(res.status).toBe(200);
  const lead = Buffer.from(await res.arrayBuffer()).subarray(0, 4);
  expect(lead).toEqual(Buffer.from([0xed, 0xab, 0xee, 0xdb]));
});

/** GET with the path sent byte for byte (fetch would normalise dot segments first). */
function rawGet(path: string): Promise<number> {
  const { hostname, port } = new URL(svc.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: "GET" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

test.each([
  ["an encoded slash", "x86_64%2Fos/repodata/repomd.xml"],
  ["an encoded backslash", "x86_64%5Cos/repodata/repomd.xml"],
  ["a NUL", "x86_64/os/repodata/repomd.xml%00"],
  ["a double-encoded +", "x86_64/os/Packages/l/libstdc%252B%252B-odcs-4.5-4.x86_64.rpm"],
  ["a malformed escape", "x86_64/os/Packages/l/libstdc%2-odcs-4.5-4.x86_64.rpm"],
  ["a literal dot segment", "x86_64/os/../os/repodata/repomd.xml"],
  ["an encoded dot segment", "x86_64/os/%2e%2e/os/repodata/repomd.xml"],
])("a path with %s is a 404", async (_, path) => {
  const base = new URL(compose.result_repo).pathname;
  expect(await rawGet(`${base}/${path}`)).toBe(404);
});

test.each([
  "/composes/%2e%2e/odcs.db",
  "/composes/%2E%2E/odcs.db",
  "/composes/..%2fodcs.db",
  "/composes/%2e%2e%2fodcs.db",
  "/composes/odcs-1/%2e%2e/%2e%2e/odcs.db",
  "/composes/%2estaging/",
])("nothing outside the compose dir or hidden is served: %s is a 404", async (path) => {
  expect(await rawGet(path)).toBe(404);
});
