/**
 * Errors shaped like the SDK v3 service exceptions that rolecall's classifier reads (`name`, `Code`, `message`,
 * `$metadata.httpStatusCode`): IAM's modelled errors are named "<Code>Exception", EC2's carry the bare code.
 */
export interface SimServiceError extends Error {
  readonly Code: string;
  readonly $fault: "client" | "server";
  readonly $metadata: {
    readonly httpStatusCode: number;
    readonly attempts: number;
    readonly totalRetryDelay: number;
  };
}

export type IamErrorCode =
  | "NoSuchEntity"
  | "EntityAlreadyExists"
  | "DeleteConflict"
  | "LimitExceeded"
  | "MalformedPolicyDocument"
  | "InvalidInput"
  | "ValidationError"
  | "AccessDenied";

const iamStatus: Record<IamErrorCode, number> = {
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  DeleteConflict: 409,
  LimitExceeded: 409,
  MalformedPolicyDocument: 400,
  InvalidInput: 400,
  ValidationError: 400,
  AccessDenied: 403,
};

/** ValidationError and AccessDenied come from the AWS query front end, not IAM's model: the SDK names them by code. */
const iamUnmodelled = new Set<IamErrorCode>(["ValidationError", "AccessDenied"]);

function serviceError(name: string, code: string, message: string, httpStatusCode: number): SimServiceError {
  return Object.assign(new Error(message), {
    name,
    Code: code,
    $fault: httpStatusCode >= 500 ? ("server" as const) : ("client" as const),
    $metadata: { httpStatusCode, attempts: 1, totalRetryDelay: 0 },
  });
}

export function iamError(code: IamErrorCode, message: string): SimServiceError {
  return serviceError(iamUnmodelled.has(code) ? code : `${code}Exception`, code, message, iamStatus[code]);
}

export type Ec2ErrorCode =
  | "InvalidParameterValue"
  | "InvalidParameterCombination"
  | "MissingParameter"
  | "IncorrectState"
  | "IncorrectInstanceState"
  | "InvalidInstanceID.NotFound"
  | "InvalidInstanceID.Malformed"
  | "InvalidAssociationID.NotFound"
  | "FilterLimitExceeded";

export function ec2Error(code: Ec2ErrorCode, message: string): SimServiceError {
  return serviceError(code, code, message, 400);
}

export function unsupportedOperation(service: string, operation: string): SimServiceError {
  return serviceError(
    "UnsupportedOperation",
    "UnsupportedOperation",
    `${service}:${operation} is not supported by rolecall's simulated AWS`,
    400,
  );
}
