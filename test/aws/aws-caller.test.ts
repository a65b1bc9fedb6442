import {
  AssociateIamInstanceProfileCommand,
  DescribeInstancesCommand,
  EC2Client,
  EC2ServiceException,
  ReplaceIamInstanceProfileAssociationCommand,
} from "@aws-sdk/client-ec2";
import {
  AttachRolePolicyCommand,
  CreatePolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListRolesCommand,
  NoSuchEntityException,
} from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AwsCaller, type RetryPolicy } from "../../src/aws/aws-caller.js";
import { createCallers, defaultAwsSettings, type AwsSettings } from "../../src/aws/aws-clients.js";
import { AwsApiError } from "../../src/aws/aws-error.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { TokenBucket } from "../../src/aws/token-bucket.js";
import { VirtualClock } from "../support/virtual-clock.js";

const iamMock = mockClient(IAMClient);
const ec2Mock = mockClient(EC2Client);

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const throttling = () =>
  new IAMServiceException({ name: "Throttling", $fault: "client", message: "Rate exceeded", ...meta(400) });
const serviceFailure = () =>
  new IAMServiceException({ name: "ServiceFailure", $fault: "server", message: "internal", ...meta(500) });
const limitExceeded = () =>
  Object.assign(
    new LimitExceededException({ message: "A managed policy can have up to 5 versions.", ...meta(409) }),
    { Code: "LimitExceeded" },
  );
const invalidProfile = () =>
  new EC2ServiceException({
    name: "InvalidParameterValue",
    $fault: "client",
    message:
      "Value (rolecall-dev) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
    ...meta(400),
  });

const role = {
  Role: {
    RoleName: "DEV_ROLE",
    Arn: "arn:aws:iam::123456789012:role/DEV_ROLE",
    Path: "/",
    RoleId: "AROA1",
    CreateDate: new Date(0),
  },
};
const association = {
  IamInstanceProfileAssociation: {
    AssociationId: "iip-assoc-1",
    InstanceId: "i-0123456789abcdef0",
    State: "associating" as const,
  },
};

const retry: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  propagationBudgetMs: 120_000,
};
const settings: AwsSettings = { ...defaultAwsSettings, retry };

let clock: VirtualClock;
let counter: CallCounter;

function callers(overrides: Partial<AwsSettings> = {}) {
  return createCallers(
    { iam: new IAMClient({ region: "us-east-1" }), ec2: new EC2Client({ region: "us-east-1" }) },
    { ...settings, ...overrides },
    counter,
    undefined,
    clock,
  );
}

beforeEach(() => {
  iamMock.reset();
  ec2Mock.reset();
  clock = new VirtualClock();
  counter = new CallCounter();
});

afterEach(() => {
  iamMock.reset();
  ec2Mock.reset();
});

