import { createHmac } from "node:crypto";
import type { WebhookConfig } from "../config.ts";
import type { EventWithCompose } from "../db/events.ts";
import { stateChangedMessage } from "../domain/event-message.ts";
import type { ViewSettings } from "../domain/json-view.ts";
import { sourceTypeName, stateName } from "../domain/states.ts";
import { fetchWithin } from "../timeout-signal.ts";
import { LeaseLostError, type Sink } from "./consumer.ts";

/** `sha256=<hex>` of HMAC-SHA256(secret, raw body): the `X-ODCS-Signature` header. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Whether a compose event passes a webhook's filters (each list: any value matches). */
export function webhookAccepts(hook: WebhookConfig, { event, compose }: EventWithCompose): boolean {
  if (hook.owners && !hook.owners.includes(compose.owner)) return false;
  if (hook.source_types && !hook.source_types.includes(sourceTypeName(compose.sourceType)))
    return false;
  if (hook.labels && !hook.labels.includes(compose.label ?? "")) return false;
  if (hook.states && !hook.states.includes(stateName(event.toState))) return false;
  return true;
}

/**
 * One webhook: a JSON POST per event, in order, signed. A non-2xx answer,
 * a redirect (never followed: the URL was checked against
 * ODCS_ALLOWED_WEBHOOK_URLS, where it redirects to was not) or no answer
 * within the timeout is a failure, retried with backoff by the consumer.
 */
export class WebhookSink implements Sink {
  readonly name: string;

  constructor(
    private readonly hook: WebhookConfig,
    private readonly opts: { view: ViewSettings; timeoutMs: number; now: () => Date },
  ) {
    this.name = `webhook:${hook.url}`;
  }

  accepts(item: EventWithCompose): boolean {
    return webhookAccepts(this.hook, item);
  }

  async deliver(
    items: EventWithCompose[],
    confirm: (id: number) => Promise<boolean>,
    stop: AbortSignal,
  ): Promise<void> {
    for (const item of items) {
      const body = JSON.stringify(stateChangedMessage(item.event, item.compose, this.opts.view));
      const res = await fetchWithin(
        this.hook.url,
        {
          method: "POST",
          body,
          redirect: "manual",
          headers: {
            "Content-Type": "application/json",
            "User-Agent": "odcs-ts-webhook",
            "X-ODCS-Event": "state-changed",
            "X-ODCS-Event-Id": String(item.event.id),
            "X-ODCS-Timestamp": String(Math.floor(this.opts.now().getTime() / 1000)),
            "X-ODCS-Signature": webhookSignature(this.hook.secret, body),
          },
        },
        stop,
        this.opts.timeoutMs,
      );
      await res.body?.cancel().catch(() => {});
      if (res.status < 200 || res.status > 299)
        throw new Error(`${this.hook.url} answered ${res.status} to event ${item.event.id}`);
      if (!(await confirm(item.event.id))) throw new LeaseLostError(`lease of ${this.name} lost`);
    }
  }
}
