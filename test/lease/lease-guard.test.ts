import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { AttachRolePolicyCommand, IAMClient, IAMServiceException } from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { AwsCaller } from "../../src/aws/aws-caller.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { checkLeaseTable, leaseStoreOver } from "../../src/aws/lease-table.js";
import { TokenBucket } from "../../src/aws/token-bucket.js";
import { VirtualClock } from "../support/virtual-clock.js";

const dynamodbMock = mockClient(DynamoDBClient);
const iamMock = mockClient(IAMClient);
afterEach(() => {
  dynamodbMock.reset();
  iamMock.reset();
});

const settings = { table: "rolecall-lease", leaseName: "rolecall" };
const storeOver = () =>
  leaseStoreOver(new DynamoDBClient({}), settings, new CallCounter(), undefined, new VirtualClock());

describe("DynamoDbLeaseStore", () => {
  it("reads the item consistently by its id and maps its attributes", async () => {
    dynamodbMock.on(GetItemCommand).resolves({
      Item: {
        id: { S: "rolecall" },
        holder: { S: "host-a" },
        version: { S: "v1" },
        leaderSince: { S: "2030-01-01T00:00:00.000Z" },
        expiresAt: { S: "2030-01-01T00:00:15.000Z" },
        leaseDurationMs: { N: "15000" },
      },
    });
    const record = await storeOver().read();
    expect(record).toEqual({
      holder: "host-a",
      version: "v1",
      leaderSince: "2030-01-01T00:00:00.000Z",
      expiresAt: "2030-01-01T00:00:15.000Z",
      durationMs: 15_000,
    });
    expect(dynamodbMock.commandCalls(GetItemCommand)[0]?.args[0].input).toEqual({
      TableName: "rolecall-lease",
      Key: { id: { S: "rolecall" } },
      ConsistentRead: true,
    });
  });

  it("writes conditionally on the version last seen, and answers false when someone else wrote first", async () => {
    const store = storeOver();
    const record = { holder: "host-b", version: "v2", leaderSince: "s", expiresAt: "e", durationMs: 15_000 };
    dynamodbMock
      .on(PutItemCommand)
      .resolvesOnce({})
      .rejectsOnce(
        new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }),
      );
    expect(await store.write(record, undefined)).toBe(true);
    expect(await store.write(record, "v1")).toBe(false);
    const [first, second] = dynamodbMock.commandCalls(PutItemCommand).map((call) => call.args[0].input);
    expect(first?.ConditionExpression).toBe("attribute_not_exists(id)");
    expect(second).toMatchObject({
      ConditionExpression: "#version = :expected",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":expected": { S: "v1" } },
      Item: { id: { S: "rolecall" }, holder: { S: "host-b" }, version: { S: "v2" } },
    });
  });

  it("makes a missing table a clear error at start", async () => {
    dynamodbMock
      .on(GetItemCommand)
      .rejects(new ResourceNotFoundException({ message: "Requested resource not found", $metadata: {} }));
    await expect(checkLeaseTable(storeOver())).rejects.toThrow(
      /lease table "rolecall-lease" does not exist in this account and region/,
    );
  });
});

describe("a leader whose DynamoDB calls start failing", () => {
  it("refuses a retry whose backoff outlasted the lease, without sending it", async () => {
    let leading = true;
    const clock = new VirtualClock();
    const iam = new AwsCaller(
      "iam",
      new IAMClient({}),
      new TokenBucket(1000, 1000, clock),
      clock,
      new CallCounter(),
    );
    iam.guardMutations(() => (leading ? undefined : "not the leader"));
    iamMock.on(AttachRolePolicyCommand).callsFake(() => {
      leading = false;
      throw new IAMServiceException({
        name: "Throttling",
        $fault: "client",
        message: "Rate exceeded",
        $metadata: { httpStatusCode: 400 },
      });
    });
    await expect(
      iam.send(new AttachRolePolicyCommand({ RoleName: "r", PolicyArn: "arn:aws:iam::1:policy/p" })),
    ).rejects.toMatchObject({ code: "NotLeader" });
    expect(iamMock.commandCalls(AttachRolePolicyCommand)).toHaveLength(1);
  });
});
