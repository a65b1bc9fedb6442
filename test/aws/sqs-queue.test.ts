import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { defaultAwsSettings } from "../../src/aws/aws-clients.js";
import { connectToSqs } from "../../src/aws/sqs-client.js";
import { AwsCaller } from "../../src/aws/aws-caller.js";
import { defaultRetryPolicy } from "../../src/aws/aws-caller.js";
import { AwsApiError } from "../../src/aws/aws-error.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { deleteMessages, queueLabel, receiveMessages } from "../../src/aws/sqs-queue.js";
import { TokenBucket } from "../../src/aws/token-bucket.js";
import { VirtualClock } from "../support/virtual-clock.js";

const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/rolecall-instance-events";
const sqsMock = mockClient(SQSClient);
afterEach(() => sqsMock.reset());

function caller(): { sqs: AwsCaller; calls: CallCounter } {
  const clock = new VirtualClock();
  const calls = new CallCounter();
  const client = new SQSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  return {
    sqs: new AwsCaller("sqs", client, new TokenBucket(1000, 1000, clock), clock, calls, {
      ...defaultRetryPolicy,
      baseDelayMs: 1,
    }),
    calls,
  };
}

/** An SQS error as the SDK's JSON protocol reports it. */
function sqsError(name: string, code: string, status: number): Error {
  return Object.assign(new Error(name), { name, Code: code, $metadata: { httpStatusCode: status } });
}

describe("the instance-events queue adapter", () => {
  it("long-polls for ten messages with their SentTimestamp, and maps them", async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({
      Messages: [
        { MessageId: "m1", ReceiptHandle: "r1", Body: "{}", Attributes: { SentTimestamp: "1700000000000" } },
        { MessageId: "m2", ReceiptHandle: "r2" },
        { Body: "no id: skipped" },
      ],
    });
    const { sqs } = caller();
    const messages = await receiveMessages(sqs, queueUrl);
    expect(messages).toEqual([
      { messageId: "m1", receiptHandle: "r1", body: "{}", sentAt: 1_700_000_000_000 },
      { messageId: "m2", receiptHandle: "r2", body: undefined, sentAt: undefined },
    ]);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 20,
      MessageSystemAttributeNames: ["SentTimestamp"],
    });
  });

  it("deletes ten per call and returns the messages SQS refused", async () => {
    sqsMock.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.slice(1).map((entry) => ({ Id: entry.Id })),
      Failed: input.Entries.slice(0, 1).map((entry) => ({
        Id: entry.Id,
        Code: "ReceiptHandleIsInvalid",
        SenderFault: true,
      })),
    }));
    const { sqs, calls } = caller();
    const messages = Array.from({ length: 12 }, (_, index) => ({
      messageId: `m${index}`,
      receiptHandle: `r${index}`,
      body: undefined,
      sentAt: undefined,
    }));
    expect(await deleteMessages(sqs, queueUrl, messages)).toEqual(["m0", "m10"]);
    expect(calls.byOperation()).toEqual({ "sqs:DeleteMessageBatch": 2 });
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[1]?.args[0].input.Entries).toEqual([
      { Id: "0", ReceiptHandle: "r10" },
      { Id: "1", ReceiptHandle: "r11" },
    ]);
  });

  it("retries throttling, and reports a missing queue at once as not-found, naming the queue", async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .rejectsOnce(sqsError("RequestThrottled", "RequestThrottled", 403))
      .resolves({ Messages: [] });
    const { sqs, calls } = caller();
    expect(await receiveMessages(sqs, queueUrl)).toEqual([]);
    expect(calls.byOperation()).toEqual({ "sqs:ReceiveMessage": 2 });

    sqsMock.reset();
    sqsMock
      .on(ReceiveMessageCommand)
      .rejects(sqsError("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400));
    const error = await receiveMessages(sqs, queueUrl).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsApiError);
    expect(error).toMatchObject({
      kind: "not-found",
      service: "sqs",
      resource: "queue/rolecall-instance-events",
    });
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
  });

  it("access denied is terminal: not retried", async () => {
    sqsMock.on(ReceiveMessageCommand).rejects(sqsError("AccessDenied", "AccessDenied", 403));
    const { sqs } = caller();
    await expect(receiveMessages(sqs, queueUrl)).rejects.toMatchObject({
      kind: "terminal",
      code: "AccessDenied",
    });
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
  });

  it("labels a queue by its name", () => {
    expect(queueLabel(queueUrl)).toBe("queue/rolecall-instance-events");
    expect(queueLabel(`${queueUrl}/`)).toBe("queue/rolecall-instance-events");
  });
});

describe("connectToSqs", () => {
  let server: Server | undefined;
  afterEach(async () => {
    const open = server;
    if (open !== undefined)
      await new Promise((resolve) => {
        open.close(resolve);
      });
    server = undefined;
  });

  it("sends to the queue URL's host, and the SDK's endpoint warning goes to rolecall's log, not the console", async () => {
    server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      // The SDK checks each body against its MD5, as SQS sends it.
      const md5OfBody = createHash("md5").update("{}").digest("hex");
      response.end(
        JSON.stringify({
          Messages: [{ MessageId: "m1", ReceiptHandle: "r1", Body: "{}", MD5OfBody: md5OfBody }],
        }),
      );
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      warn: (_object: object, message: string) => warnings.push(message),
    };
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" });
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_SQS;
    const console = vi.spyOn(globalThis.console, "warn");
    try {
      sqsMock.restore();
      const sqs = connectToSqs(defaultAwsSettings, "us-east-1", new CallCounter(), logger);
      const messages = await receiveMessages(
        sqs,
        `http://127.0.0.1:${port}/123456789012/rolecall-instance-events`,
        0,
      );
      expect(messages.map((message) => message.messageId)).toEqual(["m1"]);
      expect(warnings.join("\n")).toContain("using QueueUrl host as endpoint");
      expect(console).not.toHaveBeenCalled();
    } finally {
      console.mockRestore();
      process.env = saved;
    }
  });
});
