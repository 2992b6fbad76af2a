/**
 * A Server-Sent Events client over fetch (a real HTTP connection), parsed
 * with eventsource-parser: records events and comment lines; `close()`
 * disconnects.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";

export async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  let ended = false;
  const parser = createParser({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
  });
  const body = res.body;
  const pump = (async () => {
    if (!body) return;
    const decoder = new TextDecoder();
    try {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // aborted by close() or the server went away
    } finally {
      ended = true;
    }
  })();
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    events,
    comments,
    get ended() {
      return ended;
    },
    /** Parsed `data` of each event. */
    messages: () =>
      events.map(
        (e) => JSON.parse(e.data) as { event: string; compose: { id: number; state_name: string } },
      ),
    async close() {
      controller.abort();
      await pump;
    },
  };
}