describe("AwsCaller: throttling and transient errors", () => {
  it("retries throttling until success, counting each attempt and each error", async () => {
    iamMock.on(GetRoleCommand).rejectsOnce(throttling()).rejectsOnce(throttling()).resolves(role);
    const { iam } = callers();
    const output = await iam.send<typeof role>(new GetRoleCommand({ RoleName: "DEV_ROLE" }));
    expect(output.Role.RoleName).toBe("DEV_ROLE");
    expect(iamMock.commandCalls(GetRoleCommand)).toHaveLength(3);
    expect(counter.byOperation()).toEqual({ "iam:GetRole": 3 });
    expect(counter.errorsByCode()).toEqual({ "iam:GetRole:Throttling": 2 });
    // Backoff happened in virtual time: two waits, each between half and all of its exponential step.
    expect(clock.now()).toBeGreaterThanOrEqual(50 + 100);
    expect(clock.now()).toBeLessThanOrEqual(100 + 200);
  });

  it("gives up on a transient error after maxAttempts and throws it classified", async () => {
    iamMock.on(GetRoleCommand).rejects(serviceFailure());
    const { iam } = callers();
    const error = await iam
      .send(new GetRoleCommand({ RoleName: "DEV_ROLE" }), { resource: "role/DEV_ROLE" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsApiError);
    expect(error).toMatchObject({ kind: "transient", code: "ServiceFailure", resource: "role/DEV_ROLE" });
    expect(iamMock.commandCalls(GetRoleCommand)).toHaveLength(retry.maxAttempts);
    expect(counter.byOperation()).toEqual({ "iam:GetRole": retry.maxAttempts });
    expect(counter.errorsByCode()).toEqual({ "iam:GetRole:ServiceFailure": retry.maxAttempts });
    expect(clock.sleeps).toHaveLength(retry.maxAttempts - 1);
  });

  it("backs off exponentially, capped at maxDelayMs", async () => {
    iamMock.on(GetRoleCommand).rejects(serviceFailure());
    const bucket = new TokenBucket(1000, 1000, clock);
    const policy: RetryPolicy = {
      maxAttempts: 7,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      propagationBudgetMs: 0,
    };
    const caller = new AwsCaller(
      "iam",
      new IAMClient({ region: "us-east-1" }),
      bucket,
      clock,
      counter,
      policy,
      undefined,
      () => 1, // no jitter: each wait is the whole step
    );
    await expect(caller.send(new GetRoleCommand({ RoleName: "x" }))).rejects.toBeInstanceOf(AwsApiError);
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("does not retry LimitExceeded: exactly one attempt", async () => {
    iamMock.on(CreatePolicyVersionCommand).rejects(limitExceeded());
    const { iam } = callers();
    await expect(
      iam.send(
        new CreatePolicyVersionCommand({ PolicyArn: "arn:aws:iam::1:policy/p", PolicyDocument: "{}" }),
      ),
    ).rejects.toMatchObject({ kind: "terminal", code: "LimitExceeded" });
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(1);
    expect(counter.byOperation()).toEqual({ "iam:CreatePolicyVersion": 1 });
    expect(counter.errorsByCode()).toEqual({ "iam:CreatePolicyVersion:LimitExceeded": 1 });
    expect(clock.sleeps).toEqual([]);
  });

  it("does not retry not-found, and reports it as not-found", async () => {
    iamMock
      .on(GetRoleCommand)
      .rejects(
        Object.assign(new NoSuchEntityException({ message: "no", ...meta(404) }), { Code: "NoSuchEntity" }),
      );
    const { iam } = callers();
    await expect(iam.send(new GetRoleCommand({ RoleName: "x" }))).rejects.toMatchObject({
      kind: "not-found",
    });
    expect(iamMock.commandCalls(GetRoleCommand)).toHaveLength(1);
  });

  it("retries NoSuchEntity on a call that depends on a just-created resource", async () => {
    const missing = () =>
      Object.assign(new NoSuchEntityException({ message: "Role x not found", ...meta(404) }), {
        Code: "NoSuchEntity",
      });
    iamMock.on(AttachRolePolicyCommand).rejectsOnce(missing()).resolves({});
    const { iam } = callers();
    await iam.send(new AttachRolePolicyCommand({ RoleName: "x", PolicyArn: "arn:aws:iam::1:policy/p" }), {
      dependsOnNewResource: true,
    });
    expect(iamMock.commandCalls(AttachRolePolicyCommand)).toHaveLength(2);
  });
});

describe("AwsCaller: IAM propagation to EC2", () => {
  for (const failures of [1, 3, 6]) {
    it(`AssociateIamInstanceProfile failing ${failures} times while the profile propagates succeeds on attempt ${failures + 1}`, async () => {
      let chain = ec2Mock.on(AssociateIamInstanceProfileCommand);
      for (let index = 0; index < failures; index += 1) chain = chain.rejectsOnce(invalidProfile());
      chain.resolves(association);
      const { ec2 } = callers();
      const output = await ec2.send<typeof association>(
        new AssociateIamInstanceProfileCommand({
          InstanceId: "i-0123456789abcdef0",
          IamInstanceProfile: { Name: "rolecall-dev" },
        }),
      );
      expect(output.IamInstanceProfileAssociation.AssociationId).toBe("iip-assoc-1");
      expect(ec2Mock.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(failures + 1);
      expect(counter.byOperation()).toEqual({ "ec2:AssociateIamInstanceProfile": failures + 1 });
      expect(counter.errorsByCode()).toEqual({
        "ec2:AssociateIamInstanceProfile:InvalidParameterValue": failures,
      });
      // Propagation is retried even past maxAttempts (which is for throttling) and within the budget.
      expect(clock.now()).toBeLessThanOrEqual(retry.propagationBudgetMs);
    });
  }

  it("propagation that never ends fails after the budget, with a bounded number of attempts", async () => {
    ec2Mock.on(ReplaceIamInstanceProfileAssociationCommand).rejects(invalidProfile());
    const { ec2 } = callers();
    const error = await ec2
      .send(
        new ReplaceIamInstanceProfileAssociationCommand({
          AssociationId: "a",
          IamInstanceProfile: { Name: "p" },
        }),
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: "eventual-consistency", code: "InvalidParameterValue" });
    const attempts = ec2Mock.commandCalls(ReplaceIamInstanceProfileAssociationCommand).length;
    // Not a hot loop: exponential waits capped at maxDelayMs fit ~120 s in a few dozen attempts at most.
    expect(attempts).toBeGreaterThan(retry.maxAttempts);
    expect(attempts).toBeLessThanOrEqual(40);
    // Kept trying for about the whole budget, never past it.
    expect(clock.now()).toBeLessThanOrEqual(retry.propagationBudgetMs);
    expect(clock.now()).toBeGreaterThanOrEqual(retry.propagationBudgetMs - retry.maxDelayMs);
    expect(Math.min(...clock.sleeps)).toBeGreaterThanOrEqual(500);
  });

  it("a throttled response late in a long propagation wait is still retried", async () => {
    // maxAttempts bounds throttling and transient failures, not the attempts spent waiting out propagation.
    const ec2Throttled = () =>
      new EC2ServiceException({
        name: "RequestLimitExceeded",
        $fault: "client",
        message: "Request limit exceeded.",
        ...meta(503),
      });
    let chain = ec2Mock.on(AssociateIamInstanceProfileCommand);
    for (let index = 0; index < retry.maxAttempts + 2; index += 1)
      chain = chain.rejectsOnce(invalidProfile());
    chain.rejectsOnce(ec2Throttled()).resolves(association);
    const { ec2 } = callers();
    await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: "i-1",
        IamInstanceProfile: { Name: "rolecall-dev" },
      }),
    );
    expect(ec2Mock.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(retry.maxAttempts + 4);
    expect(counter.errorsByCode()).toEqual({
      "ec2:AssociateIamInstanceProfile:InvalidParameterValue": retry.maxAttempts + 2,
      "ec2:AssociateIamInstanceProfile:RequestLimitExceeded": 1,
    });
  });

  it("throttling before propagation does not eat into the propagation waits", async () => {
    const ec2Throttled = () =>
      new EC2ServiceException({
        name: "RequestLimitExceeded",
        $fault: "client",
        message: "Request limit exceeded.",
        ...meta(503),
      });
    let chain = ec2Mock.on(AssociateIamInstanceProfileCommand);
    for (let index = 0; index < retry.maxAttempts - 1; index += 1) chain = chain.rejectsOnce(ec2Throttled());
    chain.rejectsOnce(invalidProfile()).resolves(association);
    const { ec2 } = callers();
    await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: "i-1",
        IamInstanceProfile: { Name: "rolecall-dev" },
      }),
    );
    // The one propagation wait starts from its own first step (0.5–1 s), not from the throttling's fourth.
    expect(clock.sleeps.at(-1)).toBeLessThanOrEqual(1000);
  });

  it("the propagation budget is configurable", async () => {
    ec2Mock.on(AssociateIamInstanceProfileCommand).rejects(invalidProfile());
    const { ec2 } = callers({ retry: { ...retry, propagationBudgetMs: 5000 } });
    await expect(
      ec2.send(
        new AssociateIamInstanceProfileCommand({ InstanceId: "i-1", IamInstanceProfile: { Name: "p" } }),
      ),
    ).rejects.toMatchObject({ kind: "eventual-consistency" });
    expect(clock.now()).toBeLessThanOrEqual(5000);
    expect(ec2Mock.commandCalls(AssociateIamInstanceProfileCommand).length).toBeLessThanOrEqual(6);
  });

  it("the same error on an operation that does not depend on propagation is thrown at once", async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(invalidProfile());
    const { ec2 } = callers();
    await expect(ec2.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({ kind: "terminal" });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
  });
});

