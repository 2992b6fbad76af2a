#!/usr/bin/python3
"""libsolv oracle for the depsolver tests (run with /usr/bin/python3).

stdin: JSON {"arch": str, "arches": [str] | null,
             "repos": [{"primary": path, "filelists": path|null}],
             "lookaside": [same], "recommends": bool,
             "install": [str]            -- one request, or
             "requests": [[str] | {"verify": [nevra]}, ...]}
                                         -- many, solved one by one on one pool;
                                            "verify" installs exactly those packages
stdout: JSON {"install": [nevra], "problems": [str]} for "install",
        a list of those for "requests".

The pool is set up like dnf's on Fedora/RHEL, whose libsolv is built with
FEDORA=1: implicit obsoletes use colours, so an i686 and an x86_64 build of
one name may be installed together. "arches" restricts the installable
packages to those arches (plus noarch), like our pool's arch list.

Lookaside repositories are loaded as the installed system, so their
packages satisfy dependencies without being installed, like a lookaside.
"""
import json
import sys

import solv


def load(pool, name, spec):
    repo = pool.add_repo(name)
    f = solv.xfopen(spec["primary"])
    repo.add_rpmmd(f, None, 0)
    f.close()
    if spec.get("filelists"):
        f = solv.xfopen(spec["filelists"])
        repo.add_rpmmd(f, None, solv.Repo.REPO_EXTEND_SOLVABLES)
        f.close()
    return repo


def verify(pool, nevras):
    """Problems of installing exactly these packages (by NEVRA)."""
    wanted = set(nevras)
    # NOAUTOSET: keep the inferior-arch rules a SOLVER_SOLVABLE job would lift.
    how = solv.Job.SOLVER_SOLVABLE | solv.Job.SOLVER_INSTALL | solv.Job.SOLVER_NOAUTOSET
    jobs = [pool.Job(how, s.id) for s in pool.solvables if s.str() in wanted]
    solver = pool.Solver()
    solver.set_flag(solv.Solver.SOLVER_FLAG_IGNORE_RECOMMENDED, 1)
    return {"install": [], "problems": [str(p) for p in solver.solve(jobs)]}


def solve(pool, install, recommends):
    if isinstance(install, dict):
        return verify(pool, install["verify"])
    flags = (solv.Selection.SELECTION_NAME | solv.Selection.SELECTION_PROVIDES
             | solv.Selection.SELECTION_FILELIST | solv.Selection.SELECTION_DOTARCH
             | solv.Selection.SELECTION_GLOB)
    jobs = []
    for item in install:
        sel = pool.select(item, flags)
        if sel.isempty():
            continue
        jobs += sel.jobs(solv.Job.SOLVER_INSTALL)
    solver = pool.Solver()
    solver.set_flag(solv.Solver.SOLVER_FLAG_IGNORE_RECOMMENDED, 0 if recommends else 1)
    problems = [str(p) for p in solver.solve(jobs)]
    trans = solver.transaction()
    out = sorted(s.str() for s in trans.newsolvables())
    return {"install": out, "problems": problems}


def main():
    req = json.load(sys.stdin)
    pool = solv.Pool()
    pool.setdisttype(solv.Pool.DISTTYPE_RPM)
    pool.set_flag(solv.Pool.POOL_FLAG_IMPLICITOBSOLETEUSESCOLORS, 1)
    pool.setarch(req["arch"])
    for i, spec in enumerate(req["repos"]):
        load(pool, "repo%d" % i, spec)
    if req.get("lookaside"):
        installed = pool.add_repo("lookaside")
        for spec in req["lookaside"]:
            f = solv.xfopen(spec["primary"])
            installed.add_rpmmd(f, None, 0)
            f.close()
        pool.installed = installed
    arches = req.get("arches")
    if arches:
        allowed = set(arches) | {"noarch"}
        pool.set_considered_list([s.id for s in pool.solvables if s.arch in allowed])
    pool.addfileprovides()
    pool.createwhatprovides()
    recommends = req.get("recommends", False)
    if "requests" in req:
        json.dump([solve(pool, r, recommends) for r in req["requests"]], sys.stdout)
    else:
        json.dump(solve(pool, req["install"], recommends), sys.stdout)


if __name__ == "__main__":
    main()
