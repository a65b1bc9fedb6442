import { EC2Client, RunInstancesCommand, type Tag } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import type { Moto } from "./moto-server.mjs";

export { freePort, startMoto, type Moto } from "./moto-server.mjs";

export const testRegion = "us-east-1";
export const testCredentials = { accessKeyId: "test", secretAccessKey: "test" };

/** The environment a rolecall child process needs to talk to this moto_server, and nothing real. */
export function motoEnv(moto: Moto): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
    AWS_REGION: testRegion,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/** SDK clients pointed at moto with explicit settings, so tests never depend on the machine's AWS config. */
export function motoClients(moto: Moto): { iam: IAMClient; ec2: EC2Client } {
  const common = {
    endpoint: moto.endpoint,
    region: testRegion,
    credentials: testCredentials,
    maxAttempts: 1,
  };
  return { iam: new IAMClient(common), ec2: new EC2Client(common) };
}

/** Launches instances carrying the given tags; returns their IDs. */
export async function launchInstances(
  ec2: EC2Client,
  tags: Record<string, string>,
  count = 1,
): Promise<string[]> {
  const tagList: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const ids: string[] = [];
  // One instance per call: moto starts only MinCount instances when asked for a range.
  for (let index = 0; index < count; index += 1) {
    const output = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        ...(tagList.length === 0 ? {} : { TagSpecifications: [{ ResourceType: "instance", Tags: tagList }] }),
      }),
    );
    for (const instance of output.Instances ?? [])
      if (instance.InstanceId !== undefined) ids.push(instance.InstanceId);
  }
  return ids;
}
