import type { DeleteMessageBatchCommandOutput, ReceiveMessageCommandOutput } from "@aws-sdk/client-sqs";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "./sdk/client-sqs.js";
import type { AwsCaller } from "./aws-caller.js";
import { chunk } from "./ec2-read.js";

/** SQS's limits: a long poll waits at most 20 s, and one receive or batch delete handles at most 10 messages. */
export const longPollSeconds = 20;
export const maxMessagesPerCall = 10;

/** One message as rolecall needs it: the body is parsed elsewhere, the receipt handle deletes it. */
export interface QueueMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string | undefined;
  /** When SQS accepted the message (its SentTimestamp attribute), in ms since the epoch. */
  readonly sentAt: number | undefined;
}

/** Receives up to ten messages, waiting up to `waitSeconds` for the first (0: return at once). */
export async function receiveMessages(
  sqs: AwsCaller,
  queueUrl: string,
  waitSeconds: number = longPollSeconds,
): Promise<QueueMessage[]> {
  const output = await sqs.send<ReceiveMessageCommandOutput>(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: maxMessagesPerCall,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ["SentTimestamp"],
    }),
    { resource: queueLabel(queueUrl) },
  );
  const messages: QueueMessage[] = [];
  for (const message of output.Messages ?? []) {
    if (message.MessageId === undefined || message.ReceiptHandle === undefined) continue;
    const sent = Number(message.Attributes?.SentTimestamp);
    messages.push({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body,
      sentAt: Number.isFinite(sent) && sent > 0 ? sent : undefined,
    });
  }
  return messages;
}

/** Deletes messages, ten per call; returns the IDs SQS refused to delete (they will be delivered again). */
export async function deleteMessages(
  sqs: AwsCaller,
  queueUrl: string,
  messages: readonly QueueMessage[],
): Promise<string[]> {
  const refused: string[] = [];
  for (const batch of chunk(messages, maxMessagesPerCall)) {
    // Entry IDs only need to be unique within the call; message IDs are, and they say which one failed.
    const output = await sqs.send<DeleteMessageBatchCommandOutput>(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, index) => ({ Id: String(index), ReceiptHandle: message.receiptHandle })),
      }),
      { resource: queueLabel(queueUrl) },
    );
    for (const failed of output.Failed ?? []) {
      const message = batch[Number(failed.Id)];
      if (message !== undefined) refused.push(message.messageId);
    }
  }
  return refused;
}

/** "queue/NAME": the last path segment of the queue URL, for error messages. */
export function queueLabel(queueUrl: string): string {
  return `queue/${
    queueUrl
      .split("/")
      .filter((part) => part !== "")
      .pop() ?? queueUrl
  }`;
}
