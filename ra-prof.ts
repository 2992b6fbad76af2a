import { createClient } from "@libsql/client";
import { createApp } from "./src/api/app.ts";
import { silentLogger } from "./src/api/deps.ts";
import { createDb } from "./src/db/client.ts";
import { migrateDatabase } from "./src/db/migrate.ts";
import { loadConfig } from "./src/config.ts";
import { noauthAuthenticator } from "./src/domain/identity.ts";
const c = createClient({ url: "file:/tmp/ra-prof.db" });
await migrateDatabase(c, "migrations");
if (Number((await c.execute("select count(*) n from composes")).rows[0]?.n) === 0)
  await c.execute(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20000) INSERT INTO composes(owner,source_type,source,state,time_submitted,time_to_expire,arches,label) SELECT 'u'||(i%500), 3, 'x', i%5, i, i, 'x86_64', 'L'||(i%1000) FROM n`);
const app = createApp({ db: createDb(c), clock: { now: () => new Date() }, config: loadConfig({}), log: silentLogger, auth: noauthAuthenticator, version: "x" } as never);
for (const path of ["/api/1/about/", "/api/1/composes/123", "/api/1/composes/", "/api/1/composes/?state=2"]) {
  for (let i = 0; i < 300; i++) await (await app.request(path)).text();
  const t = performance.now();
  const n = 3000;
  for (let i = 0; i < n; i++) await (await app.request(path)).text();
  console.log(path, (((performance.now() - t) / n) * 1000).toFixed(0), "µs");
}
