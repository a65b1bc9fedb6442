import { EC2ServiceException } from "@aws-sdk/client-ec2";
import {
  ConcurrentModificationException,
  DeleteConflictException,
  EntityAlreadyExistsException,
  EntityTemporarilyUnmodifiableException,
  IAMServiceException,
  LimitExceededException,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  ServiceFailureException,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { AwsApiError, classifyAwsError, type ClassifyContext } from "../../src/aws/aws-error.js";

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode, requestId: "req-1" } });

/** IAM (awsQuery) errors as the SDK builds them: the modelled class, plus the wire code under `Code`. */
function iamError<T extends object>(error: T, code: string): T {
  return Object.assign(error, { Code: code, Type: "Sender" });
}

/** EC2 errors are not modelled: the base ServiceException, named after the wire code. */
function ec2Error(code: string, message: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    $fault: status < 500 ? "client" : "server",
    message,
    ...meta(status),
  });
}

const iam = (operation: string, extra: Partial<ClassifyContext> = {}): ClassifyContext => ({
  service: "iam",
  operation,
  ...extra,
});
const ec2 = (operation: string): ClassifyContext => ({ service: "ec2", operation });

describe("classifyAwsError: IAM exceptions as the SDK throws them", () => {
  it("NoSuchEntity is not-found, with the wire code", () => {
    const error = classifyAwsError(
      iamError(
        new NoSuchEntityException({ message: "The role with name x cannot be found.", ...meta(404) }),
        "NoSuchEntity",
      ),
      iam("GetRole"),
    );
    expect(error).toBeInstanceOf(AwsApiError);
    expect(error).toMatchObject({
      kind: "not-found",
      code: "NoSuchEntity",
      httpStatus: 404,
      service: "iam",
      operation: "GetRole",
    });
  });

  it("NoSuchEntity without the wire code (name only) is still not-found", () => {
    const error = classifyAwsError(
      new NoSuchEntityException({ message: "gone", ...meta(404) }),
      iam("GetRole"),
    );
    expect(error.kind).toBe("not-found");
    expect(error.code).toBe("NoSuchEntityException");
  });

  it("LimitExceeded is terminal, never throttling (SDK v3 would retry it as throttling)", () => {
    const raw = iamError(
      new LimitExceededException({ message: "A managed policy can have up to 5 versions.", ...meta(409) }),
      "LimitExceeded",
    );
    expect(classifyAwsError(raw, iam("CreatePolicyVersion"))).toMatchObject({
      kind: "terminal",
      code: "LimitExceeded",
    });
    // Also when only the class name is there.
    const bare = new LimitExceededException({ message: "Cannot exceed quota", ...meta(409) });
    expect(classifyAwsError(bare, iam("AddRoleToInstanceProfile"))).toMatchObject({
      kind: "terminal",
      code: "LimitExceeded",
    });
  });

  it("EntityAlreadyExists and DeleteConflict are conflicts", () => {
    const exists = iamError(
      new EntityAlreadyExistsException({ message: "Role with name x already exists.", ...meta(409) }),
      "EntityAlreadyExists",
    );
    const conflict = iamError(
      new DeleteConflictException({
        message: "Cannot delete entity, must detach all policies first.",
        ...meta(409),
      }),
      "DeleteConflict",
    );
    expect(classifyAwsError(exists, iam("CreateRole"))).toMatchObject({
      kind: "conflict",
      code: "EntityAlreadyExists",
    });
    expect(classifyAwsError(conflict, iam("DeleteRole"))).toMatchObject({
      kind: "conflict",
      code: "DeleteConflict",
    });
  });

  it("ServiceFailure and ConcurrentModification are transient", () => {
    const failure = iamError(
      new ServiceFailureException({ message: "internal", ...meta(500) }),
      "ServiceFailure",
    );
    const concurrent = iamError(
      new ConcurrentModificationException({ message: "concurrent", ...meta(409) }),
      "ConcurrentModification",
    );
    expect(classifyAwsError(failure, iam("GetRole")).kind).toBe("transient");
    expect(classifyAwsError(concurrent, iam("TagRole")).kind).toBe("transient");
  });

  it("EntityTemporarilyUnmodifiable (a name deleted and re-created moments ago) is transient", () => {
    const raw = iamError(
      new EntityTemporarilyUnmodifiableException({ message: "temporarily unmodifiable", ...meta(409) }),
      "EntityTemporarilyUnmodifiable",
    );
    expect(classifyAwsError(raw, iam("CreateRole"))).toMatchObject({
      kind: "transient",
      code: "EntityTemporarilyUnmodifiable",
    });
  });

  it("IAM Throttling (an unmodelled code) is throttled", () => {
    const raw = new IAMServiceException({
      name: "Throttling",
      $fault: "client",
      message: "Rate exceeded",
      ...meta(400),
    });
    expect(classifyAwsError(raw, iam("GetAccountAuthorizationDetails"))).toMatchObject({
      kind: "throttled",
      code: "Throttling",
    });
  });

  it("malformed input is terminal", () => {
    const raw = iamError(
      new MalformedPolicyDocumentException({ message: "Syntax errors in policy.", ...meta(400) }),
      "MalformedPolicyDocument",
    );
    expect(classifyAwsError(raw, iam("CreatePolicy"))).toMatchObject({
      kind: "terminal",
      code: "MalformedPolicyDocument",
    });
    const denied = new IAMServiceException({
      name: "AccessDenied",
      $fault: "client",
      message: "not authorized",
      ...meta(403),
    });
    expect(classifyAwsError(denied, iam("CreateRole"))).toMatchObject({
      kind: "terminal",
      code: "AccessDenied",
      httpStatus: 403,
    });
  });

  it("dependsOnNewResource turns NoSuchEntity into eventual-consistency, and leaves other codes alone", () => {
    const raw = () =>
      iamError(
        new NoSuchEntityException({ message: "The role with name x cannot be found.", ...meta(404) }),
        "NoSuchEntity",
      );
    expect(classifyAwsError(raw(), iam("AttachRolePolicy", { dependsOnNewResource: true })).kind).toBe(
      "eventual-consistency",
    );
    expect(classifyAwsError(raw(), iam("AttachRolePolicy", { dependsOnNewResource: false })).kind).toBe(
      "not-found",
    );
    const limit = iamError(new LimitExceededException({ message: "quota", ...meta(409) }), "LimitExceeded");
    expect(
      classifyAwsError(limit, iam("AddRoleToInstanceProfile", { dependsOnNewResource: true })).kind,
    ).toBe("terminal");
  });

  it("resource and messages are carried into the AwsApiError", () => {
    const raw = iamError(
      new NoSuchEntityException({ message: "The role with name x cannot be found.", ...meta(404) }),
      "NoSuchEntity",
    );
    const error = classifyAwsError(raw, iam("GetRole")).withResource("role/x");
    expect(error.message).toBe(
      "iam:GetRole on role/x failed: NoSuchEntity: The role with name x cannot be found.",
    );
    expect(error.resource).toBe("role/x");
    expect(error.detail).toBe("The role with name x cannot be found.");
  });
});

