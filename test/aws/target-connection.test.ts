import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { AwsCaller } from "../../src/aws/aws-caller.js";
import { defaultAwsSettings } from "../../src/aws/aws-settings.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { RegionRouter } from "../../src/aws/region-router.js";
import { connectTarget, TargetUnavailableError } from "../../src/aws/target-connection.js";

const sts = mockClient(STSClient);
afterEach(() => sts.reset());

const target = {
  name: "prod",
  account: "111111111111",
  roleArn: "arn:aws:iam::111111111111:role/rolecall-controller/controller",
  externalId: "ext-1",
  regions: ["us-east-1", "eu-west-1"],
};

describe("connectTarget", () => {
  it("checks the account of the credentials, and routes EC2 across the target's regions", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: "111111111111" });
    const connection = await connectTarget(target, defaultAwsSettings, new CallCounter());
    expect(connection.ec2).toBeInstanceOf(RegionRouter);
    expect(connection.iam).toBeInstanceOf(AwsCaller);
    expect(connection.partition).toBe("aws");
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it("uses a plain caller for a one-region target, and the region's partition", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: "111111111111" });
    const connection = await connectTarget(
      { ...target, regions: ["cn-north-1"] },
      defaultAwsSettings,
      new CallCounter(),
    );
    expect(connection.ec2).toBeInstanceOf(AwsCaller);
    expect(connection.partition).toBe("aws-cn");
  });

  it("refuses credentials of another account (AccountMismatch)", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: "999999999999" });
    const attempt = connectTarget(target, defaultAwsSettings, new CallCounter());
    await expect(attempt).rejects.toBeInstanceOf(TargetUnavailableError);
    await expect(attempt).rejects.toMatchObject({ target: "prod", code: "AccountMismatch" });
    await expect(attempt).rejects.toThrow("belong to account 999999999999, not the declared 111111111111");
  });

  it("reports a role that cannot be assumed (AssumeRoleFailed), naming the role and AWS's error code", async () => {
    sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error("User is not authorized to perform: sts:AssumeRole"), {
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const attempt = connectTarget(target, defaultAwsSettings, new CallCounter());
    await expect(attempt).rejects.toMatchObject({ code: "AssumeRoleFailed" });
    await expect(attempt).rejects.toThrow(
      /role arn:aws:iam::111111111111:role\/rolecall-controller\/controller: AccessDenied/,
    );
  });
});
