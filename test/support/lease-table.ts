import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { testCredentials, testRegion, type Moto } from "./moto.js";

/** The lease table as the README tells users to create it: partition key `id` (a string), on-demand billing. */
export async function createLeaseTable(moto: Moto, table: string): Promise<void> {
  const dynamodb = new DynamoDBClient({
    endpoint: moto.endpoint,
    region: testRegion,
    credentials: testCredentials,
  });
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } finally {
    dynamodb.destroy();
  }
}
