import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./log-levels.js";

export type { Logger } from "pino";

export { logLevels, type LogLevel } from "./log-levels.js";

const secretVariables = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "ROLECALL_STATUS_TOKEN",
];

/** Field paths that may carry secrets; pino replaces their values before a line is written. */
export const redactedPaths = [
  "accessKeyId",
  "secretAccessKey",
  "sessionToken",
  "credentials",
  "authorization",
  "token",
  "*.accessKeyId",
  "*.secretAccessKey",
  "*.sessionToken",
  "*.credentials",
  "*.authorization",
  "*.token",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  // An SDK client's config holds its credentials one level further down; a signed request carries them in headers.
  "*.*.credentials",
  "*.headers.authorization",
  "*.headers.cookie",
  'headers["x-amz-security-token"]',
  '*.headers["x-amz-security-token"]',
  // The daemon's own options, and the environment variables the secrets come from.
  "statusToken",
  "*.statusToken",
  ...secretVariables,
  ...secretVariables.map((name) => `*.${name}`),
];

/** The one root logger: JSON lines, secrets redacted; components take children of it. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "rolecall" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactedPaths, censor: "[REDACTED]" },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
