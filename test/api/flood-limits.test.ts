/**
 * Issue 18 item 4: an owner's waiting composes are capped by
 * ODCS_MAX_QUEUED_PER_OWNER (429 + Retry-After, nothing written), and a body
 * past ODCS_MAX_BODY_BYTES is refused with 413 without being read whole.
 */
import { describe, expect, it } from "vitest";
import { moveCompose, QUEUE_FULL_RETRY_AFTER_SECONDS } from "../../src/db/composes.ts";
import { countRows, givenCompose, odcsError } from "../helpers/given.ts";
import { testApp } from "../helpers/test-app.ts";

const BODY = { source: { type: "repo", source: "/srv/repos/a" } };
const CONFIG = { ODCS_ALLOWED_REPO_ROOTS: "/srv/repos" };

describe("ODCS_MAX_QUEUED_PER_OWNER", () => {
  it("refuses the owner's next waiting compose with 429 and Retry-After, writing nothing", async () => {
    const t = await testApp({ config: { ...CONFIG, ODCS_MAX_QUEUED_PER_OWNER: "2" } });
    for (let i = 0; i < 2; i++)
      expect((await t.postJson("/api/1/composes/", BODY)).status).toBe(200);
    const res = await t.postJson("/api/1/composes/", BODY);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe(String(QUEUE_FULL_RETRY_AFTER_SECONDS));
    expect(await res.json()).toEqual(
      odcsError(
        429,
        "unknown already has 2 composes waiting (ODCS_MAX_QUEUED_PER_OWNER); try again when some have started",
      ),
    );
    expect(await countRows(t.db)).toEqual({ composes: 2, jobs: 2, events: 2 });

    // Once one has started, there is room again.
    await moveCompose(t.db, 1, "wait", "generating", t.clock.now().getTime());
    expect((await t.postJson("/api/1/composes/", BODY)).status).toBe(200);
    expect((await t.postJson("/api/1/composes/", BODY)).status).toBe(429);
  });

  it("counts only that owner's waiting composes, renewals included", async () => {
    const t = await testApp({ config: { ...CONFIG, ODCS_MAX_QUEUED_PER_OWNER: "1" } });
    await givenCompose(t.db, { owner: "someone-else", state: 0 });
    const done = await givenCompose(t.db, { owner: "unknown", state: 2, source: "/srv/repos/a" });
    expect((await t.postJson("/api/1/composes/", BODY)).status).toBe(200);
    // A renewal that regenerates queues a compose too (a removed one is copied).
    await moveCompose(t.db, done.id, "done", "removed", t.clock.now().getTime());
    const renew = await t.request(`/api/1/composes/${done.id}`, { method: "PATCH" });
    expect(renew.status).toBe(429);
    expect(renew.headers.get("retry-after")).toBe(String(QUEUE_FULL_RETRY_AFTER_SECONDS));
  });

  it("is unlimited by default", async () => {
    const t = await testApp({ config: CONFIG });
    for (let i = 0; i < 50; i++)
      expect((await t.postJson("/api/1/composes/", BODY)).status).toBe(200);
  });
});

describe("ODCS_MAX_BODY_BYTES", () => {
  it("refuses an endless body with 413 after reading just past the limit", async () => {
    const t = await testApp({ config: { ...CONFIG, ODCS_MAX_BODY_BYTES: "4096" } });
    let sent = 0;
    const chunk = new TextEncoder().encode(`{"label": "${"x".repeat(1000)}`);
    // Never ends: a server that read bodies whole would never answer.
    const endless = new ReadableStream<Uint8Array>({
      pull(ctl) {
        sent += chunk.length;
        ctl.enqueue(chunk);
      },
    });
    const res = await t.request("/api/1/composes/", {
      method: "POST",
      body: endless,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(odcsError(413, "Request body larger than 4096 bytes"));
    expect(sent).toBeLessThan(4096 + 4 * chunk.length);
    expect(await countRows(t.db)).toEqual({ composes: 0, jobs: 0, events: 0 });
  });

  it("takes a body up to the limit", async () => {
    const t = await testApp({ config: { ...CONFIG, ODCS_MAX_BODY_BYTES: "4096" } });
    const body = JSON.stringify({ ...BODY, label: "l".repeat(100) });
    expect((await t.postJson("/api/1/composes/", body)).status).toBe(200);
    const over = JSON.stringify({ ...BODY, label: "l".repeat(4096) });
    const res = await t.postJson("/api/1/composes/", over);
    expect(res.status).toBe(413);
    const renew = await t.request("/api/1/composes/1", { method: "PATCH", body: over });
    expect(renew.status).toBe(413);
  });
});
