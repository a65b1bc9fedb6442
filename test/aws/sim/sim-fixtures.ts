import { expect } from "vitest";

/** Shared documents and assertions for the simulator's tests. */

export const readPolicy = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::my-dev-bucket/*" }],
};

export const writePolicy = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::my-dev-bucket/*" }],
};

export const ec2Trust = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

export const json = (document: unknown): string => JSON.stringify(document);

export interface ExpectedError {
  readonly name: string;
  readonly Code: string;
  readonly status: number;
  readonly message?: string | RegExp;
}

/** Awaits a call that must fail and checks it fails like an SDK v3 service exception. */
export async function expectAwsError(call: Promise<unknown>, expected: ExpectedError): Promise<void> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught, "the call should have failed").toBeInstanceOf(Error);
  const error = caught as Error & {
    Code?: unknown;
    $metadata?: { httpStatusCode?: number };
    $fault?: unknown;
  };
  expect({ name: error.name, Code: error.Code, status: error.$metadata?.httpStatusCode }).toEqual({
    name: expected.name,
    Code: expected.Code,
    status: expected.status,
  });
  expect(error.$fault).toBe("client");
  if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
}

export const iamErr = (code: string, status: number, message?: string | RegExp): ExpectedError => ({
  name: code === "ValidationError" ? code : `${code}Exception`,
  Code: code,
  status,
  ...(message === undefined ? {} : { message }),
});

export const ec2Err = (code: string, message?: string | RegExp): ExpectedError => ({
  name: code,
  Code: code,
  status: 400,
  ...(message === undefined ? {} : { message }),
});
