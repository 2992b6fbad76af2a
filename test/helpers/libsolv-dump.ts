/**
 * Reads a repository with libsolv (the solver dnf uses) through its Python
 * bindings and returns what libsolv sees: every solvable with its EVR,
 * location, checksum, descriptive fields, dependencies, files and changelog.
 * Loading goes repomd.xml → data locations → primary/filelists/other, each
 * checked against its repomd checksum, so bad repomd entries fail here too.
 *
 * Only the system interpreter has the bindings (`/usr/bin/python3`).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

const SCRIPT = `
import hashlib, json, sys, solv
root = sys.argv[1]
pool = solv.Pool()
pool.setdisttype(solv.Pool.DISTTYPE_RPM)
pool.setarch("x86_64")
repo = pool.add_repo("r")
f = solv.xfopen(root + "/repodata/repomd.xml")
if not repo.add_repomdxml(f, 0):
    raise SystemExit("repomd.xml: " + pool.errstr)
f.close()

def meta(typ):
    di = repo.Dataiterator_meta(solv.REPOSITORY_REPOMD_TYPE, typ, solv.Dataiterator.SEARCH_STRING)
    di.prepend_keyname(solv.REPOSITORY_REPOMD)
    for x in di:
        dp = x.parentpos()
        return dp.lookup_str(solv.REPOSITORY_REPOMD_LOCATION), dp.lookup_checksum(solv.REPOSITORY_REPOMD_CHECKSUM)
    raise SystemExit("repomd.xml lists no " + typ)

for typ, flags in (("primary", 0), ("filelists", solv.Repo.REPO_EXTEND_SOLVABLES),
                   ("other", solv.Repo.REPO_EXTEND_SOLVABLES)):
    loc, chk = meta(typ)
    path = root + "/" + loc
    with open(path, "rb") as fh:
        if hashlib.new(chk.typestr(), fh.read()).hexdigest() != chk.hex():
            raise SystemExit(typ + ": checksum mismatch")
    f = solv.xfopen(path)
    if not f or not repo.add_rpmmd(f, None, flags):
        raise SystemExit(typ + ": " + pool.errstr)
    f.close()

DEPS = {"provides": solv.SOLVABLE_PROVIDES, "requires": solv.SOLVABLE_REQUIRES,
        "conflicts": solv.SOLVABLE_CONFLICTS, "obsoletes": solv.SOLVABLE_OBSOLETES,
        "recommends": solv.SOLVABLE_RECOMMENDS, "suggests": solv.SOLVABLE_SUGGESTS,
        "supplements": solv.SOLVABLE_SUPPLEMENTS, "enhances": solv.SOLVABLE_ENHANCES}
STRS = {"summary": solv.SOLVABLE_SUMMARY, "description": solv.SOLVABLE_DESCRIPTION,
        "vendor": solv.SOLVABLE_VENDOR, "license": solv.SOLVABLE_LICENSE,
        "group": solv.SOLVABLE_GROUP, "url": solv.SOLVABLE_URL,
        "packager": solv.SOLVABLE_PACKAGER, "buildhost": solv.SOLVABLE_BUILDHOST}
NUMS = {"buildtime": solv.SOLVABLE_BUILDTIME, "installsize": solv.SOLVABLE_INSTALLSIZE,
        "downloadsize": solv.SOLVABLE_DOWNLOADSIZE, "headerend": solv.SOLVABLE_HEADEREND}
out = []
for s in repo.solvables:
    chk = s.lookup_checksum(solv.SOLVABLE_CHECKSUM)
    rec = {"nevra": "%s-%s.%s" % (s.name, s.evr, s.arch), "location": s.lookup_location()[0],
           "checksum": "%s:%s" % (chk.typestr(), chk.hex()), "sourcerpm": s.lookup_sourcepkg()}
    for k, key in STRS.items():
        rec[k] = s.lookup_str(key)
    for k, key in NUMS.items():
        rec[k] = s.lookup_num(key)
    for k, key in DEPS.items():
        rec[k] = [str(d) for d in s.lookup_deparray(key, 0)]
    rec["prereqs"] = [str(d) for d in s.lookup_deparray(solv.SOLVABLE_REQUIRES, 1)]
    rec["files"] = [x.str for x in s.Dataiterator(solv.SOLVABLE_FILELIST, None,
        solv.Dataiterator.SEARCH_FILES | solv.Dataiterator.SEARCH_COMPLETE_FILELIST)]
    cl = []
    di = s.Dataiterator(solv.SOLVABLE_CHANGELOG_AUTHOR, None, 0)
    di.prepend_keyname(solv.SOLVABLE_CHANGELOG)
    for x in di:
        dp = x.parentpos()
        cl.append([x.str, dp.lookup_num(solv.SOLVABLE_CHANGELOG_TIME), dp.lookup_str(solv.SOLVABLE_CHANGELOG_TEXT)])
    rec["changelog"] = cl
    out.append(rec)
out.sort(key=lambda r: (r["nevra"], r["checksum"]))
json.dump(out, sys.stdout)
`;

export interface SolvPackage {
  nevra: string;
  location: string;
  /** `sha256:<hex>` */
  checksum: string;
  sourcerpm: string | null;
  summary: string | null;
  description: string | null;
  files: string[];
  requires: string[];
  /** Requires libsolv marked as pre-requires (`pre="1"`). */
  prereqs: string[];
  changelog: [author: string, time: number, text: string][];
  [field: string]: unknown;
}

/** Every package of the repository at `dir`, sorted by NEVRA and checksum. */
export async function libsolvDump(dir: string): Promise<SolvPackage[]> {
  const { stdout } = await execFileP("/usr/bin/python3", ["-c", SCRIPT, dir], {
    maxBuffer: 512 << 20,
  });
  return JSON.parse(stdout) as SolvPackage[];
}
