import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { AwsService } from "../aws/aws-error.js";
import type { CallObserver } from "../aws/call-observer.js";

/** Metrics about the process as a whole, never labelled with a target (see the constructor's `scope`). */
const processWide = new Set([
  "rolecall_leader",
  "rolecall_notifications_sent_total",
  "rolecall_notifications_failed_total",
  "rolecall_notifications_dropped_total",
  "rolecall_instance_events_received_total",
  "rolecall_instance_events_handled_total",
  "rolecall_instance_event_to_converged_seconds",
  "rolecall_instance_events_queue_errors_total",
]);

/** rolecall's metrics, on a registry of their own (never the global one). No manifest or resource names as labels. */
export class Metrics implements CallObserver {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: "rolecall_reconcile_total",
    help: "Reconciles of a manifest, by result (converged, pending, drifted, failed).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: "rolecall_reconcile_errors_total",
    help: "Reconciles that ended in an error.",
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: "rolecall_reconcile_duration_seconds",
    help: "Time to reconcile one manifest, including its AWS calls.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly manifests = new Gauge({
    name: "rolecall_manifests",
    help: "Manifests by state (valid, invalid, ready, drifted, conflict).",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });
  readonly driftDetected = new Counter({
    name: "rolecall_drift_detected_total",
    help: "Drift newly detected: a manifest's AWS resources moved away from it (a transition, not every resync).",
    registers: [this.registry],
  });
  readonly awsRequests = new Counter({
    name: "rolecall_aws_api_requests_total",
    help: "AWS API requests sent (every attempt), by service and operation.",
    labelNames: ["service", "operation"] as const,
    registers: [this.registry],
  });
  readonly awsErrors = new Counter({
    name: "rolecall_aws_api_request_errors_total",
    help: "AWS API requests that failed, by service, operation and error code.",
    labelNames: ["service", "operation", "code"] as const,
    registers: [this.registry],
  });
  readonly workqueueDepth = new Gauge({
    name: "rolecall_workqueue_depth",
    help: "Manifests waiting for, backing off before, or in reconciliation.",
    registers: [this.registry],
  });
  readonly lastResync = new Gauge({
    name: "rolecall_last_resync_timestamp_seconds",
    help: "When the last full resync finished (Unix time).",
    registers: [this.registry],
  });
  /** The --resync in force, so that an alert on a stale resync needs no copy of it (three intervals late). */
  readonly resyncInterval = new Gauge({
    name: "rolecall_resync_interval_seconds",
    help: "The interval of full resyncs the daemon runs with (--resync).",
    registers: [this.registry],
  });
  readonly resyncDuration = new Histogram({
    name: "rolecall_resync_duration_seconds",
    help: "Time of a full resync: reading the snapshot and planning every manifest.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  /** Leader election: 1 while this process holds the lease (always, when it runs alone), 0 while it stands by. */
  readonly leader = new Gauge({
    name: "rolecall_leader",
    help: "1 when this process may make changes (it holds the lease, or runs without --lease-table), 0 on a standby.",
    registers: [this.registry],
  });

  readonly notificationsSent = new Counter({
    name: "rolecall_notifications_sent_total",
    help: "Events delivered to a --notify-url receiver (a 2xx answer), by event type.",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });
  readonly notificationsFailed = new Counter({
    name: "rolecall_notifications_failed_total",
    help: "Events a --notify-url receiver did not accept after every retry, by event type.",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });
  readonly notificationsDropped = new Counter({
    name: "rolecall_notifications_dropped_total",
    help: "Events not sent because a receiver's queue was full (it is slow or down), by event type.",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });

  readonly instanceEventsReceived = new Counter({
    name: "rolecall_instance_events_received_total",
    help: "Messages received from the instance-events queue, by type (state-change, tag-change, other-region, unknown, unparseable).",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });
  readonly instanceEventsHandled = new Counter({
    name: "rolecall_instance_events_handled_total",
    help: "Instance events handled, by outcome (converged, unneeded, gone, pending, ignored, no-target: deleted; retried: left for redelivery).",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly instanceEventLatency = new Histogram({
    name: "rolecall_instance_event_to_converged_seconds",
    help: "From an instance event reaching the queue to its instance holding the profile it should.",
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly instanceEventsQueueErrors = new Counter({
    name: "rolecall_instance_events_queue_errors_total",
    help: "Failed reads of the instance-events queue, by error code.",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  /**
   * `scope` (run --targets): "process" keeps only what is the process's own (Node's metrics, the lease,
   * notifications, instance events, and AWS calls not made for a target); a target's keeps the rest, each
   * labelled `target`. /metrics serves them merged (merged-registry.ts). None: everything, unlabelled.
   */
  constructor(options: { defaultMetrics?: boolean; scope?: "process" | { readonly target: string } } = {}) {
    const { scope } = options;
    if (options.defaultMetrics !== false && typeof scope !== "object")
      collectDefaultMetrics({ register: this.registry });
    if (scope === undefined) return;
    const shared = new Set(["rolecall_aws_api_requests_total", "rolecall_aws_api_request_errors_total"]);
    for (const metric of this.registry.getMetricsAsArray()) {
      if (!metric.name.startsWith("rolecall_") || shared.has(metric.name)) continue;
      if (processWide.has(metric.name) !== (scope === "process"))
        this.registry.removeSingleMetric(metric.name);
    }
    if (typeof scope === "object") this.registry.setDefaultLabels({ target: scope.target });
  }

  request(service: AwsService, operation: string): void {
    this.awsRequests.inc({ service, operation });
  }

  error(service: AwsService, operation: string, code: string): void {
    this.awsErrors.inc({ service, operation, code });
  }

  setManifestCounts(counts: Record<string, number>): void {
    for (const [state, value] of Object.entries(counts)) this.manifests.set({ state }, value);
  }
}
