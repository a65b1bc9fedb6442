// Only the DynamoDB client and the commands the lease sends; see client-ec2.ts for why.
export { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
