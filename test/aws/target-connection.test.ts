import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { AwsCaller } from "../../src/aws/aws-caller.js";
import { defaultAwsSettings } from "../../src/aws/aws-settings.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { RegionRouter } from "../../src/aws/region-router.js";
import { connectTarget, TargetUnavailableError } from "../../src/aws/target-connection.js";

/** STS as seen by the SDK's session renewal: every AssumeRole refused with AccessDenied (the role's trust changed). */
async function refusingSts(): Promise<{ server: Server; endpoint: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((request, response) => {
    requests += 1;
    request.resume();
    response.writeHead(403, { "content-type": "text/xml" });
    response.end(
      "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${port}`, requests: () => requests };
}

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

describe("connectTarget, once connected: credentials that fail are reported", () => {
  it("a session renewal AWS refuses (AssumeRoleFailed), naming the role; not a failure while connecting", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: "111111111111" });
    const refusing = await refusingSts();
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: refusing.endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    });
    try {
      const lost: TargetUnavailableError[] = [];
      const connection = await connectTarget(
        target,
        defaultAwsSettings,
        new CallCounter(),
        undefined,
        (error) => lost.push(error),
      );
      expect(lost).toEqual([]);
      await expect(connection.iam.send(new GetUserCommand({}))).rejects.toMatchObject({
        code: "AccessDenied",
      });
      expect(refusing.requests()).toBeGreaterThan(0);
      expect(lost.map((error) => error.code)).toContain("AssumeRoleFailed");
      expect(lost[0]?.message).toMatch(
        /renewing the session of role arn:aws:iam::111111111111:role\/rolecall-controller\/controller failed: AccessDenied/,
      );
    } finally {
      process.env = saved;
      refusing.server.close();
    }
  });

  it("a call refused for its token (ExpiredToken) is CredentialsRejected; an ordinary AccessDenied is not reported", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: "111111111111" });
    const iam = mockClient(IAMClient);
    try {
      const lost: TargetUnavailableError[] = [];
      const connection = await connectTarget(
        { name: "prod", account: "111111111111", regions: ["us-east-1"] },
        defaultAwsSettings,
        new CallCounter(),
        undefined,
        (error) => lost.push(error),
      );
      const refusal = (name: string) =>
        Object.assign(new Error(`${name} from IAM`), { name, $metadata: { httpStatusCode: 403 } });
      iam.on(GetUserCommand).rejectsOnce(refusal("AccessDenied")).rejectsOnce(refusal("ExpiredToken"));
      await expect(connection.iam.send(new GetUserCommand({}))).rejects.toMatchObject({
        code: "AccessDenied",
      });
      expect(lost).toEqual([]);
      await expect(connection.iam.send(new GetUserCommand({}))).rejects.toMatchObject({
        code: "ExpiredToken",
      });
      expect(lost.map((error) => [error.target, error.code])).toEqual([["prod", "CredentialsRejected"]]);
      expect(lost[0]?.message).toContain("iam:GetUser refused the target's credentials: ExpiredToken");
    } finally {
      iam.restore();
    }
  });
});
