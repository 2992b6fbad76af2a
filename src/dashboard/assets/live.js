// ODCS dashboard live updates (progressive enhancement: every page works
// without this). Follows GET /api/1/events/ (Server-Sent Events); when the
// stream cannot be used, polls the JSON API instead. On a compose page it
// also follows the log with Range requests, as the ODCS client does.
(() => {
  const body = document.body;
  const page = body.dataset.page;
  if (!page) return;
  const base = body.dataset.base || "";
  const LABELS = {
    wait: "waiting",
    generating: "generating",
    done: "done",
    removed: "removed",
    failed: "failed",
  };
  const FINAL = new Set(["done", "removed", "failed"]);
  const POLL_MS = 5000;
  const LOG_MS = 1000;

  const relative = (ms) => {
    const delta = ms - Date.now();
    const abs = Math.abs(delta);
    const units = [
      [86400000, "d"],
      [3600000, "h"],
      [60000, "min"],
      [1000, "s"],
    ];
    for (const [size, unit] of units) {
      if (abs >= size) {
        const n = Math.floor(abs / size);
        return delta < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
      }
    }
    return "just now";
  };

  const setTime = (el, iso) => {
    if (!el) return;
    if (!iso) {
      el.textContent = "—";
      return;
    }
    const ms = Date.parse(iso);
    const time = document.createElement("time");
    time.dateTime = new Date(ms).toISOString();
    time.title = `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
    time.dataset.field = el.dataset.field || "";
    time.textContent = relative(ms);
    el.replaceWith(time);
  };

  const setBadge = (el, name) => {
    el.className = `state state-${name}`;
    el.dataset.state = name;
    el.textContent = LABELS[name] || name;
  };

  const refreshTimes = () => {
    for (const t of document.querySelectorAll("time[datetime]")) {
      t.textContent = relative(Date.parse(t.getAttribute("datetime")));
    }
  };
  setInterval(refreshTimes, 30000);

  /** Replace <main> with the same page fetched anew (actions and links depend on the state). */
  const refreshMain = async () => {
    const res = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.querySelector("main");
    const main = document.querySelector("main");
    if (fresh && main) main.replaceChildren(...fresh.childNodes);
    body.dataset.state = doc.body.dataset.state || body.dataset.state;
  };

  const applyToRows = (c) => {
    const rows = document.querySelectorAll(`tr[data-compose-id="${c.id}"]`);
    for (const row of rows) {
      row.dataset.stateCode = String(c.state);
      const badge = row.querySelector(".state");
      if (badge) setBadge(badge, c.state_name);
      setTime(row.querySelector('[data-field="time_done"]'), c.time_done);
    }
    return rows.length > 0;
  };

  let logDone = false;
  const applyToDetail = (c) => {
    const id = Number(body.dataset.composeId);
    if (c.id !== id) return;
    const before = body.dataset.state;
    if (before === c.state_name) return;
    body.dataset.state = c.state_name;
    const badge = document.querySelector("h1 .state");
    if (badge) setBadge(badge, c.state_name);
    const name = document.querySelector('[data-field="state_name"]');
    if (name) name.textContent = LABELS[c.state_name] || c.state_name;
    const timeline = document.querySelector('[data-testid="timeline"]');
    if (timeline) {
      const li = document.createElement("li");
      li.dataset.state = c.state_name;
      const b = document.createElement("span");
      setBadge(b, c.state_name);
      li.append(b, " just now");
      if (c.state_reason) li.append(` — ${c.state_reason}`);
      timeline.append(li);
    }
    if (FINAL.has(c.state_name)) {
      // One last read of the log, then the page as the server renders it now.
      readLog()
        .catch(() => {})
        .then(() => {
          logDone = true;
          return refreshMain();
        })
        .catch(() => {});
    }
  };

  const onCompose = (c) => {
    if (page === "detail") applyToDetail(c);
    else if (page === "list") {
      if (!applyToRows(c) && c.state_name === "wait") {
        const note = document.querySelector(".live-note");
        if (note) note.hidden = false;
      }
    } else if (page === "queue") scheduleQueueRefresh();
  };

  let queueTimer;
  const scheduleQueueRefresh = () => {
    clearTimeout(queueTimer);
    queueTimer = setTimeout(() => refreshMain().catch(() => {}), 300);
  };

  const getJson = async (path) => {
    const res = await fetch(base + path, { headers: { Accept: "application/json" } });
    return res.ok ? res.json() : undefined;
  };

  let polling = false;
  const poll = async () => {
    if (page === "detail") {
      const c = await getJson(`/api/1/composes/${body.dataset.composeId}`);
      if (c) applyToDetail(c);
    } else if (page === "list") {
      const open = [...document.querySelectorAll("tr[data-compose-id]")].filter(
        (r) => !["2", "3", "4"].includes(r.dataset.stateCode),
      );
      for (const row of open) {
        const c = await getJson(`/api/1/composes/${row.dataset.composeId}`);
        if (c) applyToRows(c);
      }
    } else if (page === "queue") {
      await refreshMain();
    }
  };
  const startPolling = () => {
    if (polling) return;
    polling = true;
    body.dataset.live = "polling";
    const tick = () =>
      poll()
        .catch(() => {})
        .finally(() => setTimeout(tick, POLL_MS));
    setTimeout(tick, POLL_MS);
  };

  const subscribe = () => {
    if (!("EventSource" in window)) return startPolling();
    const query = page === "detail" ? `?compose_id=${body.dataset.composeId}` : "";
    const es = new EventSource(`${base}/api/1/events/${query}`);
    es.addEventListener("open", () => {
      body.dataset.live = "stream";
    });
    es.addEventListener("state-changed", (e) => {
      try {
        onCompose(JSON.parse(e.data).compose);
      } catch {
        // a message we do not understand: ignore it
      }
    });
    es.addEventListener("error", () => {
      // CLOSED: the server refused the stream (e.g. 503); CONNECTING: it retries by itself.
      if (es.readyState === EventSource.CLOSED) startPolling();
    });
  };

  const log = document.getElementById("log");
  let logOffset = log ? Number(log.dataset.offset || "0") : 0;
  const decoder = new TextDecoder();
  // One read at a time: two overlapping reads would append the same bytes twice.
  let reading = Promise.resolve();
  const readLog = () => {
    reading = reading.then(readLogOnce, readLogOnce);
    return reading;
  };
  const readLogOnce = async () => {
    if (!log) return;
    const res = await fetch(log.dataset.logUrl, { headers: { Range: `bytes=${logOffset}-` } });
    if (res.status === 404 || res.status === 416) return;
    if (!res.ok) return;
    let bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status === 200) bytes = bytes.subarray(Math.min(logOffset, bytes.length));
    if (bytes.length === 0) return;
    logOffset += bytes.length;
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(decoder.decode(bytes, { stream: true }));
    log.dataset.offset = String(logOffset);
    const empty = document.querySelector(".log-empty");
    if (empty) empty.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  };
  const followLog = () => {
    if (!log || logDone || FINAL.has(body.dataset.state)) return;
    readLog()
      .catch(() => {})
      .finally(() => {
        if (!logDone && !FINAL.has(body.dataset.state)) setTimeout(followLog, LOG_MS);
      });
  };

  if (page === "detail" && FINAL.has(body.dataset.state)) return;
  subscribe();
  followLog();
})();