describe("classifyAwsError: EC2 errors (plain ServiceException named after the code)", () => {
  it("RequestLimitExceeded is throttled", () => {
    expect(
      classifyAwsError(
        ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503),
        ec2("DescribeInstances"),
      ),
    ).toMatchObject({
      kind: "throttled",
      code: "RequestLimitExceeded",
    });
  });

  it("not-found IDs are not-found", () => {
    expect(
      classifyAwsError(
        ec2Error("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist"),
        ec2("DescribeInstances"),
      ).kind,
    ).toBe("not-found");
    expect(
      classifyAwsError(
        ec2Error("InvalidAssociationID.NotFound", "assoc not found"),
        ec2("DisassociateIamInstanceProfile"),
      ).kind,
    ).toBe("not-found");
  });

  it("an existing association is a conflict; another IncorrectState is terminal", () => {
    const existing = ec2Error(
      "IncorrectState",
      "There is an existing association for instance i-0123456789abcdef0",
    );
    expect(classifyAwsError(existing, ec2("AssociateIamInstanceProfile")).kind).toBe("conflict");
    const other = ec2Error(
      "IncorrectState",
      "The instance 'i-1' is not in a state from which it can be modified",
    );
    expect(classifyAwsError(other, ec2("AssociateIamInstanceProfile")).kind).toBe("terminal");
  });

  it("UnauthorizedOperation is terminal", () => {
    expect(
      classifyAwsError(ec2Error("UnauthorizedOperation", "You are not authorized"), ec2("DescribeInstances"))
        .kind,
    ).toBe("terminal");
  });
});

describe("classifyAwsError: IAM profile propagation to EC2", () => {
  const propagation = [
    [
      "InvalidParameterValue",
      "Value (rolecall-dev) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
    ],
    [
      "InvalidParameterValue",
      "Value (arn:aws:iam::123456789012:instance-profile/rolecall/x) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN",
    ],
    [
      "InvalidParameterValue",
      "Value (rolecall-dev) for parameter iamInstanceProfile.name is invalid. The instance profile rolecall-dev has no associated IAM Roles",
    ],
    ["IncorrectState", "The association could not be completed: InstanceIdentityProfileNotFound"],
  ] as const;

  for (const operation of ["AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation"]) {
    for (const [code, message] of propagation) {
      it(`${operation}: ${code} "${message.slice(-40)}" is eventual-consistency`, () => {
        const error = classifyAwsError(ec2Error(code, message), ec2(operation));
        expect(error.kind).toBe("eventual-consistency");
        expect(error.code).toBe(code);
      });
    }
  }

  for (const [code, message] of propagation) {
    it(`the same ${code} on another operation is not eventual-consistency`, () => {
      const error = classifyAwsError(ec2Error(code, message), ec2("RunInstances"));
      expect(error.kind).toBe("terminal");
    });
  }

  it("another InvalidParameterValue on AssociateIamInstanceProfile is terminal", () => {
    const error = classifyAwsError(
      ec2Error(
        "InvalidParameterValue",
        "Value (x y) for parameter iamInstanceProfile.name is invalid. Only alphanumeric characters allowed",
      ),
      ec2("AssociateIamInstanceProfile"),
    );
    expect(error.kind).toBe("terminal");
  });
});

