/**
 * Creation and update times: wall-clock, but strictly increasing, so two versions made within the same
 * millisecond still order by CreateDate (rolecall rotates the oldest policy version first).
 */
export class MonotonicClock {
  private last = 0;

  now(): Date {
    this.last = Math.max(Date.now(), this.last + 1);
    return new Date(this.last);
  }
}
