import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetRoleCommand } from "@aws-sdk/client-iam";
import { afterEach, describe, expect, it } from "vitest";
import {
  AwsConfigurationError,
  connectToAws,
  defaultAwsSettings,
  effectiveRequestTimeout,
} from "../../src/aws/aws-clients.js";
import { AwsApiError } from "../../src/aws/aws-error.js";
import { CallCounter } from "../../src/aws/call-observer.js";

describe("effectiveRequestTimeout: a request timeout is always in force", () => {
  it("the configured value wins", () => {
    expect(effectiveRequestTimeout(1500, { ROLECALL_REQUEST_TIMEOUT: "9s" })).toBe(1500);
  });

  it("without one (the CLI passes none today), ROLECALL_REQUEST_TIMEOUT is read as a duration", () => {
    expect(effectiveRequestTimeout(undefined, { ROLECALL_REQUEST_TIMEOUT: "2s" })).toBe(2000);
    expect(effectiveRequestTimeout(Number.NaN, { ROLECALL_REQUEST_TIMEOUT: "750ms" })).toBe(750);
  });

  it("with neither, the default 30 s, never 'no timeout'", () => {
    expect(effectiveRequestTimeout(undefined, {})).toBe(defaultAwsSettings.requestTimeoutMs);
    expect(effectiveRequestTimeout(0, { ROLECALL_REQUEST_TIMEOUT: " " })).toBe(30_000);
  });

  it("a malformed or zero ROLECALL_REQUEST_TIMEOUT is a configuration error, not a silent default", () => {
    expect(() => effectiveRequestTimeout(undefined, { ROLECALL_REQUEST_TIMEOUT: "soon" })).toThrow(
      AwsConfigurationError,
    );
    expect(() => effectiveRequestTimeout(undefined, { ROLECALL_REQUEST_TIMEOUT: "0s" })).toThrow(/positive/);
  });
});

describe("connectToAws: a request that is never answered fails instead of hanging", () => {
  let server: Server | undefined;
  const saved = { ...process.env };

  afterEach(async () => {
    process.env = { ...saved };
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      server = undefined;
    }
  });

  it("the SDK's request timeout throws (transient), so rolecall's retries and passes can go on", async () => {
    let received = 0;
    server = createServer(() => {
      received += 1; // never answers
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
    process.env.AWS_REGION = "us-east-1";
    process.env.AWS_ACCESS_KEY_ID = "test";
    process.env.AWS_SECRET_ACCESS_KEY = "test";
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    const connection = await connectToAws(
      {
        ...defaultAwsSettings,
        requestTimeoutMs: 300,
        retry: { ...defaultAwsSettings.retry, maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      },
      new CallCounter(),
    );
    const error = await connection.iam
      .send(new GetRoleCommand({ RoleName: "r" }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsApiError);
    expect(error).toMatchObject({ kind: "transient" });
    expect((error as AwsApiError).code).toMatch(/TimeoutError|ETIMEDOUT/);
    // Both attempts reached the server and were abandoned by the client.
    expect(received).toBe(2);
  }, 10_000);
});
