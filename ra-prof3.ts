import Database from "libsql";
const db = new Database("/tmp/ra-prof.db");
const time = async (name: string, f: () => unknown) => {
  for (let i = 0; i < 300; i++) await f();
  const t = performance.now();
  for (let i = 0; i < 3000; i++) await f();
  console.log(name, (((performance.now() - t) / 3000) * 1000).toFixed(0), "µs");
};
const st = db.prepare("select * from composes where id = ?");
await time("cached stmt", () => st.get(123));
await time("prepare each", () => db.prepare("select * from composes where id = ?").get(123));
const st2 = db.prepare("select * from composes where id = ?").raw(true);
await time("cached raw", () => st2.all(123));
