/**
 * Lets a caller wait for the next reconcile of a key that starts after it asked: one that started before may have
 * planned from state older than the caller's (an event's fresh read of an instance), so it does not count.
 */
export class ReconcileWaiters {
  /** Waiting for a reconcile that has not started yet. */
  private readonly waiting = new Map<string, ((succeeded: boolean) => void)[]>();

  /** Resolves with whether the next reconcile of `key` to start succeeded (false if the daemon stops first). */
  next(key: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiting.set(key, [...(this.waiting.get(key) ?? []), resolve]);
    });
  }

  /** A reconcile of `key` starts; returns what to call when it ends. */
  started(key: string): (succeeded: boolean) => void {
    const waiters = this.waiting.get(key) ?? [];
    this.waiting.delete(key);
    return (succeeded) => {
      for (const resolve of waiters) resolve(succeeded);
    };
  }

  /** Stopping: nobody waits for reconciles that will not come. */
  releaseAll(): void {
    for (const waiters of this.waiting.values()) for (const resolve of waiters) resolve(false);
    this.waiting.clear();
  }
}
