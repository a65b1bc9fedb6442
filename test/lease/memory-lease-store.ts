import type { LeaseRecord, LeaseStore } from "../../src/lease/lease-record.js";

/** The lease table's one item in memory, with its conditional write; `failing` makes every call throw. */
export class MemoryLeaseStore {
  record: LeaseRecord | undefined;
  failing = false;
  writes = 0;

  /** A view of the store as one process sees it: its own calls may fail while another's succeed. */
  client(options: { failing?: () => boolean } = {}): LeaseStore {
    const fails = () => this.failing || (options.failing?.() ?? false);
    return {
      read: () => {
        if (fails()) return Promise.reject(new Error("DynamoDB unreachable"));
        return Promise.resolve(this.record);
      },
      write: (next, expected) => {
        if (fails()) return Promise.reject(new Error("DynamoDB unreachable"));
        if (this.record?.version !== expected) return Promise.resolve(false);
        this.record = next;
        this.writes += 1;
        return Promise.resolve(true);
      },
    };
  }
}

/** A monotonic clock the test moves by hand. */
export class ManualClock {
  time = 1000;
  now(): number {
    return this.time;
  }
  advance(milliseconds: number): void {
    this.time += milliseconds;
  }
}
