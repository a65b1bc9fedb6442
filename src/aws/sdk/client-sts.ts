// Only the STS client and the command that says which account a target reached; see client-ec2.ts for why.
export { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