describe("classifyAwsError: transport failures and unparsed responses", () => {
  it("network errors (code ECONNRESET …) are transient, under the network code", () => {
    for (const code of ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"]) {
      const raw = Object.assign(new Error(`read ${code}`), { code });
      expect(classifyAwsError(raw, ec2("DescribeInstances"))).toMatchObject({
        kind: "transient",
        code,
        httpStatus: undefined,
      });
    }
  });

  it("TimeoutError (the SDK's request timeout) is transient", () => {
    const raw = Object.assign(new Error("Connection timed out after 10000 ms"), { name: "TimeoutError" });
    expect(classifyAwsError(raw, iam("GetRole"))).toMatchObject({ kind: "transient", code: "TimeoutError" });
  });

  it("an aborted request is transient", () => {
    const raw = Object.assign(new Error("Request aborted"), { name: "AbortError" });
    expect(classifyAwsError(raw, iam("GetRole"))).toMatchObject({
      kind: "transient",
      code: "RequestAborted",
    });
  });

  it("a 500 whose body could not be parsed is transient, coded by status", () => {
    const raw = Object.assign(new Error("Unexpected token < in XML"), meta(500));
    expect(raw.name).toBe("Error");
    expect(classifyAwsError(raw, iam("GetAccountAuthorizationDetails"))).toMatchObject({
      kind: "transient",
      code: "HTTP500",
      httpStatus: 500,
    });
  });

  it("a 503 is transient whatever its code; ServiceUnavailable keeps its code", () => {
    const unparsed = Object.assign(new Error("Service Unavailable"), meta(503));
    expect(classifyAwsError(unparsed, ec2("DescribeInstances"))).toMatchObject({
      kind: "transient",
      code: "HTTP503",
    });
    const named = new IAMServiceException({
      name: "ServiceUnavailable",
      $fault: "server",
      message: "unavailable",
      ...meta(503),
    });
    expect(classifyAwsError(named, iam("GetRole"))).toMatchObject({
      kind: "transient",
      code: "ServiceUnavailable",
    });
    const other = new EC2ServiceException({
      name: "Unavailable",
      $fault: "server",
      message: "x",
      ...meta(503),
    });
    expect(classifyAwsError(other, ec2("DescribeInstances")).kind).toBe("transient");
  });

  it("a 429 is throttled", () => {
    const unparsed = Object.assign(new Error("Too Many Requests"), meta(429));
    expect(classifyAwsError(unparsed, iam("GetRole"))).toMatchObject({ kind: "throttled", code: "HTTP429" });
    const named = new IAMServiceException({
      name: "TooManyRequestsException",
      $fault: "client",
      message: "slow down",
      ...meta(429),
    });
    expect(classifyAwsError(named, iam("GetRole")).kind).toBe("throttled");
  });

  it("the SDK's default error, named after the status code, is coded by status", () => {
    // smithy's throwDefaultError names the exception after the status code when the body names nothing.
    const raw = new IAMServiceException({
      name: "500",
      $fault: "client",
      message: "UnknownError",
      ...meta(500),
    });
    expect(classifyAwsError(raw, iam("GetRole"))).toMatchObject({ kind: "transient", code: "HTTP500" });
    const limited = new IAMServiceException({
      name: "429",
      $fault: "client",
      message: "UnknownError",
      ...meta(429),
    });
    expect(classifyAwsError(limited, iam("GetRole"))).toMatchObject({ kind: "throttled", code: "HTTP429" });
  });

  it("a message-only network failure is transient; an unknown plain Error is terminal", () => {
    expect(classifyAwsError(new Error("socket hang up"), iam("GetRole"))).toMatchObject({
      kind: "transient",
      code: "NetworkError",
    });
    expect(classifyAwsError(new Error("something odd"), iam("GetRole"))).toMatchObject({
      kind: "terminal",
      code: "Error",
    });
  });

  it("non-Error throwables do not crash the classifier", () => {
    expect(classifyAwsError(undefined, iam("GetRole"))).toMatchObject({
      kind: "terminal",
      code: "UnknownError",
    });
    expect(classifyAwsError("boom", iam("GetRole"))).toMatchObject({ kind: "terminal", detail: "boom" });
  });

  it("a 4xx client error with an unknown code stays terminal", () => {
    const raw = new IAMServiceException({
      name: "ValidationError",
      $fault: "client",
      message: "bad",
      ...meta(400),
    });
    expect(classifyAwsError(raw, iam("CreateRole")).kind).toBe("terminal");
  });
});
