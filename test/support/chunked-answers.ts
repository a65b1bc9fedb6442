// What the streamed-fold tests share: bodies delivered in chunks, as a socket delivers them, to an SDK client or to
// a fold directly.
import { Readable } from "node:stream";
import { IAMClient } from "@aws-sdk/client-iam";
import { createCallers, defaultAwsSettings } from "../../src/aws/aws-clients.js";
import type { AwsCaller } from "../../src/aws/aws-caller.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { VirtualClock } from "./virtual-clock.js";

/** `text` cut every `size` characters (or bytes, for a Buffer). */
export function chunksOf<T extends string | Buffer>(text: T, size: number): T[] {
  const chunks: T[] = [];
  for (let start = 0; start < text.length; start += size) chunks.push(text.slice(start, start + size) as T);
  return chunks;
}

/** An SDK request handler answering each request with the next body (the last one again), in chunks of `size` bytes. */
export function answering(statusCode: number, bodies: readonly string[], size = 100) {
  let next = 0;
  return {
    handle: () => {
      const bytes = Buffer.from(bodies[Math.min(next++, bodies.length - 1)] ?? "");
      return Promise.resolve({
        response: { statusCode, headers: {}, body: Readable.from(chunksOf(bytes, size)) },
      });
    },
  };
}

/** An IAM client over such a handler, with no retries. */
export const iamClient = (handler: ReturnType<typeof answering>) =>
  new IAMClient({
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
    requestHandler: handler,
  });

/** rolecall's IAM caller (where responses are folded as they stream) over an IAM client answering `bodies`. */
export function iamCallerAnswering(statusCode: number, bodies: readonly string[], size?: number): AwsCaller {
  return createCallers(
    { iam: iamClient(answering(statusCode, bodies, size)), ec2: undefined as never },
    defaultAwsSettings,
    new CallCounter(),
    undefined,
    new VirtualClock(),
  ).iam;
}
