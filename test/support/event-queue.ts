import { randomUUID } from "node:crypto";
import type { QueueMessage } from "../../src/aws/sqs-queue.js";
import type { EventQueue } from "../../src/daemon/instance-event-consumer.js";

/** EventBridge's "EC2 Instance State-change Notification", as the rule delivers it to SQS. */
export function stateChangeBody(
  instanceId: string,
  state: string,
  region = "us-east-1",
  account = "123456789012",
): string {
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "EC2 Instance State-change Notification",
    source: "aws.ec2",
    account,
    time: new Date().toISOString(),
    region,
    resources: [`arn:aws:ec2:${region}:${account}:instance/${instanceId}`],
    detail: { "instance-id": instanceId, state },
  });
}

/** EventBridge's "Tag Change on Resource" for an EC2 instance (source aws.tag). */
export function tagChangeBody(
  instanceId: string,
  tags: Record<string, string>,
  region = "us-east-1",
  account = "123456789012",
): string {
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "Tag Change on Resource",
    source: "aws.tag",
    account,
    time: new Date().toISOString(),
    region,
    resources: [`arn:aws:ec2:${region}:${account}:instance/${instanceId}`],
    detail: {
      "changed-tag-keys": Object.keys(tags),
      service: "ec2",
      "resource-type": "instance",
      version: 2,
      tags,
    },
  });
}

/**
 * An in-memory queue with SQS's delivery rules as far as the consumer sees them: a received message is invisible
 * until deleted or "redelivered" (what the visibility timeout would do), at most ten per receive.
 */
export class MemoryQueue implements EventQueue {
  readonly label = "queue/test-events";
  private readonly visible: QueueMessage[] = [];
  private readonly inFlight = new Map<string, QueueMessage>();
  readonly deleted: string[] = [];
  receives = 0;
  /** When set, every receive fails with it (a deleted queue, access denied). */
  failWith: Error | undefined;
  private wake: (() => void) | undefined;

  send(body: string, sentAt = Date.now()): string {
    const messageId = randomUUID();
    this.visible.push({ messageId, receiptHandle: `rh-${messageId}`, body, sentAt });
    this.wake?.();
    return messageId;
  }

  /** Messages waiting or received and not deleted. */
  depth(): number {
    return this.visible.length + this.inFlight.size;
  }

  /** The visibility timeout passes: every undeleted message becomes receivable again. */
  redeliver(): void {
    this.visible.push(...this.inFlight.values());
    this.inFlight.clear();
  }

  async receive(waitSeconds: number): Promise<QueueMessage[]> {
    this.receives += 1;
    if (this.failWith !== undefined) throw this.failWith;
    if (this.visible.length === 0 && waitSeconds > 0)
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 20).unref();
      });
    const batch = this.visible.splice(0, 10);
    for (const message of batch) this.inFlight.set(message.messageId, message);
    return batch;
  }

  delete(messages: readonly QueueMessage[]): Promise<string[]> {
    for (const message of messages) {
      if (this.inFlight.delete(message.messageId)) this.deleted.push(message.messageId);
    }
    return Promise.resolve([]);
  }
}
