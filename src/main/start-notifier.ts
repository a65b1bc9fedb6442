import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { redactUrl } from "../notify/redact-url.js";
import { WebhookNotifier } from "../notify/webhook-notifier.js";
import type { StatusEvent } from "../status/status-event.js";

/** Where status events come from: the status store, or (run --targets) every target's. */
interface EventSource {
  subscribe(listener: (event: StatusEvent) => void): () => void;
}

/** Every status event goes to every --notify-url receiver, queued: reconciling never waits for a receiver. */
export function startNotifier(
  urls: readonly string[],
  status: EventSource,
  metrics: Metrics,
  logger: Logger,
) {
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
    notifier.notify(event);
  });
  if (urls.length > 0) logger.info({ receivers: urls.map(redactUrl) }, "notifying of status events");
  return notifier;
}
