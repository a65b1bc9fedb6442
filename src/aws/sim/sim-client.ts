import { unsupportedOperation } from "./errors.js";
import type { HandlerTable } from "./handlers.js";

/** What rolecall needs of an SDK v3 client: `send(command)`. */
export interface SimClient {
  send(command: object): Promise<unknown>;
}

export interface SimClientOptions {
  readonly service: "iam" | "ec2";
  readonly handlers: HandlerTable;
  /** Every call received is appended as "service:Operation". */
  readonly calls: string[];
  /** Added to every call, before it takes effect. */
  readonly latencyMs: number;
  readonly requestId: () => string;
}

/**
 * A client that answers SDK command objects: the operation is the command's class name without "Command", the
 * input its `input`. The state changes after the latency, in one step, so concurrent calls interleave only
 * between operations, never inside one. Outputs carry $metadata like the SDK's.
 */
export function simClient(options: SimClientOptions): SimClient {
  const { service, handlers, calls, latencyMs, requestId } = options;
  return {
    async send(command: object): Promise<unknown> {
      const operation = command.constructor.name.replace(/Command$/, "");
      calls.push(`${service}:${operation}`);
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      else await Promise.resolve();
      const run = Object.hasOwn(handlers, operation) ? handlers[operation] : undefined;
      if (run === undefined) throw unsupportedOperation(service, operation);
      const output = run((command as { input?: unknown }).input);
      return {
        $metadata: { httpStatusCode: 200, requestId: requestId(), attempts: 1, totalRetryDelay: 0 },
        ...output,
      };
    },
  };
}
