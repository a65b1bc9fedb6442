import type { AttributeValue, GetItemCommandOutput } from "@aws-sdk/client-dynamodb";
import { GetItemCommand, PutItemCommand } from "./sdk/client-dynamodb.js";
import type { LeaseRecord, LeaseStore } from "../lease/lease-record.js";
import type { AwsCaller } from "./aws-caller.js";
import { AwsApiError } from "./aws-error.js";

/**
 * The lease as one item of a DynamoDB table whose partition key is the string attribute `id` (the lease name):
 * a consistent GetItem to look, a PutItem conditional on the version last seen to take, renew or release. Only
 * those two operations, on that one table, are needed.
 */
export class DynamoDbLeaseStore implements LeaseStore {
  constructor(
    private readonly caller: AwsCaller,
    readonly table: string,
    readonly leaseName: string,
  ) {}

  async read(): Promise<LeaseRecord | undefined> {
    const output = await this.caller.send<GetItemCommandOutput>(
      new GetItemCommand({
        TableName: this.table,
        Key: { id: { S: this.leaseName } },
        ConsistentRead: true,
      }),
      { resource: `table/${this.table}` },
    );
    return output.Item === undefined ? undefined : recordFromItem(output.Item);
  }

  async write(next: LeaseRecord, expected: string | undefined): Promise<boolean> {
    const condition =
      expected === undefined
        ? { ConditionExpression: "attribute_not_exists(id)" }
        : expected === ""
          ? // An item without a version (written by hand): taken only while it still has none.
            { ConditionExpression: "attribute_not_exists(#version)", ExpressionAttributeNames: versionName }
          : {
              ConditionExpression: "#version = :expected",
              ExpressionAttributeNames: versionName,
              ExpressionAttributeValues: { ":expected": { S: expected } },
            };
    try {
      await this.caller.send(
        new PutItemCommand({ TableName: this.table, Item: this.itemOf(next), ...condition }),
        { resource: `table/${this.table}` },
      );
      return true;
    } catch (error) {
      if (error instanceof AwsApiError && error.code === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  private itemOf(record: LeaseRecord): Record<string, AttributeValue> {
    return {
      id: { S: this.leaseName },
      version: { S: record.version },
      expiresAt: { S: record.expiresAt },
      leaseDurationMs: { N: String(record.durationMs) },
      ...(record.holder === undefined ? {} : { holder: { S: record.holder } }),
      ...(record.leaderSince === undefined ? {} : { leaderSince: { S: record.leaderSince } }),
    };
  }
}

// "version" is not a reserved word today; a placeholder keeps the expressions valid if it ever becomes one.
const versionName = { "#version": "version" };

/** The item as a record; missing attributes read as "no holder", "no version" and a zero duration. */
export function recordFromItem(item: Record<string, AttributeValue>): LeaseRecord {
  const text = (name: string) => {
    const value = item[name];
    return value !== undefined && "S" in value && typeof value.S === "string" ? value.S : undefined;
  };
  const duration = Number(item.leaseDurationMs?.N ?? 0);
  return {
    // An empty holder (an item edited by hand) is nobody.
    holder: text("holder") === "" ? undefined : text("holder"),
    version: text("version") ?? "",
    leaderSince: text("leaderSince"),
    expiresAt: text("expiresAt") ?? "",
    durationMs: Number.isFinite(duration) ? duration : 0,
  };
}
