import { iamError } from "./errors.js";

/**
 * Parameter checks IAM makes before it looks at any resource, with IAM's error codes: missing or malformed
 * parameters are ValidationError (the query front end), bad values in well-formed parameters InvalidInput.
 */

export function required(value: string | undefined, parameter: string): string {
  if (value === undefined || value === "") {
    throw iamError(
      "ValidationError",
      `1 validation error detected: Value null at '${parameter}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

const namePattern = /^[\w+=,.@-]+$/;

/** Role, policy and instance-profile names: 1–64 (roles) or 1–128 characters of [\w+=,.@-]. */
export function validName(value: string | undefined, parameter: string, maxLength: number): string {
  const name = required(value, parameter);
  if (name.length > maxLength) {
    throw iamError(
      "ValidationError",
      `1 validation error detected: Value '${name}' at '${parameter}' failed to satisfy constraint: Member must have length less than or equal to ${maxLength}`,
    );
  }
  if (!namePattern.test(name)) {
    throw iamError(
      "ValidationError",
      `The specified value for ${parameter} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-`,
    );
  }
  return name;
}

/** Role and policy descriptions: up to 1000 characters, absent allowed. */
export function validDescription(value: string | undefined): string | undefined {
  if (value !== undefined && value.length > 1000) {
    throw iamError(
      "ValidationError",
      "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000",
    );
  }
  return value;
}

const pathPattern = /^\/([\x21-\x7e]*\/)?$/;

/** Paths begin and end with "/" and hold printable ASCII; "/" when absent. */
export function validPath(value: string | undefined, parameter = "path"): string {
  if (value === undefined) return "/";
  if (value.length > 512 || !pathPattern.test(value)) {
    throw iamError(
      "ValidationError",
      `The specified value for ${parameter} is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.`,
    );
  }
  return value;
}

/** PathPrefix of listings: begins with "/"; "/" (everything) when absent. */
export function validPathPrefix(value: string | undefined): string {
  if (value === undefined) return "/";
  if (value.length > 512 || !/^\/[\x21-\x7f]*$/.test(value)) {
    throw iamError(
      "ValidationError",
      `1 validation error detected: Value '${value}' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*`,
    );
  }
  return value;
}

/** MaxItems: 1–1000, 100 when absent. */
export function maxItems(value: number | undefined): number {
  if (value === undefined) return 100;
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw iamError(
      "ValidationError",
      `1 validation error detected: Value '${value}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
    );
  }
  return value;
}

export function invalidMarker(): Error {
  return iamError("ValidationError", "Invalid Marker.");
}
