import type { Logger } from "../observability/logger.js";
import type { StatusEvent } from "../status/status-event.js";
import { redactUrl } from "./redact-url.js";

export interface NotifierSettings {
  /** Events waiting per receiver; past it, new events are dropped (and counted), never waited for. */
  readonly capacity: number;
  /** One POST; past it, the attempt is abandoned. */
  readonly timeoutMs: number;
  /** Attempts per event, the first included. */
  readonly attempts: number;
  /** The wait before the second attempt; it doubles each time. */
  readonly baseDelayMs: number;
}

export const defaultNotifierSettings: NotifierSettings = {
  capacity: 100,
  timeoutMs: 5000,
  attempts: 4,
  baseDelayMs: 1000,
};

/** What the notifier reports to metrics: events delivered, given up on, and dropped because a queue was full. */
export interface NotifierObserver {
  sent(type: StatusEvent["type"]): void;
  failed(type: StatusEvent["type"]): void;
  dropped(type: StatusEvent["type"]): void;
}

/** Sends one body; resolves with the HTTP status. Injected so tests need no sockets for retries. */
export type Post = (url: string, body: string, signal: AbortSignal) => Promise<number>;

export interface NotifierDeps {
  readonly urls: readonly string[];
  readonly observer: NotifierObserver;
  readonly logger: Logger;
  readonly settings?: NotifierSettings;
  readonly post?: Post;
  /** Waits between attempts; injected so tests do not wait for real. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** fetch refuses a URL with credentials in it: they are sent as Basic authentication, as curl does. */
function withoutCredentials(url: string): { target: URL; authorization: Record<string, string> } {
  const target = new URL(url);
  if (target.username === "" && target.password === "") return { target, authorization: {} };
  const pair = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
  target.username = "";
  target.password = "";
  return { target, authorization: { authorization: `Basic ${Buffer.from(pair).toString("base64")}` } };
}

export const postJson: Post = async (url, body, signal) => {
  const { target, authorization } = withoutCredentials(url);
  const response = await fetch(target, {
    method: "POST",
    headers: { "content-type": "application/json", ...authorization },
    body,
    signal,
    redirect: "manual",
  });
  await response.body?.cancel();
  return response.status;
};

const sleepFor = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** A client error other than these will not get better by sending the same body again. */
const retryable = (status: number) => status >= 500 || status === 408 || status === 429;

/** A transport failure, said without the URL (an error's message or cause may carry it). */
function describeFailure(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return "timed out";
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" ? cause.code : error instanceof Error ? error.name : "failed";
}

/**
 * Posts every event to every receiver, one receiver at a time each, on its own queue: a receiver that hangs or
 * fails delays only its own events, and reconciling never waits (notify() only enqueues).
 */
export class WebhookNotifier {
  private readonly receivers: Receiver[];
  private readonly stopping = new AbortController();

  constructor(deps: NotifierDeps) {
    const settings = deps.settings ?? defaultNotifierSettings;
    const post = deps.post ?? postJson;
    const sleep = deps.sleep ?? sleepFor;
    this.receivers = deps.urls.map(
      (url) => new Receiver(url, settings, post, sleep, deps.observer, deps.logger, this.stopping.signal),
    );
  }

  notify(event: StatusEvent): void {
    const body = JSON.stringify(event);
    for (const receiver of this.receivers) receiver.enqueue(event.type, body);
  }

  /** Events waiting or being sent, for tests and shutdown. */
  pending(): number {
    return this.receivers.reduce((sum, receiver) => sum + receiver.pending(), 0);
  }

  /** Stops sending: retry waits end, what is still queued is not sent. */
  stop(): void {
    this.stopping.abort();
  }

  /** Resolves when every queue has run dry (or the notifier was stopped). */
  async idle(): Promise<void> {
    await Promise.all(this.receivers.map((receiver) => receiver.idle()));
  }
}

class Receiver {
  private readonly queue: { type: StatusEvent["type"]; body: string }[] = [];
  private running: Promise<void> | undefined;
  private readonly shown: string;

  constructor(
    private readonly url: string,
    private readonly settings: NotifierSettings,
    private readonly post: Post,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>,
    private readonly observer: NotifierObserver,
    private readonly logger: Logger,
    private readonly stopped: AbortSignal,
  ) {
    this.shown = redactUrl(url);
  }

  enqueue(type: StatusEvent["type"], body: string): void {
    if (this.stopped.aborted) return;
    if (this.queue.length >= this.settings.capacity) {
      this.observer.dropped(type);
      this.logger.warn({ receiver: this.shown, type }, "notification dropped: the receiver's queue is full");
      return;
    }
    this.queue.push({ type, body });
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  pending(): number {
    return this.queue.length + (this.running === undefined ? 0 : 1);
  }

  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      if (this.stopped.aborted) return;
      const delivered = await this.deliver(next.body);
      if (delivered) this.observer.sent(next.type);
      else this.observer.failed(next.type);
    }
  }

  /** Attempts with doubling waits; true once the receiver answered 2xx. */
  private async deliver(body: string): Promise<boolean> {
    const { attempts, baseDelayMs, timeoutMs } = this.settings;
    for (let attempt = 1; attempt <= attempts && !this.stopped.aborted; attempt += 1) {
      let failure: string;
      try {
        const signal = AbortSignal.any([this.stopped, AbortSignal.timeout(timeoutMs)]);
        const status = await this.post(this.url, body, signal);
        if (status >= 200 && status < 300) return true;
        failure = `HTTP ${status}`;
        if (!retryable(status)) attempt = attempts;
      } catch (error) {
        failure = describeFailure(error);
      }
      const last = attempt >= attempts;
      this.logger.warn(
        { receiver: this.shown, attempt, error: failure },
        last ? "notification failed" : "notification failed; retrying",
      );
      if (!last) await this.sleep(baseDelayMs * 2 ** (attempt - 1), this.stopped);
    }
    return false;
  }
}
