#!/usr/bin/python3
"""libsolv side of bench/rpm.ts. Loads the repos (primary[+filelists]) like
dnf on Fedora/RHEL would (implicit obsoletes use colours) with only the
arches our pool allows; takes the request as given, or picks it: the first
`count` candidate names libsolv can install, alone and together with those
picked before, so both sides solve a request that has a solution. Solves
it, then solves it again from libsolv's own .solv cache (median of several
solves). Prints JSON: timings in ms, the request, installed/problem counts."""
import json, os, resource, sys, tempfile, time
import solv

req = json.load(sys.stdin)


def new_pool():
    pool = solv.Pool()
    pool.setdisttype(solv.Pool.DISTTYPE_RPM)
    pool.set_flag(solv.Pool.POOL_FLAG_IMPLICITOBSOLETEUSESCOLORS, 1)
    pool.setarch(req["arch"])
    return pool


def finish(pool):
    allowed = set(req["arches"]) | {"noarch"}
    pool.set_considered_list([s.id for s in pool.solvables if s.arch in allowed])
    pool.addfileprovides()
    pool.createwhatprovides()


def solve(pool, names):
    jobs = []
    for n in names:
        jobs += pool.select(n, solv.Selection.SELECTION_NAME).jobs(solv.Job.SOLVER_INSTALL)
    s = pool.Solver()
    s.set_flag(solv.Solver.SOLVER_FLAG_IGNORE_RECOMMENDED, 1)
    problems = s.solve(jobs)
    return len(s.transaction().newsolvables()), len(problems)


t0 = time.perf_counter()
pool = new_pool()
repos = []
for i, spec in enumerate(req["repos"]):
    repo = pool.add_repo("r%d" % i)
    f = solv.xfopen(spec["primary"]); repo.add_rpmmd(f, None, 0); f.close()
    if spec.get("filelists"):
        f = solv.xfopen(spec["filelists"]); repo.add_rpmmd(f, None, solv.Repo.REPO_EXTEND_SOLVABLES); f.close()
    repos.append(repo)
finish(pool)
t1 = time.perf_counter()

request = []
if req.get("given"):
    request = req["candidates"]
else:
    for name in req["candidates"]:
        if len(request) == req["count"]:
            break
        if solve(pool, [name])[1] == 0 and solve(pool, request + [name])[1] == 0:
            request.append(name)

t2 = time.perf_counter()
installed, problems = solve(pool, request)
t3 = time.perf_counter()

tmp = tempfile.mkdtemp()
paths = []
for i, repo in enumerate(repos):
    path = os.path.join(tmp, "r%d.solv" % i)
    f = solv.xfopen(path, "w"); repo.write(f); f.close()
    paths.append(path)
pool2 = new_pool()
t4 = time.perf_counter()
for i, path in enumerate(paths):
    r2 = pool2.add_repo("r%d" % i); f = solv.xfopen(path); r2.add_solv(f); f.close()
finish(pool2)
t5 = time.perf_counter()
WARM_RUNS = 9
warm = []
for _ in range(WARM_RUNS):
    t = time.perf_counter()
    solve(pool2, request)
    warm.append((time.perf_counter() - t) * 1e3)
warm.sort()
print(json.dumps({"loadMs": (t1 - t0) * 1e3, "solveMs": (t3 - t2) * 1e3, "installed": installed,
                  "problems": problems, "request": request,
                  "cacheLoadMs": (t5 - t4) * 1e3, "warmSolveMs": warm[WARM_RUNS // 2],
                  "warmRuns": WARM_RUNS,
                  "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