describe("AwsCaller: the shared rate limit", () => {
  it("a throttled response pauses the service's bucket: a concurrent call waits for the pause", async () => {
    const sentAt: Record<string, number[]> = { GetRole: [], ListRoles: [] };
    let getRoleCalls = 0;
    iamMock.on(GetRoleCommand).callsFake(() => {
      sentAt.GetRole!.push(clock.now());
      getRoleCalls += 1;
      if (getRoleCalls === 1) throw throttling();
      return role;
    });
    iamMock.on(ListRolesCommand).callsFake(() => {
      sentAt.ListRoles!.push(clock.now());
      return { Roles: [] };
    });
    const caller = new AwsCaller(
      "iam",
      new IAMClient({ region: "us-east-1" }),
      new TokenBucket(100, 100, clock), // plenty of tokens: only the pause can hold ListRoles back
      clock,
      counter,
      { ...retry, baseDelayMs: 1000 },
      undefined,
      () => 1,
    );
    const first = caller.send(new GetRoleCommand({ RoleName: "DEV_ROLE" }));
    // The second call arrives 10 ms later, while the first one's throttling pause is in force.
    const second = clock.sleep(10).then(() => caller.send(new ListRolesCommand({})));
    await Promise.all([first, second]);
    expect(sentAt.GetRole).toEqual([0, 1000]);
    expect(sentAt.ListRoles).toHaveLength(1);
    expect(sentAt.ListRoles![0]).toBeGreaterThanOrEqual(1000);
    expect(counter.byOperation()).toEqual({ "iam:GetRole": 2, "iam:ListRoles": 1 });
  });

  it("without throttling the same concurrent call goes straight through", async () => {
    const sentAt: number[] = [];
    iamMock.on(GetRoleCommand).resolves(role);
    iamMock.on(ListRolesCommand).callsFake(() => {
      sentAt.push(clock.now());
      return { Roles: [] };
    });
    const { iam } = callers();
    await Promise.all([
      iam.send(new GetRoleCommand({ RoleName: "DEV_ROLE" })),
      clock.sleep(10).then(() => iam.send(new ListRolesCommand({}))),
    ]);
    expect(sentAt).toEqual([10]);
  });

  it("throttling on IAM does not pause EC2 (one bucket per service)", async () => {
    const ec2SentAt: number[] = [];
    iamMock.on(GetRoleCommand).rejectsOnce(throttling()).resolves(role);
    ec2Mock.on(DescribeInstancesCommand).callsFake(() => {
      ec2SentAt.push(clock.now());
      return { Reservations: [] };
    });
    const { iam, ec2 } = callers();
    await Promise.all([
      iam.send(new GetRoleCommand({ RoleName: "DEV_ROLE" })),
      clock.sleep(10).then(() => ec2.send(new DescribeInstancesCommand({}))),
    ]);
    expect(ec2SentAt).toEqual([10]);
  });

  it("calls beyond the burst are spread at the configured rate", async () => {
    const sentAt: number[] = [];
    iamMock.on(ListRolesCommand).callsFake(() => {
      sentAt.push(clock.now());
      return { Roles: [] };
    });
    const { iam } = callers({
      rateLimits: { iam: { perSecond: 10, burst: 2 }, ec2: { perSecond: 10, burst: 2 } },
    });
    await Promise.all(Array.from({ length: 5 }, () => iam.send(new ListRolesCommand({}))));
    expect(sentAt.slice(0, 2)).toEqual([0, 0]);
    expect(sentAt[4]).toBeCloseTo(300, 6);
  });
});

