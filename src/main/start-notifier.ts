import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { redactUrl } from "../notify/redact-url.js";
import { WebhookNotifier } from "../notify/webhook-notifier.js";
import type { StatusEvent } from "../status/status-event.js";

/** Where status events come from: the status store, or (run --targets) every target's. */
interface EventSource {
  subscribe(listener: (event: StatusEvent) => void): () => void;
}

/**
 * Every status event goes to every --notify-url receiver, queued: reconciling never waits for a receiver. Only
 * the leader sends: a standby reads the same manifests and would tell every ManifestInvalid a second time (its
 * own GET /events still streams them).
 */
export function startNotifier(
  urls: readonly string[],
  parts: {
    readonly status: EventSource;
    readonly metrics: Metrics;
    readonly logger: Logger;
    readonly leadership: { mayWrite(): boolean } | undefined;
  },
) {
  const { status, metrics, logger, leadership } = parts;
  const notifier = new WebhookNotifier({
    urls,
    logger: logger.child({ component: "notify" }),
    observer: {
      sent: (type) => {
        metrics.notificationsSent.inc({ type });
      },
      failed: (type) => {
        metrics.notificationsFailed.inc({ type });
      },
      dropped: (type) => {
        metrics.notificationsDropped.inc({ type });
      },
    },
  });
  status.subscribe((event) => {
    if (leadership === undefined || leadership.mayWrite()) notifier.notify(event);
  });
  if (urls.length > 0) logger.info({ receivers: urls.map(redactUrl) }, "notifying of status events");
  return notifier;
}
