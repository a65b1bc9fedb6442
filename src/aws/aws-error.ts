/**
 * How rolecall reacts to a failed AWS call:
 * - not-found: the resource is absent (a delete of something absent has succeeded);
 * - throttled / transient: retry with backoff (throttling also slows every worker down);
 * - eventual-consistency: IAM has not yet propagated something just created; retry for a bounded time;
 * - conflict: AWS state differs from what was assumed; re-read and decide again;
 * - terminal: retrying cannot help (permissions, quotas, malformed input); report it;
 * - not-leader: never sent, because this process does not hold the lease (leader election); another process
 *   makes the changes, and this one tries again only once it leads.
 */
export type AwsErrorKind =
  "not-found" | "throttled" | "transient" | "eventual-consistency" | "conflict" | "terminal" | "not-leader";

export type AwsService = "iam" | "ec2" | "sts" | "dynamodb" | "sqs";

export class AwsApiError extends Error {
  constructor(
    readonly service: AwsService,
    readonly operation: string,
    readonly code: string,
    readonly kind: AwsErrorKind,
    readonly httpStatus: number | undefined,
    readonly detail: string,
    readonly resource?: string,
  ) {
    super(
      `${service}:${operation}${resource === undefined ? "" : ` on ${resource}`} failed: ${code}: ${detail}`,
    );
    this.name = "AwsApiError";
  }

  withResource(resource: string): AwsApiError {
    return new AwsApiError(
      this.service,
      this.operation,
      this.code,
      this.kind,
      this.httpStatus,
      this.detail,
      resource,
    );
  }
}

const notFound = new Set([
  "NoSuchEntity",
  "NoSuchEntityException",
  "InvalidInstanceID.NotFound",
  "InvalidAssociationID.NotFound",
  // SQS: the instance-events queue is gone (the JSON protocol's name, and the query protocol's code).
  "QueueDoesNotExist",
  "AWS.SimpleQueueService.NonExistentQueue",
]);

const throttling = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "SlowDown",
  "PriorRequestNotComplete",
  "EC2ThrottledException",
  // DynamoDB (the lease table): on-demand tables throttle too, past their burst.
  "ProvisionedThroughputExceededException",
]);

const transient = new Set([
  "InternalFailure",
  "InternalError",
  "InternalServerError",
  "ServiceFailure",
  "ServiceFailureException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "Unavailable",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "ConcurrentModification",
  "ConcurrentModificationException",
  // IAM: a name deleted and re-created moments ago is briefly unmodifiable.
  "EntityTemporarilyUnmodifiable",
  "EntityTemporarilyUnmodifiableException",
  "IDPCommunicationError",
]);

const networkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

const conflicts = new Set([
  "EntityAlreadyExists",
  "EntityAlreadyExistsException",
  "DeleteConflict",
  "DeleteConflictException",
]);

/** IAM's just-created profile or role, not yet visible to EC2: the documented messages of that state. */
const profilePropagationMessage =
  /Invalid IAM Instance Profile (name|ARN)|has no associated IAM Roles|InstanceIdentityProfileNotFound|Instance profile .* not found/i;

export interface ClassifyContext {
  readonly service: AwsService;
  readonly operation: string;
  /** The call depends on something created moments ago (IAM propagation applies). */
  readonly dependsOnNewResource?: boolean;
}

/** Maps any error thrown by an SDK call to rolecall's error kinds, with a stable code. */
export function classifyAwsError(error: unknown, context: ClassifyContext): AwsApiError {
  const { service, operation } = context;
  const record = (error ?? {}) as {
    name?: unknown;
    Code?: unknown;
    code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: number };
    $response?: { statusCode?: number };
  };
  const httpStatus = record.$metadata?.httpStatusCode ?? record.$response?.statusCode;
  const networkCode = typeof record.code === "string" ? record.code : undefined;
  let code =
    typeof record.Code === "string"
      ? record.Code
      : typeof record.name === "string"
        ? record.name
        : "UnknownError";
  if (networkCode !== undefined && networkCodes.has(networkCode)) code = networkCode;
  const message = typeof record.message === "string" ? record.message.slice(0, 500) : String(error);

  const make = (kind: AwsErrorKind, finalCode = code) =>
    new AwsApiError(service, operation, finalCode, kind, httpStatus, message);

  if (throttling.has(code)) return make("throttled");
  if (isProfilePropagation(code, message, operation)) return make("eventual-consistency");
  if (notFound.has(code)) {
    // Right after creating something, IAM may still say it does not exist.
    return make(context.dependsOnNewResource === true ? "eventual-consistency" : "not-found");
  }
  // A 404 whose body names no code (proxies, some emulator paths) still means the resource is absent.
  if (httpStatus === 404 && /^(NotFound|UnknownError|Error|HTTP404|404)$/.test(code))
    return make("not-found", "NotFound");
  if (conflicts.has(code)) return make("conflict");
  if (code === "IncorrectState" && /existing association/i.test(message)) return make("conflict");
  // SDK v3 treats IAM's LimitExceeded as throttling; it is a quota (policy size, version count, roles per profile).
  if (code === "LimitExceeded" || code === "LimitExceededException") return make("terminal", "LimitExceeded");
  if (transient.has(code) || (networkCode !== undefined && networkCodes.has(networkCode)))
    return make("transient");
  if (code === "AbortError" || code === "RequestAbortedError") return make("transient", "RequestAborted");
  // No code from the body: a generic Error, or smithy's default error named after the status ("500").
  const unnamed = code === "Error" || code === "UnknownError" || code === "Unknown" || /^\d{3}$/.test(code);
  if (httpStatus !== undefined && httpStatus >= 500) {
    // A 5xx whose body the SDK could not even parse (proxies, emulators) still says "try again".
    return make("transient", unnamed ? `HTTP${httpStatus}` : code);
  }
  if (httpStatus === 429) return make("throttled", unnamed ? "HTTP429" : code);
  if (httpStatus === undefined && unnamed && /socket|network|connect|timeout|hang up/i.test(message)) {
    return make("transient", "NetworkError");
  }
  return make("terminal");
}

function isProfilePropagation(code: string, message: string, operation: string): boolean {
  if (operation !== "AssociateIamInstanceProfile" && operation !== "ReplaceIamInstanceProfileAssociation")
    return false;
  return (
    ((code === "InvalidParameterValue" || code === "IncorrectState" || code === "NoSuchEntity") &&
      profilePropagationMessage.test(message)) ||
    /InstanceIdentityProfileNotFound/.test(message)
  );
}
