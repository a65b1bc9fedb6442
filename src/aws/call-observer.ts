import type { AwsService } from "./aws-error.js";

/** Sees every AWS request attempt and every error; metrics and the CLI's call counts hang off it. */
export interface CallObserver {
  request(service: AwsService, operation: string): void;
  error(service: AwsService, operation: string, code: string): void;
}

const mutatingPrefixes = [
  "Create",
  "Delete",
  "Attach",
  "Detach",
  "Add",
  "Remove",
  "Associate",
  "Disassociate",
  "Replace",
  "Update",
  "Tag",
  "Untag",
  "Put",
  "Set",
];

/** Whether an operation changes AWS state (by AWS's naming convention for these APIs). */
export function isMutatingOperation(operation: string): boolean {
  return mutatingPrefixes.some((prefix) => operation.startsWith(prefix));
}

/** Counts requests per service and operation; what `plan`/`apply` report and tests assert on. */
export class CallCounter implements CallObserver {
  private readonly counts = new Map<string, number>();
  private readonly errors = new Map<string, number>();

  request(service: AwsService, operation: string): void {
    const key = `${service}:${operation}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  error(service: AwsService, operation: string, code: string): void {
    const key = `${service}:${operation}:${code}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  /** Requests by "service:Operation", sorted by key. */
  byOperation(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  errorsByCode(): Record<string, number> {
    return Object.fromEntries([...this.errors].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }

  mutating(): number {
    let sum = 0;
    for (const [key, count] of this.counts) if (isMutatingOperation(key.split(":")[1] ?? "")) sum += count;
    return sum;
  }

  reset(): void {
    this.counts.clear();
    this.errors.clear();
  }
}

/** Fans one stream of observations out to several observers. */
export function observeAll(...observers: CallObserver[]): CallObserver {
  return {
    request: (service, operation) => {
      for (const observer of observers) observer.request(service, operation);
    },
    error: (service, operation, code) => {
      for (const observer of observers) observer.error(service, operation, code);
    },
  };
}
