#!/usr/bin/python3
"""libsolv oracle for the depsolver tests (run with /usr/bin/python3).

stdin: JSON {"arch": str, "repos": [{"primary": path, "filelists": path|null}],
             "lookaside": [same], "install": [str], "recommends": bool}
stdout: JSON {"install": [nevra], "problems": [str]}

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


def main():
    req = json.load(sys.stdin)
    pool = solv.Pool()
    pool.setdisttype(solv.Pool.DISTTYPE_RPM)
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
    pool.addfileprovides()
    pool.createwhatprovides()
    flags = (solv.Selection.SELECTION_NAME | solv.Selection.SELECTION_PROVIDES
             | solv.Selection.SELECTION_FILELIST | solv.Selection.SELECTION_DOTARCH
             | solv.Selection.SELECTION_GLOB)
    jobs = []
    for item in req["install"]:
        sel = pool.select(item, flags)
        if sel.isempty():
            continue
        jobs += sel.jobs(solv.Job.SOLVER_INSTALL)
    solver = pool.Solver()
    solver.set_flag(solv.Solver.SOLVER_FLAG_IGNORE_RECOMMENDED, 0 if req.get("recommends") else 1)
    problems = [str(p) for p in solver.solve(jobs)]
    trans = solver.transaction()
    out = sorted(s.str() for s in trans.newsolvables())
    json.dump({"install": out, "problems": problems}, sys.stdout)


if __name__ == "__main__":
    main()
