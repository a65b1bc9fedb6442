import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { testCredentials, testRegion, type Moto } from "./moto.js";

/**
 * Clients acting in another moto account: moto answers an AssumeRole of a role ARN in account N with credentials
 * whose calls act in account N (it does not check that the role exists), so tests reach any account this way.
 */
export async function clientsInAccount(
  moto: Moto,
  account: string,
  region: string = testRegion,
): Promise<{ iam: IAMClient; ec2: EC2Client }> {
  const base = { endpoint: moto.endpoint, region, maxAttempts: 1 };
  const sts = new STSClient({ ...base, credentials: testCredentials });
  const { Credentials: assumed } = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/test-setup`, RoleSessionName: "test" }),
  );
  sts.destroy();
  const credentials = {
    accessKeyId: assumed?.AccessKeyId ?? "",
    secretAccessKey: assumed?.SecretAccessKey ?? "",
    sessionToken: assumed?.SessionToken ?? "",
  };
  return { iam: new IAMClient({ ...base, credentials }), ec2: new EC2Client({ ...base, credentials }) };
}
