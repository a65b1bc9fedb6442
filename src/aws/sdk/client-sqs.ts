// Only the SQS client and the commands the instance-events consumer sends; see client-ec2.ts for why.
export { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
