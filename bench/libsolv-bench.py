#!/usr/bin/python3
"""libsolv side of bench/rpm.ts: load primary(+filelists), solve, then solve
again from libsolv's own .solv cache. Prints JSON timings in ms."""
import json, resource, sys, time, os, tempfile
import solv

req = json.load(sys.stdin)
t0 = time.perf_counter()
pool = solv.Pool(); pool.setdisttype(solv.Pool.DISTTYPE_RPM); pool.setarch(req["arch"])
repo = pool.add_repo("r")
f = solv.xfopen(req["primary"]); repo.add_rpmmd(f, None, 0); f.close()
if req.get("filelists"):
    f = solv.xfopen(req["filelists"]); repo.add_rpmmd(f, None, solv.Repo.REPO_EXTEND_SOLVABLES); f.close()
pool.addfileprovides(); pool.createwhatprovides()
t1 = time.perf_counter()
def solve(p):
    jobs = []
    for n in req["install"]:
        sel = p.select(n, solv.Selection.SELECTION_NAME | solv.Selection.SELECTION_PROVIDES)
        jobs += sel.jobs(solv.Job.SOLVER_INSTALL)
    s = p.Solver(); s.set_flag(solv.Solver.SOLVER_FLAG_IGNORE_RECOMMENDED, 1)
    s.solve(jobs)
    return len(s.transaction().newsolvables())
n = solve(pool)
t2 = time.perf_counter()
path = os.path.join(tempfile.mkdtemp(), "r.solv")
f = solv.xfopen(path, "w"); repo.write(f); f.close()
pool2 = solv.Pool(); pool2.setdisttype(solv.Pool.DISTTYPE_RPM); pool2.setarch(req["arch"])
t3 = time.perf_counter()
r2 = pool2.add_repo("r"); f = solv.xfopen(path); r2.add_solv(f); f.close()
pool2.addfileprovides(); pool2.createwhatprovides()
t4 = time.perf_counter()
solve(pool2)
t5 = time.perf_counter()
print(json.dumps({"loadMs": (t1 - t0) * 1e3, "solveMs": (t2 - t1) * 1e3, "installed": n,
                  "cacheLoadMs": (t4 - t3) * 1e3, "warmSolveMs": (t5 - t4) * 1e3,
                  "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