describe("AwsCaller: what the observer sees", () => {
  it("names the operation from the command class and records each failed attempt's code", async () => {
    const seen: string[] = [];
    const observer = {
      request: (service: string, operation: string) => seen.push(`request ${service}:${operation}`),
      error: (service: string, operation: string, code: string) =>
        seen.push(`error ${service}:${operation}:${code}`),
    };
    iamMock.on(GetRoleCommand).rejectsOnce(throttling()).rejectsOnce(serviceFailure()).resolves(role);
    const caller = new AwsCaller(
      "iam",
      new IAMClient({ region: "us-east-1" }),
      new TokenBucket(10, 10, clock),
      clock,
      observer,
      retry,
    );
    await caller.send(new GetRoleCommand({ RoleName: "DEV_ROLE" }));
    expect(seen).toEqual([
      "request iam:GetRole",
      "error iam:GetRole:Throttling",
      "request iam:GetRole",
      "error iam:GetRole:ServiceFailure",
      "request iam:GetRole",
    ]);
  });

  it("counts mutating calls apart from reads", async () => {
    iamMock.on(GetRoleCommand).resolves(role);
    iamMock.on(AttachRolePolicyCommand).resolves({});
    const { iam } = callers();
    await iam.send(new GetRoleCommand({ RoleName: "DEV_ROLE" }));
    await iam.send(
      new AttachRolePolicyCommand({ RoleName: "DEV_ROLE", PolicyArn: "arn:aws:iam::1:policy/p" }),
    );
    expect(counter.total()).toBe(2);
    expect(counter.mutating()).toBe(1);
  });
});

