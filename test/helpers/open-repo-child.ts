/**
 * Child process for memory tests: opens one local repository the way the
 * worker does (`openRepo`, with the given metadata limit) and prints one
 * JSON line with the outcome and the process's peak RSS, so a test can
 * bound the worker's memory on a hostile source without its own heap in
 * the figure.
 *
 * Usage: node --import tsx open-repo-child.ts <repo dir> <max metadata bytes>
 */
import { openRepo } from "../../src/sources/repo.ts";
import { RepodataCache } from "../../src/sources/repodata-cache.ts";

const [dir = "", maxBytes = "0"] = process.argv.slice(2);
const outcome = await openRepo(
  { kind: "path", path: dir },
  {
    policy: { ODCS_ALLOWED_REPO_ROOTS: ["/"], ODCS_ALLOWED_REPO_URLS: [] },
    cache: new RepodataCache(64 << 20),
    signal: new AbortController().signal,
    downloadTimeoutMs: 60_000,
    maxRepomdBytes: 4 << 20,
    maxMetadataBytes: Number(maxBytes),
  },
).then(
  (repo) => ({ packages: repo.repodata.packages.length }),
  (err: unknown) => ({ error: (err as Error).message }),
);
process.stdout.write(
  `${JSON.stringify({ ...outcome, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
