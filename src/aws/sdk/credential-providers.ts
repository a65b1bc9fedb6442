// Only the provider that assumes a target's role; see client-ec2.ts for why.
export { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