describe("AwsCaller: calls that are not idempotent (confirmApplied)", () => {
  const version = { PolicyVersion: { VersionId: "v2", IsDefaultVersion: true } };
  const send = (confirmApplied: () => Promise<unknown>) =>
    callers().iam.send<typeof version>(
      new CreatePolicyVersionCommand({ PolicyArn: "arn:aws:iam::1:policy/p", PolicyDocument: "{}" }),
      { confirmApplied },
    );

  it("after a transient failure, asks before sending again; a confirmed success is returned without a resend", async () => {
    iamMock.on(CreatePolicyVersionCommand).rejects(serviceFailure());
    let asked = 0;
    const output = await send(() => {
      asked += 1;
      return Promise.resolve(version);
    });
    expect(output).toEqual(version);
    expect(asked).toBe(1);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(1);
    // The look comes after the backoff, as a resend would.
    expect(clock.sleeps).toHaveLength(1);
  });

  it("when the check finds nothing, the call is sent again, within maxAttempts", async () => {
    iamMock.on(CreatePolicyVersionCommand).rejects(serviceFailure());
    let asked = 0;
    await expect(
      send(() => {
        asked += 1;
        return Promise.resolve(undefined);
      }),
    ).rejects.toMatchObject({ kind: "transient", code: "ServiceFailure" });
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(retry.maxAttempts);
    expect(asked).toBe(retry.maxAttempts - 1);
  });

  it("throttling needs no check (a throttled request was refused before anything happened)", async () => {
    iamMock.on(CreatePolicyVersionCommand).rejectsOnce(throttling()).resolves(version);
    let asked = 0;
    await send(() => {
      asked += 1;
      return Promise.resolve(undefined);
    });
    expect(asked).toBe(0);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(2);
  });

  it("a permanent error is thrown at once, without a check", async () => {
    iamMock.on(CreatePolicyVersionCommand).rejects(limitExceeded());
    let asked = 0;
    await expect(
      send(() => {
        asked += 1;
        return Promise.resolve(version);
      }),
    ).rejects.toMatchObject({ kind: "terminal", code: "LimitExceeded" });
    expect(asked).toBe(0);
  });
});

describe("AwsCaller.stop (shutdown)", () => {
  it("ends a propagation wait at once with the error it was waiting out, and retries nothing more", async () => {
    ec2Mock.on(AssociateIamInstanceProfileCommand).rejects(invalidProfile());
    // A clock whose waits never end: without stop() the call below would wait forever.
    const frozen = { now: () => 0, sleep: () => new Promise<void>(() => undefined) };
    const counter = new CallCounter();
    const caller = new AwsCaller(
      "ec2",
      new EC2Client({ region: "us-east-1" }),
      new TokenBucket(1000, 1000, frozen),
      frozen,
      counter,
      { ...defaultAwsSettings.retry, propagationBudgetMs: 120_000 },
    );
    const call = caller.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: "i-1",
        IamInstanceProfile: { Name: "rolecall-dev" },
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    caller.stop();
    await expect(call).rejects.toMatchObject({ kind: "eventual-consistency", code: "InvalidParameterValue" });
    expect(counter.byOperation()).toEqual({ "ec2:AssociateIamInstanceProfile": 1 });
    // After stop, a failure is not retried at all.
    await expect(
      caller.send(
        new AssociateIamInstanceProfileCommand({
          InstanceId: "i-2",
          IamInstanceProfile: { Name: "rolecall-dev" },
        }),
      ),
    ).rejects.toBeInstanceOf(AwsApiError);
    expect(counter.byOperation()).toEqual({ "ec2:AssociateIamInstanceProfile": 2 });
  });
});
