import { ec2Error } from "./errors.js";
import { isInstanceId } from "./ec2-store.js";

/** Parameter checks EC2 makes before it looks at any resource. */

export function requiredParameter<T>(value: T | undefined, parameter: string): T {
  if (value === undefined || value === "")
    throw ec2Error("MissingParameter", `The request must contain the parameter ${parameter}`);
  return value;
}

export function wellFormedInstanceId(id: string): string {
  if (!isInstanceId(id)) throw ec2Error("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
  return id;
}

/** MaxResults of describe calls: 5–1000; undefined (everything in one page) when absent. */
export function maxResults(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 5 || value > 1000) {
    throw ec2Error(
      "InvalidParameterValue",
      `Value ( ${value} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
    );
  }
  return value;
}

export function invalidNextToken(): Error {
  return ec2Error("InvalidParameterValue", "The parameter NextToken is not valid");
}
